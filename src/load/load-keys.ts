import { createPublicKey } from 'node:crypto';
import { IndexError } from '../errors.js';
import type { TrustedKey } from '../decode/signature.js';
import { openSource, type OpenOptions } from '../source/open.js';
import { redactUrl, toUrl } from '../source/locations.js';

const MAX_KEY_BYTES = 64 * 1024;

/** The name apk matches signatures against: the key's file name (`wolfi-signing.rsa.pub`). */
export function keyNameOf(location: string): string {
  const path = new URL(toUrl(location)).pathname;
  return decodeURIComponent(path.slice(path.lastIndexOf('/') + 1));
}

/** Loads a PEM public key from a path or URL. */
export async function loadTrustedKey(
  location: string,
  options: Pick<OpenOptions, 'headers' | 'timeoutMs' | 'signal'> = {},
): Promise<TrustedKey> {
  const shown = redactUrl(toUrl(location));
  const tooLarge = () => new IndexError(shown, 'key', `larger than ${MAX_KEY_BYTES} bytes, not a public key`);
  const opened = await openSource(location, { ...options, maxBytes: MAX_KEY_BYTES }).catch((err: unknown) => {
    throw err instanceof IndexError && err.reason === 'limit' ? tooLarge() : err;
  });
  if (opened.notModified) throw new IndexError(shown, 'key', 'unexpected 304 for a key');
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of opened.body) {
    size += chunk.length;
    if (size > MAX_KEY_BYTES) throw tooLarge();
    parts.push(chunk);
  }
  return parseTrustedKey(keyNameOf(location), Buffer.concat(parts), shown);
}

export function parseTrustedKey(name: string, pem: Buffer | string, origin: string): TrustedKey {
  try {
    const key = createPublicKey({ key: pem, format: 'pem' });
    if (key.asymmetricKeyType !== 'rsa') throw new Error(`a ${key.asymmetricKeyType} key; apk signatures are RSA`);
    return { name, key, origin };
  } catch (err) {
    throw new IndexError(origin, 'key', `not a usable RSA public key in PEM form (${(err as Error).message})`, {
      cause: err,
    });
  }
}

export async function loadTrustedKeys(
  locations: readonly string[],
  options?: Pick<OpenOptions, 'headers' | 'timeoutMs' | 'signal'>,
): Promise<TrustedKey[]> {
  return Promise.all(locations.map((l) => loadTrustedKey(l, options)));
}
