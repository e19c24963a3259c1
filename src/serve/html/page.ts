import { httpUrl } from '../../core/links.js';

/** Escapes text for HTML element content and double-quoted attributes: every value shown is upstream data. */
export function esc(value: string | number | undefined): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A link whose address is shown to a browser: only http(s) URLs (httpUrl) and same-site paths, never `javascript:`. */
export function link(href: string | undefined, text: string): string {
  const sameSite = href !== undefined && href.startsWith('/') && !href.startsWith('//');
  if (!sameSite && !httpUrl(href)) return esc(text);
  return `<a href="${esc(href)}">${esc(text)}</a>`;
}

/** The path and query of the changes page between two versions. */
export function changesPath(
  name: string,
  from: string,
  to: string,
  extra: { arch?: readonly string[] | undefined; repository?: readonly string[] | undefined } = {},
): string {
  const q = new URLSearchParams({ from, to });
  if (extra.arch?.length) q.set('arch', extra.arch.join(','));
  if (extra.repository?.length) q.set('repository', extra.repository.join(','));
  return `/-/changes/${encodeURIComponent(name)}?${q.toString()}`;
}

const STYLE = `
:root{color-scheme:light dark;--fg:#1b1f24;--muted:#59636e;--bg:#fff;--line:#d1d9e0;--accent:#0b62d6;--warn:#b35900;--bad:#b3261e;--ok:#1a7f37}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--muted:#9198a1;--bg:#0d1117;--line:#3d444d;--accent:#4493f8;--warn:#d29922;--bad:#f85149;--ok:#3fb950}}
*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
main{max-width:60rem;margin:0 auto;padding:1rem}h1{font-size:1.4rem;margin:.5rem 0 1rem;overflow-wrap:anywhere}h2{font-size:1.15rem;margin:1.5rem 0 .5rem}
a{color:var(--accent)}code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.9em;overflow-wrap:anywhere}
table{border-collapse:collapse;width:100%;margin:.5rem 0}th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid var(--line);vertical-align:top}
td.mono,.nowrap{white-space:nowrap;overflow-wrap:normal}th{font-weight:600;color:var(--muted);font-size:.85rem}.wrap{overflow-x:auto}.muted{color:var(--muted)}.bad{color:var(--bad)}.warn{color:var(--warn)}.ok{color:var(--ok)}
ul.ids{list-style:none;padding:0;margin:.25rem 0;display:flex;flex-wrap:wrap;gap:.35rem}ul.ids li{border:1px solid var(--line);border-radius:.3rem;padding:0 .4rem}
form{display:flex;gap:.5rem;flex-wrap:wrap;margin:.5rem 0}input[type=search]{flex:1 1 14rem;font:inherit;padding:.4rem .6rem;border:1px solid var(--line);border-radius:.3rem;background:var(--bg);color:var(--fg)}
button{font:inherit;padding:.4rem .9rem;border-radius:.3rem;border:1px solid var(--line);background:var(--accent);color:#fff}
nav{display:flex;gap:1rem;flex-wrap:wrap;border-bottom:1px solid var(--line);padding:.5rem 1rem}nav a{text-decoration:none}
h3{font-size:1rem;margin:1rem 0 .25rem}.url{overflow-wrap:anywhere;white-space:normal;margin:0 0 .25rem}td.state{overflow-wrap:anywhere}p.renovate{overflow-wrap:anywhere}
@media (max-width:40rem){th,td{padding:.3rem .25rem;font-size:.9rem}.wide{display:none}}
`;

/** A whole page: inline style, no scripts, nothing fetched from elsewhere. */
export function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(title)}</title><style>${STYLE}</style></head>
<body><nav><a href="/"><strong>apk-indexer</strong></a><a href="/-/status">status</a><a href="/metrics">metrics</a></nav>
<main>${body}</main></body></html>
`;
}

/** Headers for every HTML page: no scripts run, nothing loads from elsewhere, not framed. */
export const HTML_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-cache',
} as const;
