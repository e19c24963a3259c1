/** A record or line the parser cannot accept; the caller adds the source's name. */
export class RecordError extends Error {
  constructor(
    readonly kind: 'format' | 'limit',
    message: string,
  ) {
    super(message);
  }
}
