import type { MelangeRecipe, MelangeStep } from '../../schemas/melange-recipe.js';
import { UsageError } from '../errors.js';

/** Where the build environment's packages come from: the same repositories and keys as the images. */
export interface MelangeEnvironment {
  repositories: readonly string[];
  keyring: readonly string[];
}

export function environment(env: MelangeEnvironment): MelangeRecipe['environment'] {
  // busybox gives the pipeline its shell, mkdir, cat, cp and chmod.
  return { contents: { repositories: [...env.repositories], keyring: [...env.keyring], packages: ['busybox'] } };
}

/** Packages built from files in this repository have nothing upstream for melange's updater to watch. */
export function localUpdate(what: string): MelangeRecipe['update'] {
  return { enabled: false, 'exclude-reason': `${what} from this repository: bump package.version when they change` };
}

/**
 * A pipeline step writing one file with fixed content and mode. The quoted heredoc keeps the shell from
 * expanding anything in it; melange only substitutes `${{...}}`, which the content must not contain.
 */
export function fileStep(path: string, mode: string, content: string): MelangeStep {
  if (!/^\/[^\s'"$`\\]+$/.test(path)) throw new UsageError(`unsafe path for a generated file: ${path}`);
  if (!/^0[0-7]{3}$/.test(mode)) throw new UsageError(`not an octal file mode: ${mode}`);
  if (content.includes('${{')) throw new UsageError(`${path}: content must not contain melange substitutions`);
  const body = content.endsWith('\n') ? content : `${content}\n`;
  if (body.split('\n').includes('EOF')) throw new UsageError(`${path}: content must not contain an EOF line`);
  const dir = path.slice(0, path.lastIndexOf('/')) || '/';
  const target = `"\${{targets.destdir}}${path}"`;
  return {
    name: path,
    runs: [
      `mkdir -p "\${{targets.destdir}}${dir}"`,
      `cat > ${target} <<'EOF'`,
      body + 'EOF',
      `chmod ${mode} ${target}`,
      '',
    ].join('\n'),
  };
}
