import { createHash } from 'node:crypto';
import type { HttpResponse } from '../core/index.js';
import { PAGE_SCRIPT } from './page-script.js';
import { PAGE_STYLE } from './page-style.js';

function sha256(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

/**
 * The page's Content-Security-Policy: nothing may load or run but the page's own inline script
 * and style (allowed by their hashes) and the feed on its own origin; no frames, forms, plugins
 * or base URL; Trusted Types required, so a script cannot write HTML from a string.
 *
 * @internal
 */
export const PAGE_CSP = [
  "default-src 'none'",
  `script-src ${sha256(PAGE_SCRIPT)}`,
  `style-src ${sha256(PAGE_STYLE)}`,
  "connect-src 'self'",
  'img-src data:',
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "require-trusted-types-for 'script'",
].join('; ');

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The page's HTML for `title`. @internal */
export function pageHtml(title: string, intervalMs: number): string {
  const t = escapeHtml(title);
  const table = (id: string, heads: string[]): string =>
    `<table id="${id}"><thead><tr>${heads.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody></tbody></table>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${t}</title>
<link rel="icon" href="data:,">
<style>${PAGE_STYLE}</style>
</head>
<body data-interval="${intervalMs}">
<header><h1>${t}</h1><span id="conn" class="conn">connecting&hellip;</span><span id="updated"></span></header>
<main>
<section id="alerts" hidden><h2>Alerts firing</h2><ul id="alert-list"></ul></section>
<section id="routes-section" hidden><h2>Routes <small id="window"></small></h2>
${table('routes', ['route', 'req/s', 'p50 ms', 'p95 ms', 'p99 ms', 'errors', 'shed', 'timed out', 'last 15 minutes'])}
<p class="legend">Lines: <b class="p50">p50</b>, <b class="p95">p95</b>, <b class="p99">p99</b>, each point the window's figure at that second. Shed and timed out show &ndash; while they are counted among errors.</p>
</section>
<div class="grid">
<section id="health-section" hidden><h2>Health <span id="health-status" class="badge"></span></h2><p id="health-message"></p>
${table('checks', ['check', 'status', 'last run', 'output'])}
</section>
<section id="cache-section" hidden><h2>Cache</h2><dl id="cache"></dl></section>
<section id="queues-section" hidden><h2>Queues</h2>
${table('queues', ['queue', 'waiting', 'running', 'rejected/s', 'rejected', 'avg wait'])}
</section>
<section id="idempotency-section" hidden><h2>Idempotency</h2><dl id="idempotency"></dl></section>
<section id="breakers-section" hidden><h2>Circuit breakers</h2>
${table('breakers', ['breaker', 'state', 'counters'])}
</section>
<section id="limiters-section" hidden><h2>Rate limiters</h2>
${table('limiters', ['limiter', 'counters'])}
</section>
</div>
</main>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
}

/** Headers every dashboard answer carries. @internal */
export const COMMON_HEADERS: Readonly<Record<string, string>> = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

/** The page response for `title`, built once per handler. @internal */
export function pageResponse(title: string, intervalMs: number): HttpResponse {
  return {
    status: 200,
    headers: {
      ...COMMON_HEADERS,
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': PAGE_CSP,
      'x-frame-options': 'DENY',
    },
    body: pageHtml(title, intervalMs),
  };
}
