import { escapeControl } from '../core/escape.js';
import type { Finding, Severity } from '../generate/check.js';
import { labelled, paint, type Style } from './terminal.js';

const COLOUR: Record<Severity, 'red' | 'yellow' | 'green'> = { error: 'red', warning: 'yellow', ok: 'green' };
const LABEL_WIDTH = 'warning'.length;

/**
 * A finding on one (wrapped) line, as compilers say it: `file:line: what: detail` (a part that is `-`, or that the
 * detail already starts with, left out); every value safe for a terminal.
 */
function line(style: Style, f: Finding): string {
  const where = [f.location, f.subject].filter((s) => s !== '-' && !f.message.startsWith(`${s}:`));
  const text = [...where, f.message].map(escapeControl).join(': ');
  return labelled(style, f.severity, LABEL_WIDTH, text, (l) => paint(style, COLOUR[f.severity], l));
}

/** `a.yaml, b.yaml and 3 more`: the files a group covers, in order. */
function files(findings: readonly Finding[]): string {
  const list = [...new Set(findings.map((f) => f.location.replace(/:\d+$/, '')))];
  const shown = list.slice(0, 3).map(escapeControl).join(', ');
  return list.length > 3 ? `${shown} and ${list.length - 3} more` : shown;
}

/**
 * `check`'s report for people. By default, one line per cause: every error on its own line (each is something to
 * fix), warnings that share a cause (stale pins, entries not checked for a repository without data) said once with
 * the files they cover, and the entries found fine counted. `verbose` lists every finding, as `--json` does.
 * Lines fit the style's width; severities are coloured when it allows. Then the summary line.
 */
export function formatFindings(findings: readonly Finding[], style: Style, verbose: boolean): string {
  const out: string[] = [];
  const count = (s: Severity) => findings.filter((f) => f.severity === s).length;
  if (verbose) {
    for (const f of findings) out.push(line(style, f));
  } else {
    const groups = new Map<string, Finding[]>();
    for (const f of findings.filter((f) => f.severity !== 'ok')) {
      const key = f.cause === undefined ? `\u0000${groups.size}` : `${f.severity}\u0000${f.cause}`;
      groups.set(key, [...(groups.get(key) ?? []), f]);
    }
    const ordered = [...groups.values()].sort((a, b) => rank(a[0]!.severity) - rank(b[0]!.severity));
    for (const group of ordered) {
      const first = group[0]!;
      if (group.length === 1 || first.cause === undefined) {
        out.push(line(style, first));
        continue;
      }
      const text = `${escapeControl(first.cause)}: ${group.length} entries in ${files(group)}`;
      out.push(labelled(style, first.severity, LABEL_WIDTH, text, (l) => paint(style, COLOUR[first.severity], l)));
    }
    const ok = count('ok');
    if (ok > 0)
      out.push(
        labelled(style, 'ok', LABEL_WIDTH, `${ok} fine (--verbose lists them)`, (l) => paint(style, 'green', l)),
      );
  }
  out.push('', `${count('error')} error(s), ${count('warning')} warning(s), ${count('ok')} ok`);
  return `${out.join('\n')}\n`;
}

const rank = (s: Severity) => (s === 'error' ? 0 : s === 'warning' ? 1 : 2);
