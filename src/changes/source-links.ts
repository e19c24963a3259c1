import { httpUrl } from '../core/links.js';

/**
 * Links from a record's recipe commit (`c:`) to its source, from a repository's `sourceUrl` template such as
 * `https://github.com/wolfi-dev/os/blob/{{commit}}/{{origin}}.yaml`. Values are upstream data: each is
 * percent-encoded as one path segment, so a hostile origin cannot leave its place in the URL.
 */
export function sourceLink(
  template: string | undefined,
  fields: { commit?: string; origin?: string; name: string; version: string },
): string | undefined {
  if (!template || !fields.commit || !/^[0-9a-f]{7,64}$/i.test(fields.commit)) return undefined;
  const values = new Map<string, string | undefined>([
    ['commit', fields.commit],
    ['origin', fields.origin ?? fields.name],
    ['name', fields.name],
    ['version', fields.version],
  ]);
  // Only an http(s) link leaves the service, whatever the template says.
  return httpUrl(
    template.replace(/\{\{\s*(\w+)\s*\}\}/g, (_m, key: string) => encodeURIComponent(values.get(key) ?? '')),
  );
}

/**
 * A compare view between two commits, for forges whose file links read `<repo>/blob/<commit>/...` (GitHub,
 * Gitea, Forgejo) or `<repo>/-/blob/<commit>/...` (GitLab): all of them show `<repo>/compare/<a>...<b>`.
 */
export function compareLink(
  template: string | undefined,
  from: string | undefined,
  to: string | undefined,
): string | undefined {
  if (!template || !from || !to || from === to) return undefined;
  if (![from, to].every((c) => /^[0-9a-f]{7,64}$/i.test(c))) return undefined;
  const m = /^(https?:\/\/[^{}]+?)\/(-\/)?blob\/\{\{\s*commit\s*\}\}\//.exec(template);
  if (!m) return undefined;
  return `${m[1]}/${m[2] ?? ''}compare/${from}...${to}`;
}
