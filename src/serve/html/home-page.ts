import type { Build } from '../../changes/changes.js';
import type { Reason } from '../../datasource/reasons.js';
import type { Status } from '../../datasource/status.js';
import type { SecdbStatus } from '../secdb-store.js';
import { changesPath, esc, link, page } from './page.js';

/** What `GET /<query>` answers Renovate: the versions (newest first), or the status and line of a refusal. */
export type RenovateView =
  | { ok: true; versions: string[]; latest: string | undefined }
  | { ok: false; status: number; reason: Reason | undefined; message: string };

export interface SearchResult {
  query: string;
  /** What `GET /<query>` answers, so a reader sees what Renovate gets. */
  renovate: RenovateView;
  /** The name searched for exists: its builds per arch. */
  builds?: Map<string, Build[]>;
  /** Otherwise, names that contain the query. */
  similar?: string[];
  more?: boolean;
}

const SHOWN_VERSIONS = 30;

function duration(seconds: number): string {
  const s = Math.round(seconds);
  return s < 120
    ? `${s}s`
    : s < 7200
      ? `${Math.round(s / 60)} min`
      : s < 172_800
        ? `${Math.round(s / 3600)} h`
        : `${Math.round(s / 86_400)} days`;
}

function age(iso: string | undefined, now: number): string {
  if (!iso) return 'never';
  return `${duration(Math.max(0, (now - Date.parse(iso)) / 1000))} ago`;
}

function until(iso: string | undefined, now: number): string {
  if (!iso) return '-';
  const s = (Date.parse(iso) - now) / 1000;
  return s <= 0 ? 'now' : `in ${duration(s)}`;
}

type IndexStatus = Status['indexes'][number];

/** An index's state: its last error, still loading, or loaded, verified by a key or not. */
function state(i: IndexStatus): string {
  if (i.lastError) return `<span class="bad">${esc(i.lastError.message)}</span>`;
  if (i.records === undefined) return '<span class="warn">loading</span>';
  if (i.verification === 'unverified')
    return '<span class="warn" title="loaded without a signing key: nothing checked who wrote it">unverified</span>';
  return `<span class="ok" title="${esc(`signature verified by ${i.verifiedBy ?? 'a trusted key'}`)}">ok</span>`;
}

/** Each repository: its URL (credentials redacted), then a row per index with its freshness and state. */
function repositorySections(status: Status, now: number): string {
  return status.repositories
    .map((r) => {
      const rows = status.indexes
        .filter((i) => i.repository === r.name)
        .map(
          (i) =>
            `<tr><td class="mono">${esc(i.arch ?? 'any')}</td><td>${esc(i.records?.toLocaleString('en') ?? '-')}</td><td title="${esc(i.lastSuccess)}">${esc(age(i.lastSuccess, now))}</td><td title="${esc(i.nextRefresh)}">${esc(until(i.nextRefresh, now))}</td><td class="state">${state(i)}</td></tr>`,
        );
      const aliases = r.urls.slice(1);
      return `<section class="repository"><h3>${esc(r.name)}</h3><p class="mono url">${esc(r.urls[0])}</p>${aliases.length ? `<p class="muted">also named ${aliases.map((a) => `<span class="mono url">${esc(a)}</span>`).join(', ')}</p>` : ''}
<table><thead><tr><th>Arch</th><th>Records</th><th>Refreshed</th><th>Next</th><th>State</th></tr></thead><tbody>${rows.join('\n')}</tbody></table></section>`;
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
    return `<tr><td>${esc(s.repository)}</td><td>${esc(s.ids?.toLocaleString('en') ?? '-')}</td><td title="${esc(s.lastSuccess)}">${esc(age(s.lastSuccess, now))}</td><td class="state">${state}</td></tr>`;
  });
  return `<h2>Security databases</h2><table><thead><tr><th>Repository</th><th>Fix IDs</th><th>Refreshed</th><th>State</th></tr></thead><tbody>${rows.join('\n')}</tbody></table>`;
}

/** What Renovate gets for the name: the datasource answer, in words. */
function renovateView(query: string, r: RenovateView): string {
  const request = `<code>GET /${esc(encodeURIComponent(query))}</code>`;
  if (!r.ok)
    return `<p class="renovate">Renovate gets nothing: ${request} answers ${r.status}${r.reason ? ` <code>${esc(r.reason)}</code>` : ''}: <span class="bad">${esc(r.message)}</span></p>`;
  const shown = r.versions.slice(0, SHOWN_VERSIONS);
  const more = r.versions.length > shown.length ? `, and ${r.versions.length - shown.length} older` : '';
  return `<p class="renovate">Renovate gets ${r.versions.length} version${r.versions.length === 1 ? '' : 's'} from ${request}${r.latest ? `, latest <span class="mono">${esc(r.latest)}</span>` : ', none of them stable'}: <span class="mono">${shown.map(esc).join(', ')}</span>${more}.</p>`;
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
        return `<tr><td class="mono">${esc(b.version)}</td><td class="nowrap">${esc(b.buildTime?.slice(0, 10) ?? '')}</td><td class="wide">${esc(b.repository)}</td><td>${changes}</td></tr>`;
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
    return `<h2>${esc(name)}</h2>${renovateView(name, r.renovate)}${sections.join('\n')}`;
  }
  const renovate = renovateView(r.query, r.renovate);
  if (!r.similar?.length)
    return `<h2>No package named ${esc(r.query)}</h2>${renovate}<p class="muted">Nothing in the loaded indexes has that name or contains it.</p>`;
  const items = r.similar.map((n) => `<li>${link(`/?q=${encodeURIComponent(n)}`, n)}</li>`);
  return `<h2>No package named ${esc(r.query)}; names containing it</h2>${renovate}<ul>${items.join('')}</ul>${r.more ? '<p class="muted">more match; narrow the search</p>' : ''}`;
}

/** The home page: what is loaded from where, how fresh, and a package search. */
export function renderHomePage(
  status: Status,
  secdbs: readonly SecdbStatus[],
  search: SearchResult | undefined,
  version: string,
  now = Date.now(),
): string {
  const body = `<h1>apk-indexer</h1>
<form method="get" action="/" role="search"><input type="search" name="q" placeholder="package name, e.g. openssl" value="${esc(search?.query)}" aria-label="package name" maxlength="200"><button type="submit">Search</button></form>
${search ? searchResult(search) : ''}
<h2>Repositories</h2>
${repositorySections(status, now)}
${secdbRows(secdbs, now)}
<p class="muted">apk-indexer ${esc(version)} · ${link('/-/status', 'Status (JSON)')} · ${link('/metrics', 'Metrics (Prometheus)')}</p>`;
  return page('apk-indexer', body);
}
