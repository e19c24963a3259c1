import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { IndexError } from '../src/errors.js';
import { DownloadBudget } from '../src/load/download-budget.js';
import { loadIndex } from '../src/load/load-index.js';
import { parseTrustedKey } from '../src/load/load-keys.js';
import { generateFixtureKey, indexDataMember, signatureMember } from '../test/fixtures/apk-repo.js';

/**
 * Child of bench/hostile-budget.ts: `downloads` signed indexes that never end (a valid signature member by the
 * trusted key, then a gzip member of stored deflate blocks forever), served from 127.0.0.1 and loaded at once
 * against a total budget (`Infinity`: none). Reports the outcomes, the time until every load ended, peak memory.
 */
const [downloads, budgetBytes] = process.argv.slice(2).map(Number) as [number, number];
const key = generateFixtureKey('endless.rsa.pub');
const trusted = [parseTrustedKey(key.name, key.publicPem, key.name)];
const head = Buffer.concat([
  signatureMember(indexDataMember('P:a\nV:1-r0\n'), { key }),
  Buffer.from([0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0xff]),
]);
const block = Buffer.concat([Buffer.from([0x00, 0xff, 0xff, 0x00, 0x00]), Buffer.alloc(0xffff, 0x41)]);
const filler = Buffer.concat(Array.from({ length: 16 }, () => block));
const server = createServer((_req, res) => {
  res.writeHead(200);
  res.write(head);
  const pump = () => {
    while (!res.destroyed) if (!res.write(filler)) return void res.once('drain', pump);
  };
  pump();
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
let maxHeldBytes = 0;
const budget = new DownloadBudget(budgetBytes, (held) => (maxHeldBytes = Math.max(maxHeldBytes, held)));
const baseline = process.memoryUsage().rss;
const start = performance.now();
const outcomes = await Promise.all(
  Array.from({ length: downloads }, (_, i) =>
    loadIndex(
      { url: `${url}/r${i}/x86_64/APKINDEX.tar.gz`, arch: 'x86_64', repository: `r${i}` },
      // As the service reads: on worker threads, the bytes held on this one.
      { keys: trusted, budget, offThread: true },
    ).then(
      () => 'loaded',
      (err: unknown) => (err instanceof IndexError ? `refused (${err.reason})` : `failed: ${String(err)}`),
    ),
  ),
);
const ms = performance.now() - start;
server.close();
server.closeAllConnections();
const hwm = /VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
const counts = new Map<string, number>();
for (const o of outcomes) counts.set(o, (counts.get(o) ?? 0) + 1);
process.stdout.write(
  JSON.stringify({
    ms,
    peakRssMiB: Number(hwm) / 1024,
    baselineRssMiB: baseline / 2 ** 20,
    maxHeldBytes,
    outcomes: [...counts].map(([o, n]) => `${n} ${o}`).join(', '),
  }),
);
process.exit(0);
