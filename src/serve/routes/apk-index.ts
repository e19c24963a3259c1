import { createGzip } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import type { RepositorySettings } from '../../config/settings.js';
import { tarPadding } from '../../decode/tar-block.js';
import { TAR_END, tarFile, tarHeader } from '../../decode/tar-writer.js';
import { synthesizedIndex } from '../../index/synthesized-index.js';
import type { IndexSnapshot } from '../../index/snapshot.js';
import { answer, type Answer } from '../answer-cache.js';
import { sendAnswer, textAnswer, withLoadedMap } from '../answers.js';
import { listed } from '../query-filter.js';
import type { IndexStore } from '../store.js';

/** The arch that asks for versions present on every configured arch of the repository. */
export const ALL_ARCHES = 'all';

export interface ApkIndexOptions {
  store: IndexStore;
  repositories: readonly RepositorySettings[];
  firstLoadTimeoutMs: number;
}

/** What one synthesized index was built from: the same snapshots (by identity) give the same answer. */
interface Built {
  from: readonly IndexSnapshot[];
  answer: Promise<Answer>;
}

/**
 * `GET /-/apk/<repository>/<arch>/APKINDEX.tar.gz`: an APKINDEX made from the repository's loaded indexes, for
 * Renovate's own `apk` datasource (registry URL `http://apk-indexer:3000/-/apk/wolfi?arch=all`, which it reads as
 * `.../-/apk/wolfi/all/APKINDEX.tar.gz`). `<arch>` is one of the repository's arches, or `all` for versions present
 * on every one of them. Provided names have records of their own, `t:` is kept (release ages). Built once per
 * (repository, arch) and kept until one of its indexes changes; names are written in slices that yield to other
 * requests (about every 10 ms). ETag and 304 as every answer; an unknown repository or arch is a 404, never a 5xx.
 * Before the indexes it reads have loaded, it waits and answers 503 as every answer does (withLoadedMap), so an
 * index that failed its first load is never answered as one without versions.
 */
export async function apkIndexRoutes(app: FastifyInstance, opts: ApkIndexOptions): Promise<void> {
  const { store, repositories, firstLoadTimeoutMs } = opts;
  const built = new Map<string, Built>();
  app.get<{ Params: { '*': string } }>(
    '/-/apk/*',
    { schema: { params: { type: 'object', properties: { '*': { type: 'string' } } } } },
    function synthesizedApkIndex(request, reply) {
      const parts = request.params['*'].split('/');
      if (parts.length < 3 || parts.at(-1) !== 'APKINDEX.tar.gz')
        return sendAnswer(
          request,
          reply,
          textAnswer(404, 'not-an-index', 'not an index: ask /-/apk/<repository>/<arch>/APKINDEX.tar.gz'),
        );
      const arch = parts.at(-2)!;
      const name = parts.slice(0, -2).join('/');
      const repository = repositories.find((r) => r.name === name);
      if (!repository)
        return sendAnswer(
          request,
          reply,
          textAnswer(
            404,
            'no-index-repository',
            `no repository "${listed([name])}" here; use one of ${repositories.map((r) => r.name).join(', ')}`,
          ),
        );
      withLoadedMap(
        store,
        firstLoadTimeoutMs,
        reply,
        (map) => {
          const arches = repositoryArches(repository, map.snapshots);
          if (arch !== ALL_ARCHES && !arches.includes(arch))
            return sendAnswer(
              request,
              reply,
              textAnswer(
                404,
                'no-index-arch',
                `repository ${repository.name} has no arch "${listed([arch])}"; use one of ${[...arches, ALL_ARCHES].join(', ')}`,
              ),
            );
          const wanted = arch === ALL_ARCHES ? arches : [arch];
          const byArch = new Map(
            wanted.map((a) => [a, map.snapshots.filter((s) => s.repository === repository.name && s.arch === a)]),
          );
          const from = [...byArch.values()].flat();
          const key = `${repository.name}\u0000${arch}`;
          let entry = built.get(key);
          if (!entry || !sameSnapshots(entry.from, from)) {
            entry = { from, answer: buildAnswer(byArch, arch === ALL_ARCHES ? undefined : arch, repository.name) };
            built.set(key, entry);
            // A failed build is not kept: the next request tries again.
            const failed = entry;
            failed.answer.catch(() => {
              if (built.get(key) === failed) built.delete(key);
            });
          }
          entry.answer.then(
            (a) => sendAnswer(request, reply, a),
            (err: unknown) => void reply.send(err),
          );
        },
        { repositories: [repository.name], ...(arch !== ALL_ARCHES && { arches: [arch] }) },
      );
    },
  );
}

/** The repository's configured arches; a bare index URL's come from its loaded index. */
function repositoryArches(repository: RepositorySettings, snapshots: readonly IndexSnapshot[]): string[] {
  if (repository.arches.length > 0) return [...repository.arches];
  return [...new Set(snapshots.filter((s) => s.repository === repository.name).map((s) => s.arch))].sort();
}

function sameSnapshots(a: readonly IndexSnapshot[], b: readonly IndexSnapshot[]): boolean {
  return a.length === b.length && a.every((s, i) => s === b[i]);
}

/** Work done between two yields to the event loop while an index is built (probes and cached answers go first). */
const SLICE_MS = 10;

async function buildAnswer(
  byArch: ReadonlyMap<string, readonly IndexSnapshot[]>,
  arch: string | undefined,
  repository: string,
): Promise<Answer> {
  const index = synthesizedIndex(byArch, arch);
  // The records as byte chunks, one per slice of work: no single string or buffer of the whole index is made.
  const chunks: Buffer[] = [];
  let pending: string[] = [];
  let sliceStart = performance.now();
  for (const text of index.records) {
    pending.push(text);
    if (performance.now() - sliceStart >= SLICE_MS) {
      chunks.push(Buffer.from(pending.join('')));
      pending = [];
      await new Promise<void>((resolve) => setImmediate(resolve));
      sliceStart = performance.now();
    }
  }
  chunks.push(Buffer.from(pending.join('')));
  const description = Buffer.from(
    `${repository} ${arch ?? `${[...byArch.keys()].join(',')} (versions on every arch)`}, synthesized by apk-indexer: not signed, not for apk\n`,
  );
  const size = chunks.reduce((n, c) => n + c.length, 0);
  const gzip = createGzip();
  const out: Buffer[] = [];
  gzip.on('data', (b: Buffer) => out.push(b));
  const done = new Promise<void>((resolve, reject) => gzip.on('end', resolve).on('error', reject));
  const write = (b: Buffer) =>
    gzip.write(b) ? Promise.resolve() : new Promise<void>((resolve) => gzip.once('drain', resolve));
  await write(tarFile('DESCRIPTION', description, index.newest));
  await write(tarHeader({ name: 'APKINDEX', size, mtime: index.newest }));
  for (const chunk of chunks) await write(chunk);
  await write(Buffer.alloc(tarPadding(size) + TAR_END));
  gzip.end();
  await done;
  return answer(200, 'application/gzip', Buffer.concat(out));
}
