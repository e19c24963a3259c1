import { createVerify, type KeyObject, type Verify } from 'node:crypto';

/** A public key apk would find in /etc/apk/keys: matched to signatures by its file name. */
export interface TrustedKey {
  name: string;
  key: KeyObject;
  /** Where the key was loaded from, for status pages and errors. */
  origin: string;
}

export interface SignatureEntry {
  keyName: string;
  digest: 'sha1' | 'sha256' | 'sha512';
  signature: Buffer;
}

const PREFIXES: ReadonlyArray<readonly [string, SignatureEntry['digest']]> = [
  ['.SIGN.RSA256.', 'sha256'],
  ['.SIGN.RSA512.', 'sha512'],
  ['.SIGN.RSA.', 'sha1'],
];

/** `.SIGN.RSA.<key>` signs with SHA-1, `.SIGN.RSA256.<key>` with SHA-256 (apk-tools' naming). */
export function parseSignatureName(fileName: string): Omit<SignatureEntry, 'signature'> | undefined {
  for (const [prefix, digest] of PREFIXES) {
    if (fileName.startsWith(prefix) && fileName.length > prefix.length) {
      return { keyName: fileName.slice(prefix.length), digest };
    }
  }
  return undefined;
}

export type Verdict = { ok: true; verifiedBy: string | undefined } | { ok: false; error: string };

/**
 * Checks the signatures against the signed bytes as they stream past (the compressed bytes from the first member
 * after the signature members to the end of the file).
 * One valid signature by a trusted key is enough, as in apk; with no trusted keys nothing is checked.
 */
export class SignatureCheck {
  private readonly candidates: Array<{ entry: SignatureEntry; key: TrustedKey; verify: Verify }> = [];

  constructor(
    private readonly signatures: readonly SignatureEntry[],
    private readonly keys: readonly TrustedKey[],
  ) {
    for (const entry of signatures) {
      const key = keys.find((k) => k.name === entry.keyName);
      if (key) this.candidates.push({ entry, key, verify: createVerify(entry.digest) });
    }
  }

  update(signedBytes: Buffer): void {
    for (const c of this.candidates) c.verify.update(signedBytes);
  }

  /**
   * Why no signature can verify the index, known before any signed byte is read: it is unsigned, or signed only by
   * keys not trusted. Undefined when a signature by a trusted key is there to check (or no keys are configured).
   */
  refusal(): string | undefined {
    if (this.keys.length === 0) return undefined;
    if (this.signatures.length === 0) return 'index is not signed, but trusted keys are configured';
    if (this.candidates.length > 0) return undefined;
    const signedBy = this.signatures.map((s) => s.keyName).join(', ');
    const trusted = this.keys.map((k) => k.name).join(', ');
    return `signed by ${signedBy}, none of which is a trusted key (trusted: ${trusted})`;
  }

  verdict(): Verdict {
    if (this.keys.length === 0) return { ok: true, verifiedBy: undefined };
    const refusal = this.refusal();
    if (refusal !== undefined) return { ok: false, error: refusal };
    const failed: string[] = [];
    for (const c of this.candidates) {
      let valid = false;
      try {
        valid = c.verify.verify(c.key.key, c.entry.signature);
      } catch {
        valid = false; // a malformed signature blob is a bad signature, not a crash
      }
      if (valid) return { ok: true, verifiedBy: c.key.name };
      failed.push(c.key.name);
    }
    return {
      ok: false,
      error: `signature by ${failed.join(', ')} does not match the index (tampered, or signed by another key of that name)`,
    };
  }
}
