import { readFileSync } from 'node:fs';
import { IndexError } from '../src/errors.js';
import { loadIndex } from '../src/load/load-index.js';
import { loadTrustedKeys } from '../src/load/load-keys.js';

/**
 * Child process of bench/hostile.ts: reads one index (keys: a path or `-`), reports the outcome and peak memory.
 * With `refresh`, reads it a second time while the first snapshot is kept, as a refresh holds the old and the new.
 */
const [indexPath, keyPath, mode] = process.argv.slice(2) as [string, string, string | undefined];
const keys = keyPath === '-' ? [] : await loadTrustedKeys([keyPath]);
const baseline = process.memoryUsage().rss;
const start = performance.now();
const cpu = process.cpuUsage();
let outcome: { reason: string; message: string } | { records: number; names: number; loadedRssMiB?: number };
try {
  const location = { url: indexPath, arch: 'x86_64', repository: 'hostile' };
  // As the service reads (on a worker thread): its memory and CPU are this process's too.
  const result = await loadIndex(location, { keys, offThread: true });
  if (result.notModified) throw new Error('unexpected 304');
  outcome = { records: result.snapshot.records, names: result.snapshot.packages.size };
  if (mode === 'refresh') {
    (globalThis as { gc?: () => void }).gc?.();
    const loadedRssMiB = process.memoryUsage().rss / 2 ** 20;
    const next = await loadIndex(location, { keys, offThread: true });
    if (next.notModified || next.snapshot.records !== result.snapshot.records) throw new Error('refresh differs');
    outcome = { ...outcome, loadedRssMiB };
  }
} catch (err) {
  if (!(err instanceof IndexError)) throw err;
  outcome = { reason: err.reason, message: err.message.replace(/^[^:]*APKINDEX\.tar\.gz: /, '') };
}
const ms = performance.now() - start;
const used = process.cpuUsage(cpu);
const cpuMs = (used.user + used.system) / 1000;
// The peak of this process's own memory (VmHWM, KiB): getrusage's maxRSS also counts the parent's size at fork.
const hwm = /VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
const peakRssMiB = hwm === undefined ? process.resourceUsage().maxRSS / 1024 : Number(hwm) / 1024;
process.stdout.write(JSON.stringify({ ms, cpuMs, peakRssMiB, baselineRssMiB: baseline / 2 ** 20, ...outcome }));
