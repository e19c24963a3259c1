import type { Build } from '../../changes/changes.js';
import type { SecdbStatus } from '../secdb-store.js';
import type { IndexStatus } from '../store.js';
import { changesPath, esc, link, page } from './page.js';

export interface SearchResult {
  query: string;
  /** The name searched for exists: its builds per arch. */
  builds?: Map<string, Build[]>;
  /** Otherwise, names that contain the query. */
  similar?: string[];
  more?: boolean;
}

const SHOWN_VERSIONS = 30;

function age(iso: string | undefined, now: number): string {
  if (!iso) return 'never';
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  const text =
    s < 120
      ? `${s}s`
      : s < 7200
        ? `${Math.round(s / 60)} min`
        : s < 172_800
          ? `${Math.round(s / 3600)} h`
          : `${Math.round(s / 86_400)} days`;
  return `${text} ago`;
}

function indexRows(indexes: readonly IndexStatus[], now: number): string {
  return indexes
    .map((i) => {
      const state = i.lastError
        ? `<span class="bad">${esc(i.lastError.message)}</span>`
        : i.records === undefined
          ? '<span class="warn">loading</span>'
          : '<span class="ok">ok</span>';
      return `<tr><td>${esc(i.repository)}</td><td class="mono">${esc(i.arch ?? 'any')}</td><td>${esc(i.records?.toLocaleString('en') ?? '-')}</td><td title="${esc(i.lastSuccess)}">${esc(age(i.lastSuccess, now))}</td><td>${state}</td></tr>`;
    })
    .join('\n');
}

function secdbRows(list: readonly SecdbStatus[], now: number): string {
  if (list.length === 0) return '';
  const rows = list.map((s) => {
    const state = s.lastError
      ? `<span class="bad">${esc(s.lastError.message)}</span>`
      : s.ids === undefined
        ? '<span class="warn">loading</span>'
        : '<span class="ok">ok</span>';
    return `<tr><td>${esc(s.repository)}</td><td>${esc(s.ids?.toLocaleString('en') ?? '-')}</td><td title="${esc(s.lastSuccess)}">${esc(age(s.lastSuccess, now))}</td><td>${state}</td></tr>`;
  });
  return `<h2>Security databases</h2><div class="wrap"><table><thead><tr><th>Repository</th><th>Fix IDs</th><th>Refreshed</th><th>State</th></tr></thead><tbody>${rows.join('\n')}</tbody></table></div>`;
}

function searchResult(r: SearchResult): string {
  if (r.builds) {
    const name = r.query;
    const sections = [...r.builds].map(([arch, builds]) => {
      const newest = builds.slice(-SHOWN_VERSIONS).reverse();
      const rows = newest.map((b, i) => {
        const previous = builds[builds.length - 2 - i];
        const changes = previous
          ? link(changesPath(name, previous.version, b.version, { arch: [arch] }), `changes from ${previous.version}`)
          : '<span class="muted">first build</span>';
        return `<tr><td class="mono">${esc(b.version)}</td><td>${esc(b.buildTime?.slice(0, 10) ?? '')}</td><td class="wide">${esc(b.repository)}</td><td>${changes}</td></tr>`;
      });
      const all =
        builds.length > 1
          ? `<p>${link(changesPath(name, builds[Math.max(0, builds.length - 1 - SHOWN_VERSIONS)]!.version, builds.at(-1)!.version, { arch: [arch] }), 'All these changes on one page')}</p>`
          : '';
      const older =
        builds.length > SHOWN_VERSIONS
          ? `<p class="muted">and ${builds.length - SHOWN_VERSIONS} older versions</p>`
          : '';
      return `<h3>${esc(arch)}</h3><div class="wrap"><table><thead><tr><th>Version</th><th>Built</th><th class="wide">Repository</th><th>Changes</th></tr></thead><tbody>${rows.join('\n')}</tbody></table></div>${older}${all}`;
    });
    return `<h2>${esc(name)}</h2>${sections.join('\n')}`;
  }
  if (!r.similar?.length)
    return `<h2>No package named ${esc(r.query)}</h2><p class="muted">Nothing in the loaded indexes has that name or contains it.</p>`;
  const items = r.similar.map((n) => `<li>${link(`/?q=${encodeURIComponent(n)}`, n)}</li>`);
  return `<h2>No package named ${esc(r.query)}; names containing it</h2><ul>${items.join('')}</ul>${r.more ? '<p class="muted">more match; narrow the search</p>' : ''}`;
}

/** The home page: what is loaded, how fresh, and a package search. */
export function renderHomePage(
  indexes: readonly IndexStatus[],
  secdbs: readonly SecdbStatus[],
  search: SearchResult | undefined,
  now = Date.now(),
): string {
  const body = `<h1>apk-indexer</h1>
<form method="get" action="/" role="search"><input type="search" name="q" placeholder="package name, e.g. openssl" value="${esc(search?.query)}" aria-label="package name" maxlength="200"><button type="submit">Search</button></form>
${search ? searchResult(search) : ''}
<h2>Indexes</h2>
<div class="wrap"><table><thead><tr><th>Repository</th><th>Arch</th><th>Records</th><th>Refreshed</th><th>State</th></tr></thead><tbody>${indexRows(indexes, now)}</tbody></table></div>
${secdbRows(secdbs, now)}
<p class="muted">${link('/-/status', 'Status (JSON)')} · ${link('/metrics', 'Metrics (Prometheus)')}</p>`;
  return page('apk-indexer', body);
}
