import { Readable } from 'node:stream';
import type { FastifyBaseLogger } from 'fastify';
import type { RepositorySettings } from '../config/settings.js';
import type { TrustedKey } from '../decode/signature.js';
import { IndexError } from '../errors.js';
import { readIndexBodyOffThread } from '../load/load-index.js';
import { readSavedIndex, removeStaleTempFiles, savedIndexPath, writeSavedIndex } from '../index/saved-index.js';
import type { IndexSnapshot } from '../index/snapshot.js';
import type { ReadLimits } from '../parse/limits.js';
import { parseTrustedKey } from '../load/load-keys.js';
import { redactUrl, toUrl, type IndexLocation } from '../source/locations.js';
import type { KeyCache } from './key-cache.js';
import type { RepositorySource } from './sources.js';

/** One configured index, as the state directory keeps it. */
export interface KeptIndex {
  readonly location: IndexLocation;
  readonly repository: RepositorySettings;
  readonly source: RepositorySource;
  readonly shown: string;
}

/** A saved index that verified: served at once, and the first refresh is conditional on its validators. */
export interface RestoredIndex {
  snapshot: IndexSnapshot;
  etag: string | undefined;
  lastModified: string | undefined;
  savedAt: number | undefined;
}

export interface SavedIndexesOptions {
  log: FastifyBaseLogger;
  limits: ReadLimits;
  keys: KeyCache;
  /** For key loads outside a refresh: aborts at shutdown and after refreshTimeout. */
  keySignal: () => AbortSignal;
}

/**
 * The service's state directory (`stateDir`): the last verified index of each configured index, kept so that a
 * restart serves at once, after verifying it again as a download is verified. Nothing here fails the service:
 * whatever is wrong with a saved file, or with writing one, is one warning and the file is not served.
 */
export class SavedIndexes {
  constructor(
    private readonly dir: string,
    private readonly options: SavedIndexesOptions,
  ) {}

  /** Removes the temporary files of writes a crash cut short (before this start), of our own naming only. */
  async removeStaleTempFiles(startedAt: number): Promise<void> {
    try {
      const removed = await removeStaleTempFiles(this.dir, startedAt);
      if (removed.length > 0)
        this.options.log.info(
          { stateDir: this.dir, removed },
          `removed ${removed.length} temporary file(s) left by an earlier run`,
        );
    } catch (err) {
      this.options.log.warn({ stateDir: this.dir }, `could not remove old temporary files: ${messageOf(err)}`);
    }
  }

  /** The saved index of `t` if it verifies; anything wrong with it is one warning, and it is not served. */
  async restore(t: KeptIndex): Promise<RestoredIndex | undefined> {
    const path = savedIndexPath(this.dir, t.location.repository, t.shown);
    try {
      const saved = await readSavedIndex(this.dir, t.location.repository, t.shown);
      if (saved === undefined) return undefined;
      const keys = await this.options.keys.get(t.source, this.options.keySignal()).catch((err: unknown) => {
        // An outage takes key URLs with it: the keys saved with the index, for locations still configured, stand in.
        const configured = new Set(t.repository.keys.map((k) => redactUrl(toUrl(k))));
        const kept = saved.keys.filter((k) => configured.has(k.origin));
        if (kept.length < configured.size) throw err;
        this.options.log.warn(
          { index: t.shown },
          `keys not loaded (${messageOf(err)}); verifying the saved index with the keys saved beside it`,
        );
        return kept.map((k) => parseTrustedKey(k.name, k.pem, k.origin));
      });
      if (keys.length === 0) throw new IndexError(t.shown, 'key', 'no trusted keys are configured to verify it with');
      const { snapshot } = await readIndexBodyOffThread(Readable.from([saved.archive]), t.location, {
        keys,
        limits: this.options.limits,
        allowForeignArch: t.repository.allowForeignArch,
      });
      this.options.log.info(
        { index: t.shown, records: snapshot.records, verifiedBy: snapshot.verifiedBy, savedAt: saved.savedAt },
        'index restored from the state directory',
      );
      return {
        snapshot,
        etag: saved.etag,
        lastModified: saved.lastModified,
        savedAt: Date.parse(saved.savedAt) || undefined,
      };
    } catch (err) {
      this.options.log.warn({ index: t.shown, path }, `saved index ignored, not served: ${messageOf(err)}`);
      return undefined;
    }
  }

  /** Keeps a verified index for the next start; a failure to write is a warning, never a failed refresh. */
  async save(
    t: KeptIndex,
    archive: readonly Buffer[],
    etag: string | undefined,
    lastModified: string | undefined,
  ): Promise<void> {
    try {
      const keys = (await this.options.keys.get(t.source, this.options.keySignal())).map((k: TrustedKey) => ({
        origin: k.origin,
        name: k.name,
        pem: k.key.export({ type: 'spki', format: 'pem' }).toString(),
      }));
      await writeSavedIndex(this.dir, {
        repository: t.location.repository,
        url: t.shown,
        etag,
        lastModified,
        keys,
        archive,
      });
    } catch (err) {
      this.options.log.warn(
        { index: t.shown, stateDir: this.dir },
        `could not keep the index in the state directory: ${messageOf(err)}`,
      );
    }
  }
}

function messageOf(err: unknown): string {
  return (err as Error)?.message ?? String(err);
}
