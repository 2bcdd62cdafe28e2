import {
  ErrorCode,
  functionArgument,
  integerOption,
  invalidArgument,
  objectArgument,
  parseDuration,
  problemResponse,
  type Duration,
  type HttpExchange,
  type HttpResponse,
  type Next,
} from '../core/index.js';
import { FrameBuilder, type AlertSource } from './frame.js';
import { FrameFeed } from './frame-feed.js';
import { COMMON_HEADERS, pageResponse } from './page.js';
import { resolveSources, type DashboardSources } from './sources.js';

/** Options of {@link dashboardHandler}: the sources to show, and how to serve them. */
export interface DashboardOptions extends DashboardSources {
  /** What is firing, from {@link alertRules}. */
  alerts?: AlertSource;
  /** The page's title. Default `'headroom'`. */
  title?: string;
  /**
   * Who may see the dashboard: called for every request (the page and the feed); `false` (or a
   * promise of it) answers 403 `FORBIDDEN`, a throw goes to the framework's error handling. The
   * dashboard shows routes, check outputs and traffic figures: **do not expose it publicly
   * without `authorize`** (or a framework-level guard in front of it).
   */
  authorize?: (exchange: HttpExchange) => boolean | Promise<boolean>;
  /**
   * Answer only this path (the page, and the feed at `path?events`) and pass other requests on
   * with `next()`, so it can be mounted app-wide. Default: answer every GET it sees.
   */
  path?: string;
  /** The tracker window route figures cover. Default: the tracker's smallest window. */
  window?: Duration;
  /** Time between frames. Default `'1s'` (at least `'250ms'`). */
  interval?: Duration;
  /** Pages connected at once at most; beyond it the feed answers 503. Default `32`. */
  maxClients?: number;
  /** Routes shown at most (the busiest). Default `50`. */
  maxRoutes?: number;
}

/**
 * The dashboard: a middleware (mount it like any headroom handler) with two members to manage
 * its live feed.
 */
export interface DashboardHandler {
  /** Serves the page, or the feed for `?events`; passes other paths and methods on. */
  (exchange: HttpExchange, next: Next): Promise<void>;
  /** Pages connected to the feed now. */
  readonly clients: number;
  /**
   * Ends every open feed (browsers see the stream end) and answers later requests with 503.
   * Call it before closing the server: an open event stream otherwise keeps `server.close()`
   * waiting (`onShutdown` of `health.shutdown()` is too late: it runs once the server closed).
   *
   * @example
   * ```ts
   * process.once('SIGTERM', () => dashboard.close()); // the feeds end before the server closes
   * health.shutdown({ server });
   * ```
   */
  close(): void;
}

function pathOption(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !value.startsWith('/') || value.includes('?')) {
    throw invalidArgument('path', 'an absolute path such as "/dashboard"', value);
  }
  return value;
}

/** Whether the request asks for the feed: `?events` in the query, or `Accept: text/event-stream`. */
function wantsFeed(exchange: HttpExchange): boolean {
  const url = exchange.url;
  const q = url.indexOf('?');
  if (q !== -1 && new URLSearchParams(url.slice(q + 1)).has('events')) return true;
  return exchange.header('accept')?.includes('text/event-stream') === true;
}

const FEED_HEADERS: Readonly<Record<string, string>> = {
  ...COMMON_HEADERS,
  'content-type': 'text/event-stream; charset=utf-8',
  // no-transform: a proxy must not compress or buffer the stream; X-Accel-Buffering: nginx.
  'cache-control': 'no-store, no-transform',
  'x-accel-buffering': 'no',
};

const FORBIDDEN = problemResponse({ status: 403, code: ErrorCode.FORBIDDEN, title: 'Forbidden', detail: 'not allowed to see this dashboard' });
const CLOSED = problemResponse({ status: 503, code: ErrorCode.CLOSED, detail: 'the dashboard is closed' });
const FULL = problemResponse({
  status: 503,
  code: ErrorCode.SERVICE_UNAVAILABLE,
  detail: 'too many dashboards are connected',
  retryAfterMs: 5_000,
});

