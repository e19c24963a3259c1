import type { ShellWord } from './shell-words.js';

/**
 * `apk add` arguments as Renovate 44's Dockerfile manager reads them (lib/modules/manager/dockerfile/apk.ts and
 * run-command.ts): the command is the first word that is `apk` or ends in `/apk`, after any shell keyword, variable
 * assignment or wrapper (`sudo`, `DEBUG=1`); options are skipped, with the value of those that take one; the first
 * other word must be `add`; then every word is a package spec, except those that are no registry lookup (`!name`,
 * `.virtual`, a path or URL).
 */

/** apk options that take the next word as their value (`--opt=value` is one word and needs no entry). */
const OPTIONS_WITH_VALUE = new Set([
  '-X',
  '--repository',
  '-t',
  '--virtual',
  '-p',
  '--root',
  '--arch',
  '--cache-dir',
  '--cache-max-age',
  '--keys-dir',
  '--repositories-file',
  '--progress-fd',
  '--timeout',
  '--wait',
]);

/** Shell operators that end one command and start the next, when written as words of their own. */
const SEPARATORS = new Set(['&&', '||', ';', '|', '&', '(', ')', '{', '}']);

/** `name[@tag][operator version]`: apk-tools' order, the tag before the operator (`nodejs@edge=22.13.1-r0`). */
const SPEC = /^(?<name>[a-zA-Z0-9][\w.+-]*)(?:@(?<tag>[\w.-]+))?(?:(?<operator>[<>=~]+)(?<version>.+))?$/;

/** One package word of an `apk add`, with where its parts are in the file. */
export interface ApkAddWord {
  word: ShellWord;
  name: string;
  tag: string | undefined;
  /** As written (`=`, `~`, `>=`, `=~` ...); undefined for a bare name. */
  operator: string | undefined;
  version: string | undefined;
  /** File offsets of the version's first character and just after its last, when it is written as one piece. */
  versionSpan: [number, number] | undefined;
}

/** The commands of a `RUN` shell line, split where Renovate splits them, `#` ending the line. */
export function shellCommands(words: readonly ShellWord[]): ShellWord[][] {
  const commands: ShellWord[][] = [];
  let current: ShellWord[] = [];
  for (const word of words) {
    if (word.text.startsWith('#')) break;
    if (SEPARATORS.has(word.text)) {
      commands.push(current);
      current = [];
      continue;
    }
    if (word.text.endsWith(';')) {
      current.push({ text: word.text.slice(0, -1), offsets: word.offsets.slice(0, -1) });
      commands.push(current);
      current = [];
      continue;
    }
    current.push(word);
  }
  commands.push(current);
  return commands;
}

/** The package words of `apk add` in one command; [] when the command runs no `apk add`. */
export function apkAddWords(command: readonly ShellWord[]): ApkAddWord[] {
  const at = command.findIndex((w) => w.text === 'apk' || w.text.endsWith('/apk'));
  if (at === -1) return [];
  const args = command.slice(at + 1);
  const out: ApkAddWord[] = [];
  let subcommand = false;
  for (let i = 0; i < args.length; i++) {
    const word = args[i]!;
    const text = word.text;
    if (text.startsWith('-')) {
      if (OPTIONS_WITH_VALUE.has(text)) i++;
      continue;
    }
    if (!subcommand) {
      if (text !== 'add') return [];
      subcommand = true;
      continue;
    }
    if (text.startsWith('!') || text.startsWith('.') || text.includes('/') || text.includes(':')) continue;
    const groups = SPEC.exec(text)?.groups;
    if (!groups) continue;
    const version = groups.version;
    let versionSpan: ApkAddWord['versionSpan'];
    if (version !== undefined) {
      const from = text.length - version.length;
      const offsets = word.offsets.slice(from);
      if (offsets.every((o, k) => o >= 0 && o === offsets[0]! + k))
        versionSpan = [offsets[0]!, offsets[0]! + offsets.length];
    }
    out.push({ word, name: groups.name!, tag: groups.tag, operator: groups.operator, version, versionSpan });
  }
  return out;
}

/** apk's constraint flags (apk-tools' version.c): the operator's characters OR'd, in any order. */
export const APK_LESS = 1;
export const APK_GREATER = 2;
export const APK_EQUAL = 4;
export const APK_FUZZY = 8;

/**
 * The flags of an operator as apk builds them (`~` is fuzzy and equal); undefined for `><` (a checksum, not a
 * version) or anything that is no operator.
 */
export function operatorFlags(operator: string): number | undefined {
  let mask = 0;
  for (const ch of operator) {
    if (ch === '<') mask |= APK_LESS;
    else if (ch === '>') mask |= APK_GREATER;
    else if (ch === '=') mask |= APK_EQUAL;
    else if (ch === '~') mask |= APK_FUZZY | APK_EQUAL;
    else return undefined;
  }
  if (mask === 0) return undefined;
  return mask === (APK_LESS | APK_GREATER) ? undefined : mask;
}
