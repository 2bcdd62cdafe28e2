import { invalidArgument, objectArgument, optionalDuration, type Duration } from '../../core/index.js';
import { withTimeout } from '../../timeout/index.js';
import type { CheckResult, HealthCheck } from '../types.js';

/** Options of {@link httpCheck}. */
export interface HttpCheckOptions {
  /** The status(es) that mean pass. Default: any 2xx. */
  expectStatus?: number | readonly number[];
  /**
   * A deadline of this check's own, shorter than the checker's. The checker's deadline (the
   * `timeout` of `register`, else of the checker) applies anyway; the shorter one wins.
   */
  timeout?: Duration;
  /** HTTP method. Default `'GET'`. */
  method?: string;
  /** Request headers, e.g. an auth token for a protected health endpoint. */
  headers?: Record<string, string>;
}

/**
 * A check of a downstream HTTP service: requests `url` with `fetch`, passing the check's signal
 * so a timed-out request is aborted, and reports the round trip in ms (`responseTime`). The
 * body is discarded.
 *
 * @param url - an absolute `http:` or `https:` URL.
 * @example
 * ```ts
 * health.register('billing', httpCheck('http://billing.internal/health', { expectStatus: [200, 204] }), { critical: false });
 * ```
 */
export function httpCheck(url: string | URL, options: HttpCheckOptions = {}): HealthCheck {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    throw invalidArgument('url', 'an absolute http(s) URL', url);
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') throw invalidArgument('url', 'an absolute http(s) URL', String(url));
  objectArgument(options, 'options');
  const expected = options.expectStatus === undefined ? undefined : Array.isArray(options.expectStatus) ? options.expectStatus : [options.expectStatus];
  if (expected !== undefined && (expected.length === 0 || !expected.every((s) => Number.isInteger(s) && s >= 100 && s <= 599))) {
    throw invalidArgument('expectStatus', 'an HTTP status or an array of them', options.expectStatus);
  }
  const timeoutMs = optionalDuration(options.timeout, 'timeout', undefined, { positive: true });
  const method = options.method ?? 'GET';
  if (typeof method !== 'string' || !/^[A-Za-z]+$/.test(method)) throw invalidArgument('method', 'an HTTP method', method);
  objectArgument(options.headers, 'headers');
  const init = { method, headers: options.headers, redirect: 'manual' as const };
  const href = target.href;

  const request = async (signal: AbortSignal): Promise<CheckResult> => {
    const started = performance.now();
    const res = await fetch(href, { ...init, signal });
    // Release the connection without reading a body nobody needs.
    await res.body?.cancel().catch(() => undefined);
    const observedValue = Math.round((performance.now() - started) * 100) / 100;
    const ok = expected === undefined ? res.status >= 200 && res.status < 300 : expected.includes(res.status);
    if (ok) return { status: 'pass', observedValue, observedUnit: 'ms' };
    return { status: 'fail', observedValue, observedUnit: 'ms', output: `${method} ${href} answered ${res.status}` };
  };
  const check: HealthCheck = timeoutMs === undefined ? request : (signal) => withTimeout(request, timeoutMs, { signal, name: `${method} ${href}` });
  check.kind = 'component';
  check.measurement = 'responseTime';
  return check;
}
