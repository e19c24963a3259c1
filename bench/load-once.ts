import { loadIndex } from '../src/load/load-index.js';
import { VersionMap } from '../src/index/version-map.js';
import { loadTrustedKeys } from '../src/load/load-keys.js';

/** Child process for the memory figure: loads one index, then reports resident memory with the map alive. */
const [indexPath, keyPath] = process.argv.slice(2) as [string, string];
const keys = await loadTrustedKeys([keyPath]);
const before = process.memoryUsage().rss;
const result = await loadIndex({ url: indexPath, arch: 'x86_64', repository: 'bench' }, { keys });
if (result.notModified) throw new Error('unexpected 304');
const map = new VersionMap([result.snapshot]);
(globalThis as { gc?: () => void }).gc?.();
await new Promise((r) => setTimeout(r, 100));
(globalThis as { gc?: () => void }).gc?.();
const mem = process.memoryUsage();
// Release lists are made when a name is first read: also report memory once every name has been read.
for (const name of map.names()) map.releases(name);
(globalThis as { gc?: () => void }).gc?.();
const all = process.memoryUsage();
process.stdout.write(
  JSON.stringify({
    rss: mem.rss,
    heapUsed: mem.heapUsed,
    external: mem.external,
    arrayBuffers: mem.arrayBuffers,
    baselineRss: before,
    names: map.names().length,
    rssAllRead: all.rss,
    heapUsedAllRead: all.heapUsed,
  }),
);
