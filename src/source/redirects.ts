import { request, type Dispatcher } from 'undici';
import { IndexError } from '../errors.js';
import { redactUrl, sameOrigin } from './locations.js';

/** Redirects followed for one download, as undici's redirect interceptor allowed before. */
export const MAX_REDIRECTS = 5;

/** The statuses undici's redirect handler follows when they carry a Location. */
const REDIRECTS = new Set([300, 301, 302, 303, 307, 308]);

/** Request headers that carry credentials: they go to the origin they were given for, never through a redirect. */
const CREDENTIALS = new Set(['authorization', 'cookie', 'proxy-authorization']);

type GetOptions = Omit<Dispatcher.RequestOptions, 'origin' | 'path' | 'method'> & {
  headers: Record<string, string>;
  dispatcher: Dispatcher;
};

/**
 * GET `url`, following redirects by our rules: http and https only, at most MAX_REDIRECTS, never the same URL twice,
 * and credentials dropped at the first hop to another origin. A redirect broken by those rules is an IndexError
 * of reason `redirect` naming `shown`: a permanent failure, like a 404, that a retry soon will not fix. Network
 * errors are thrown as undici throws them.
 */
export async function getFollowingRedirects(
  url: string,
  shown: string,
  options: GetOptions,
): Promise<Dispatcher.ResponseData> {
  const seen = new Set([url]);
  let current = url;
  let headers = options.headers;
  for (let followed = 0; ; followed++) {
    const response = await request(current, { ...options, method: 'GET', headers });
    const location = REDIRECTS.has(response.statusCode) ? firstOf(response.headers.location) : undefined;
    if (location === undefined) return response;
    await response.body.dump().catch(() => undefined);
    const said = `HTTP ${response.statusCode}`;
    let next: URL;
    try {
      next = new URL(location, current);
      next.hash = '';
    } catch {
      throw new IndexError(shown, 'redirect', `${said} to a Location that is not a URL`);
    }
    const to = redactUrl(next.href);
    if (next.protocol !== 'http:' && next.protocol !== 'https:')
      throw new IndexError(shown, 'redirect', `${said} to ${to} refused: only http and https redirects are followed`);
    if (seen.has(next.href)) throw new IndexError(shown, 'redirect', `redirect loop: ${said} back to ${to}`);
    if (followed === MAX_REDIRECTS)
      throw new IndexError(shown, 'redirect', `more than ${MAX_REDIRECTS} redirects (the last: ${said} to ${to})`);
    if (!sameOrigin(next.href, current)) headers = withoutCredentials(headers);
    seen.add(next.href);
    current = next.href;
  }
}

function withoutCredentials(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !CREDENTIALS.has(name.toLowerCase())));
}

function firstOf(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
