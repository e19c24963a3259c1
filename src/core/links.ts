/**
 * The one rule for links that leave the service (datasource JSON, pages, changes): an absolute http: or https: URL,
 * written without spaces or control characters, or nothing. Upstream fields such as `U:` are free text, and a
 * `javascript:` or `data:` URL would reach a merge request (Renovate shows `homepage`) or a reviewer's browser.
 */
export function httpUrl(value: string | undefined): string | undefined {
  if (!value || !/^https?:\/\/[^\s\x00-\x1f\x7f]+$/i.test(value) || !URL.canParse(value)) return undefined;
  return value;
}
