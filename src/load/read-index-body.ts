import { readIndexArchive, type ApkIndexSink } from '../decode/index-archive.js';
import type { HeldBytes } from '../decode/byte-reader.js';
import type { TrustedKey } from '../decode/signature.js';
import { IndexError } from '../errors.js';
import { ApkIndexParser } from '../parse/apkindex-parser.js';
import { RecordError } from '../parse/record-error.js';
import type { ReadLimits } from '../parse/limits.js';
import { redactUrl, type IndexLocation } from '../source/locations.js';
import { SnapshotBuilder, type IndexSnapshot } from '../index/snapshot.js';

export interface ReadBodyOptions {
  keys: readonly TrustedKey[];
  limits: ReadLimits;
  allowForeignArch?: boolean | undefined;
  also?: ApkIndexSink | undefined;
  held?: HeldBytes | undefined;
  /** Called when the read ends before the body does (off the main thread), to stop the download behind it. */
  cancel?: (() => void) | undefined;
}

export interface ReadBodyResult {
  snapshot: IndexSnapshot;
  /** The verified file's bytes, in the chunks they arrived in (only with trusted keys). */
  archive: readonly Buffer[] | undefined;
}

/** Decodes an already opened index body; used for HTTP, files and in-memory fixtures alike. */
export async function readIndexBody(
  body: AsyncIterable<Buffer>,
  location: IndexLocation,
  options: ReadBodyOptions,
): Promise<ReadBodyResult> {
  const shown = redactUrl(location.url);
  const builder = new SnapshotBuilder();
  // An index under `<base>/<arch>/` holds that arch's packages (and noarch ones); anything else is mislabelled.
  const arch = options.allowForeignArch ? undefined : location.arch;
  const parser = new ApkIndexParser(options.limits, builder, { ...(arch !== undefined && { arch }) });
  const result = await readIndexArchive(body, {
    source: shown,
    keys: options.keys,
    limits: options.limits,
    ...(options.held && { held: options.held }),
    sink: {
      data: (chunk) => {
        parsing(shown, () => parser.push(chunk));
        options.also?.data(chunk);
      },
      end: () => {
        parsing(shown, () => parser.end());
        options.also?.end();
      },
    },
  });
  const snapshot = builder.finish({
    url: shown,
    arch: location.arch ?? builder.firstArch ?? 'noarch',
    repository: location.repository,
    description: result.description,
    verifiedBy: result.verdict.verifiedBy,
  });
  return { snapshot, archive: result.archive };
}

/** The parser's complaints about records and lines become IndexErrors naming the source and the APKINDEX member. */
function parsing(source: string, step: () => void): void {
  try {
    step();
  } catch (err) {
    if (err instanceof RecordError) throw new IndexError(source, err.kind, `APKINDEX ${err.message}`, { cause: err });
    throw err;
  }
}
