import type { ArchChanges, Build, Changes, ChangesResult } from '../../changes/changes.js';
import { changesPath, esc, link, page } from './page.js';

const ADVISORY_LINKS: Array<[RegExp, (id: string) => string]> = [
  [/^CVE-\d{4}-\d+$/, (id) => `https://nvd.nist.gov/vuln/detail/${id}`],
  [/^GHSA(-[23456789cfghjmpqrvwx]{4}){3}$/, (id) => `https://github.com/advisories/${id}`],
];

function idLink(id: string): string {
  const make = ADVISORY_LINKS.find(([re]) => re.test(id))?.[1];
  return make ? link(make(id), id) : esc(id);
}

function commitCell(b: Build | undefined): string {
  if (!b?.commit) return '<span class="muted">unknown</span>';
  const short = b.commit.slice(0, 7);
  return b.sourceUrl
    ? `<a class="mono" href="${esc(b.sourceUrl)}" title="${esc(b.commit)}">${esc(short)}</a>`
    : `<span class="mono" title="${esc(b.commit)}">${esc(short)}</span>`;
}

function buildRow(b: Build, mark = ''): string {
  return `<tr><td class="mono">${esc(b.version)}${mark}</td><td>${esc(b.buildTime?.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC') ?? '')}</td><td class="wide">${esc(b.origin)}</td><td>${commitCell(b)}</td></tr>`;
}

function archSection(c: Changes, a: ArchChanges): string {
  const rows = a.builds.map((b) => buildRow(b, b.version === c.to ? ' <span class="muted">(new)</span>' : ''));
  const from = a.fromBuild
    ? buildRow(a.fromBuild, ' <span class="muted">(current)</span>')
    : `<tr><td colspan="4" class="muted">${esc(c.from)} is not on ${esc(a.arch)}</td></tr>`;
  const compare = a.compareUrl
    ? `<p>${link(a.compareUrl, `Compare the recipe from ${a.fromBuild?.commit?.slice(0, 7)} to ${a.toBuild?.commit?.slice(0, 7)}`)}</p>`
    : '';
  const missingTo = a.toBuild ? '' : `<p class="warn">${esc(c.to)} is not on ${esc(a.arch)}.</p>`;
  return `<section><h2>${esc(a.arch)}: ${a.builds.length} build${a.builds.length === 1 ? '' : 's'} after ${esc(c.from)}</h2>${missingTo}
<div class="wrap"><table><thead><tr><th>Version</th><th>Built</th><th class="wide">Origin</th><th>Recipe commit</th></tr></thead>
<tbody>${[...rows.reverse(), from].join('\n')}</tbody></table></div>${compare}</section>`;
}

function fixesSection(c: Changes): string {
  if (c.secdb === 'none')
    return '<section><h2>Security fixes</h2><p class="muted">No security database is configured for this repository.</p></section>';
  if (c.secdb === 'not-loaded')
    return '<section><h2>Security fixes</h2><p class="warn">The security database has not loaded (see the home page); fixes cannot be shown yet.</p></section>';
  if (c.fixes.length === 0)
    return `<section><h2>Security fixes</h2><p>No known security fixes between ${esc(c.from)} and ${esc(c.to)}.</p></section>`;
  const count = new Set(c.fixes.flatMap((f) => f.ids)).size;
  const items = c.fixes.map(
    (f) =>
      `<tr><td class="mono">${esc(f.version)}</td><td><ul class="ids">${f.ids.map((id) => `<li>${idLink(id)}</li>`).join('')}</ul></td></tr>`,
  );
  return `<section><h2 class="ok">Security fixes: ${count} fixed by ${esc(c.to)}</h2>
<div class="wrap"><table><thead><tr><th>Fixed in</th><th>IDs</th></tr></thead><tbody>${items.join('\n')}</tbody></table></div></section>`;
}

/** The changes page: what moving a package from one version to another brings. */
export function renderChangesPage(c: Changes): string {
  const body = `<h1>${esc(c.name)}: <span class="mono">${esc(c.from)}</span> → <span class="mono">${esc(c.to)}</span></h1>
${fixesSection(c)}
${c.arches.map((a) => archSection(c, a)).join('\n')}`;
  return page(`${c.name} ${c.from} → ${c.to}`, body);
}

/** A request the changes page cannot answer: what was wrong, and the versions there are. */
export function renderChangesError(
  name: string,
  result: Pick<Extract<ChangesResult, { ok: false }>, 'status' | 'message' | 'versions'>,
  extra: { arch?: readonly string[] | undefined; repository?: readonly string[] | undefined },
): string {
  const lists = (result.versions ?? []).map(({ arch, versions }) => {
    const newest = versions.slice(-20).reverse();
    const items = newest.map((v, i) => {
      const previous = versions[versions.length - 2 - i];
      return `<li><span class="mono">${esc(v)}</span>${previous ? ` · ${link(changesPath(name, previous, v, extra), `changes from ${previous}`)}` : ''}</li>`;
    });
    return `<h2>${esc(arch)}</h2><ul>${items.join('')}</ul>${versions.length > 20 ? `<p class="muted">and ${versions.length - 20} older</p>` : ''}`;
  });
  return page(
    // A 400 is a request to fix (a version missing or not an apk version), not a missing package.
    `${name}: ${result.status === 404 ? 'not found' : 'bad request'}`,
    `<h1>${esc(name)}</h1><p class="bad">${esc(result.message)}</p>${lists.length ? `<p>Versions in the index, newest first:</p>${lists.join('')}` : `<p>${link('/', 'Search for a package')}</p>`}`,
  );
}