/**
 * A live dashboard of the service, as one framework-neutral handler (every adapter of
 * `headroom/http`): a self-contained page (no external script, style or font: it works offline
 * and under the strict Content-Security-Policy it is sent with) and, at `?events` of the same
 * URL, a server-sent events feed with a {@link DashboardFrame} every second.
 *
 * It shows, per route, requests/s and p50/p95/p99 (with 15 minutes of history drawn as small
 * charts), errors, shed and timed-out answers; health and each check's last run and output;
 * cache hit ratios, factory runs saved, stale values served, the L2 breaker and the bus; queues'
 * waiting, running, refused per second and average wait; idempotency executions, replays and
 * 409s; circuit breakers, rate limiters, and the alerts firing.
 *
 * One timer serves every open page and runs only while one is open; a page reconnects by itself
 * after a server restart and keeps a bounded history however long it stays open.
 *
 * **Do not expose it publicly without `authorize`**: it shows your routes, traffic and the
 * output of your health checks.
 *
 * @throws `INVALID_ARGUMENT` naming a bad option or source.
 * @example
 * ```ts
 * import { toNode } from 'headroom/http';
 * import { dashboardHandler } from 'headroom/dashboard';
 *
 * const token = process.env.DASHBOARD_TOKEN;
 * if (!token) throw new Error('DASHBOARD_TOKEN is not set'); // or "Bearer undefined" would get in
 * const dashboard = dashboardHandler({
 *   percentiles: tracker, cache, health, idempotency, queues: { http: queue },
 *   title: 'orders-api',
 *   authorize: (exchange) => exchange.header('authorization') === `Bearer ${token}`,
 * });
 * app.get('/dashboard', toNode(dashboard)); // the feed is /dashboard?events
 * process.on('SIGTERM', () => dashboard.close());
 * ```
 */
export function dashboardHandler(options: DashboardOptions = {}): DashboardHandler {
  objectArgument(options, 'options');
  const sources = resolveSources(options);
  const alerts = options.alerts;
  if (alerts !== undefined && (typeof alerts !== 'object' || alerts === null || typeof alerts.active !== 'function')) {
    throw invalidArgument('alerts', 'the result of alertRules()', alerts);
  }
  const title = options.title ?? 'headroom';
  if (typeof title !== 'string' || title.length === 0 || title.length > 200)
    throw invalidArgument('title', 'a non-empty string of at most 200 characters', title);
  const authorize = options.authorize;
  if (authorize !== undefined) functionArgument(authorize, 'authorize');
  const path = pathOption(options.path);
  const intervalMs = options.interval === undefined ? 1_000 : parseDuration(options.interval, 'interval');
  if (intervalMs < 250) throw invalidArgument('interval', "a duration of at least '250ms'", options.interval);
  const maxClients = integerOption(options.maxClients, 'maxClients', 32, { min: 1, max: 10_000 });
  const maxRoutes = integerOption(options.maxRoutes, 'maxRoutes', 50, { min: 1, max: 1_000 });
  let windowLabel: string | null = null;
  let windowMs: number | undefined;
  if (sources.percentiles !== undefined) {
    const windows = sources.percentiles.windows;
    const ms = options.window === undefined ? windows[0]?.windowMs : parseDuration(options.window, 'window');
    const match = windows.find((w) => w.windowMs === ms);
    if (match === undefined) throw invalidArgument('window', `one of the tracker's windows (${windows.map((w) => w.window).join(', ')})`, options.window);
    windowLabel = match.window;
    windowMs = match.windowMs;
  }

  const builder = new FrameBuilder({ sources, alerts, window: { window: windowMs }, windowLabel, intervalMs, maxRoutes });
  const feed = new FrameFeed(
    () => builder.build(),
    () => builder.reset(),
    intervalMs,
  );
  const page = pageResponse(title, intervalMs);
  const head: HttpResponse = { status: 200, headers: page.headers };
  let closed = false;

  const serve = (exchange: HttpExchange): void => {
    if (closed) {
      exchange.respond(CLOSED);
    } else if (!wantsFeed(exchange)) {
      exchange.respond(exchange.method === 'HEAD' ? head : page);
    } else if (feed.size >= maxClients) {
      exchange.respond(FULL);
    } else {
      exchange.respond({ status: 200, headers: FEED_HEADERS, body: feed.open(exchange.signal) });
    }
  };

  const handler = async (exchange: HttpExchange, next: Next): Promise<void> => {
    if ((path !== undefined && exchange.path !== path) || (exchange.method !== 'GET' && exchange.method !== 'HEAD')) {
      await next();
      return;
    }
    if (authorize !== undefined && (await authorize(exchange)) !== true) {
      exchange.respond(FORBIDDEN);
      return;
    }
    serve(exchange);
  };
  return Object.defineProperties(handler, {
    clients: { get: () => feed.size, enumerable: true },
    close: {
      value: (): void => {
        closed = true;
        feed.close();
      },
      enumerable: true,
    },
  }) as DashboardHandler;
}
