import type { FileConstraint } from '../apko/tree.js';
import { operatorFlags } from '../dockerfile/apk-add.js';
import type { DockerfilePackage } from '../dockerfile/dockerfile.js';
import { checkItem, type CheckContext, type CheckedItem, type Finding } from './check.js';
import { describeWord, packageKind } from './dockerfile-pins.js';
import { packageScope, type ScopedDockerfile } from './dockerfile-tree.js';
import { satisfiesFlags } from '../resolve/constraint.js';
import type { Operator } from '../apko/package-spec.js';

/**
 * Findings for the `RUN apk add` packages of one Dockerfile, each judged like an apko entry for the one image its
 * stage builds on (its repositories, its arches): a pin missing on an arch or stale, a constraint nothing
 * satisfies, a name no repository holds, and whether Renovate keeps the pin fresh. A stage whose image is not
 * known makes its packages "not checked"; a version in a build argument is not checked either.
 */
export async function checkDockerfile(d: ScopedDockerfile, ctx: CheckContext): Promise<Finding[]> {
  const findings: Finding[] = [];
  for (const p of d.file.packages) {
    const at = (severity: Finding['severity'], message: string): Finding => ({
      severity,
      location: `${d.file.path}:${p.line}`,
      subject: describeWord(p),
      message,
    });
    const kind = packageKind(p);
    if (kind === 'variable') {
      findings.push(at('warning', `not pinned: the version is ${p.version}, a build argument; not checked`));
      continue;
    }
    if (kind === 'invalid') {
      findings.push(at('error', `apk refuses it: ${p.operator}${p.version} is no operator and version apk reads`));
      continue;
    }
    const scope = packageScope(d, p.stage);
    if ('notChecked' in scope) {
      // A known base whose repositories were not given had no data: "not checked" for the gate, as an apko entry.
      const lacking = scope.lacking ?? [];
      findings.push({
        ...at('warning', `not checked: ${scope.notChecked}`),
        ...(lacking.length > 0 && { unchecked: lacking, cause: `not checked: no data for ${lacking.join(', ')}` }),
      });
      continue;
    }
    if (p.tag !== undefined && scope.from !== 'image') {
      findings.push(
        at(
          'warning',
          `not checked: @${p.tag} names a tagged repository of the image's /etc/apk/repositories, known only for images of the tree`,
        ),
      );
      continue;
    }
    const image = scope.constraint;
    const constraint: FileConstraint = {
      file: d.file.path,
      images: [image],
      arches: image.arches,
      repositories: image.repositories,
    };
    findings.push(...(await checkItem(dockerItem(d.file.path, p), constraint, ctx)));
  }
  return findings;
}

function dockerItem(file: string, p: DockerfilePackage): CheckedItem {
  const kind = packageKind(p);
  const flags = p.operator === undefined ? undefined : operatorFlags(p.operator);
  return {
    file,
    line: p.line,
    entry: describeWord(p),
    spec: {
      name: p.name,
      tag: p.tag,
      operator: kind === 'pin' ? '=' : (p.operator as Operator | undefined),
      version: p.version,
      conflict: false,
    },
    span: p.span,
    ...(kind === 'constraint' && flags !== undefined && { fits: (v: string) => satisfiesFlags(v, flags, p.version!) }),
    unpinned: 'unpinned: apk add takes the newest version at build time',
  };
}
