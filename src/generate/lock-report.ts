import type { LockMove, LockUpdate } from './lock-tree.js';
import { describeIds } from './security.js';

/**
 * The report of `lock --update` (and `--check`): per image and arch the installed packages that moved, the security
 * IDs each move fixes, and the images to rebuild. Text for a terminal, JSON for scripts, Markdown for a merge
 * request's description.
 */
export function formatLockReport(
  updates: readonly LockUpdate[],
  format: 'text' | 'json' | 'markdown',
  o: { check: boolean },
): string {
  const rebuild = updates.filter((u) => u.changed).map((u) => u.image);
  if (format === 'json')
    return `${JSON.stringify(
      {
        changed: !o.check && rebuild.length > 0,
        rebuild,
        images: updates.map((u) => ({
          image: u.image,
          lockFile: u.lockFile,
          stale: u.changed,
          moves: u.moves.map((m) => ({
            arch: m.arch,
            name: m.name,
            from: m.from ?? null,
            to: m.to ?? null,
            fixes: m.fixes,
          })),
        })),
      },
      null,
      2,
    )}\n`;
  if (format === 'markdown') return markdown(updates, rebuild);
  const lines: string[] = [];
  for (const u of updates) {
    const state = u.changed ? (o.check ? 'stale' : 'updated') : 'current';
    lines.push(`${u.lockFile}: ${state}${u.changed ? ` (rebuild ${u.image})` : ''}`);
    const archWidth = Math.max(0, ...u.moves.map((m) => m.arch.length));
    const nameWidth = Math.max(0, ...u.moves.map((m) => m.name.length));
    for (const m of u.moves)
      lines.push(
        `  ${m.arch.padEnd(archWidth)}  ${m.name.padEnd(nameWidth)}  ${move(m)}${m.fixes.length ? `  fixes ${describeIds(m.fixes)}` : ''}`,
      );
    if (u.changed && u.moves.length === 0)
      lines.push('  (same packages; the config checksum, repositories or keyring changed)');
  }
  const verb = o.check ? 'stale' : 'updated';
  lines.push(
    `${updates.length} lock(s), ${rebuild.length} ${verb}${rebuild.length ? `: rebuild ${rebuild.join(', ')}` : ''}`,
  );
  return `${lines.join('\n')}\n`;
}

function move(m: LockMove): string {
  if (m.from === undefined) return `(new) ${m.to}`;
  if (m.to === undefined) return `${m.from} (removed)`;
  return `${m.from} -> ${m.to}`;
}

/** Cell text: pipes and backticks cannot break the table. */
function cell(text: string): string {
  return text.replace(/[|\\`*_[\]<>]/g, (c) => `\\${c}`);
}

function markdown(updates: readonly LockUpdate[], rebuild: readonly string[]): string {
  const out: string[] = ['## apko lock maintenance', ''];
  const fixed = [...new Set(updates.flatMap((u) => u.moves.flatMap((m) => m.fixes)))];
  if (rebuild.length === 0) {
    out.push('Every lock is current: nothing to rebuild.');
    return `${out.join('\n')}\n`;
  }
  out.push(
    `Rebuild ${rebuild.length} image(s): ${rebuild.map((i) => `\`${i}\``).join(', ')}.` +
      (fixed.length ? ` The moves fix ${fixed.length} known vulnerabilit${fixed.length === 1 ? 'y' : 'ies'}.` : ''),
    '',
  );
  for (const u of updates) {
    if (!u.changed) continue;
    out.push(`### \`${u.image}\``, '', `Lock: \`${u.lockFile}\``, '');
    if (u.moves.length === 0) {
      out.push('Same packages; the config checksum, repositories or keyring changed.', '');
      continue;
    }
    out.push('| arch | package | from | to | fixes |', '| --- | --- | --- | --- | --- |');
    for (const m of u.moves)
      out.push(
        `| ${cell(m.arch)} | ${cell(m.name)} | ${m.from === undefined ? '(new)' : cell(m.from)} | ${m.to === undefined ? '(removed)' : cell(m.to)} | ${m.fixes.map(cell).join(', ')} |`,
      );
    out.push('');
  }
  const current = updates.filter((u) => !u.changed).map((u) => `\`${u.image}\``);
  if (current.length) out.push(`Unchanged: ${current.join(', ')}.`, '');
  out.push('Written by `apk-indexer lock --update`.');
  return `${out.join('\n')}\n`;
}
