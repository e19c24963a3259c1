import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildIndexArchive, generateFixtureKey, indexDataMember, signatureMember } from '../test/fixtures/apk-repo.js';
import {
  cutShortTar,
  largestAdmitted,
  manyProvides,
  middleDifferingNames,
  renderLarge,
} from '../test/fixtures/hostile-index.js';
import { DEFAULT_LIMITS } from '../src/parse/limits.js';
import { measureBudget, type BudgetFigure } from './hostile-budget.js';

/**
 * `npm run bench:hostile`: the hostile indexes of issue 11, built with the fixture builders, each read once in a
 * child process with the default limits, with and without a trusted key. Prints time to refuse (or load) and the
 * child's peak resident memory. `BENCH_HOSTILE_RECORDS` scales the provides attack (default 1,000,000).
 */
export interface HostileFigure {
  /** `load`: one read; `refresh`: a second read while the first is kept, as a refresh holds old and new. */
  mode: 'load' | 'refresh';
  attack: string;
  keys: boolean;
  compressedMB: number;
  ms: number;
  /** CPU time of the child (main thread and zlib's), steadier than wall time on a shared machine. */
  cpuMs: number;
  peakRssMiB: number;
  baselineRssMiB: number;
  /** With `refresh`: resident memory once the first read is done. */
  loadedRssMiB?: number;
  outcome: string;
}

const child = fileURLToPath(new URL('./hostile-load.js', import.meta.url));

export async function measureHostile(
  records = Number(process.env.BENCH_HOSTILE_RECORDS ?? 1_000_000),
): Promise<HostileFigure[]> {
  const dir = await mkdtemp(join(tmpdir(), 'apk-hostile-'));
  const figures: HostileFigure[] = [];
  try {
    const key = generateFixtureKey('hostile.rsa.pub');
    const keyPath = join(dir, key.name);
    await writeFile(keyPath, key.publicPem);
    const recordBytes = Math.floor(DEFAULT_LIMITS.maxDecompressedBytes / DEFAULT_LIMITS.maxEntries) - 1;
    const attacks: Array<[string, () => Buffer, HostileFigure['mode']]> = [
      [
        `unsigned, ${records.toLocaleString('en')} records with 10 provides each`,
        () => buildIndexArchive({ apkindex: renderLarge(manyProvides(records, 10)) }),
        'load',
      ],
      [
        'unsigned, 80,000 names differing only in the middle',
        () => buildIndexArchive({ apkindex: renderLarge(middleDifferingNames(80_000)) }),
        'load',
      ],
      ['a tar cut short inside a whole gzip member', cutShortTar, 'load'],
      [
        'the same, validly signed',
        () => Buffer.concat([signatureMember(cutShortTar(), { key }), cutShortTar()]),
        'load',
      ],
      [
        `the largest index the default limits admit (${DEFAULT_LIMITS.maxEntries.toLocaleString('en')} records of ${recordBytes} bytes, a name per 4), signed, read and then refreshed`,
        () => {
          const data = indexDataMember(Buffer.concat(largestAdmitted(DEFAULT_LIMITS.maxEntries, recordBytes)));
          return Buffer.concat([signatureMember(data, { key }), data]);
        },
        'refresh',
      ],
    ];
    for (const [attack, build, mode] of attacks) {
      const path = join(dir, 'APKINDEX.tar.gz');
      const archive = build();
      await writeFile(path, archive);
      for (const keys of mode === 'refresh' ? [true] : [true, false]) {
        const out = JSON.parse(
          execFileSync(process.execPath, [child, path, keys ? keyPath : '-', mode], {
            encoding: 'utf8',
            maxBuffer: 1 << 20,
          }),
        ) as Record<string, unknown>;
        figures.push({
          mode,
          attack,
          keys,
          compressedMB: archive.length / 1e6,
          ms: out.ms as number,
          cpuMs: out.cpuMs as number,
          peakRssMiB: out.peakRssMiB as number,
          ...(mode === 'refresh' && { loadedRssMiB: Math.round(out.loadedRssMiB as number) }),
          baselineRssMiB: out.baselineRssMiB as number,
          outcome: out.reason
            ? `refused (${String(out.reason)}): ${String(out.message)}`
            : `loaded: ${String(out.records)} records, ${String(out.names)} names`,
        });
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return figures;
}

export function formatHostile(figures: readonly HostileFigure[], budget: readonly BudgetFigure[]): string {
  return [
    ...figures.map(
      (f) =>
        `${f.attack} (${f.compressedMB.toFixed(1)} MB), ${f.keys ? 'with a trusted key' : 'no keys'}: ${f.ms.toFixed(0)} ms (CPU ${f.cpuMs.toFixed(0)} ms), peak RSS ${f.peakRssMiB.toFixed(0)} MiB (baseline ${f.baselineRssMiB.toFixed(0)})${f.mode === 'refresh' ? `, ${String(f.loadedRssMiB)} MiB once loaded` : ''}; ${f.outcome}`,
    ),
    ...budget.map(
      (b) =>
        `${b.downloads} endless signed downloads from 127.0.0.1, total budget ${b.budget}: ${b.ms.toFixed(0)} ms, peak RSS ${b.peakRssMiB.toFixed(0)} MiB (baseline ${b.baselineRssMiB.toFixed(0)}), most held at once ${(b.maxHeldBytes / 2 ** 20).toFixed(0)} MiB; ${b.outcomes}`,
    ),
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url))
  console.log(formatHostile(await measureHostile(), await measureBudget()));
