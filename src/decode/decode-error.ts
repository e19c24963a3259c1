/** Why the bytes of an APKINDEX.tar.gz cannot be decoded; readIndexArchive adds the source's name. */
export class DecodeError extends Error {
  constructor(
    readonly reason: 'gzip' | 'tar' | 'format' | 'limit' | 'signature',
    message: string,
  ) {
    super(message);
  }
}
