import {
  ErrorCode,
  functionArgument,
  invalidArgument,
  isHeadroomError,
  objectArgument,
  problemResponse,
  type HttpExchange,
  type HttpResponse,
  type Middleware,
} from '../core/index.js';
import { limitMember, policyMember, sfList, sfString } from './headers.js';
import type { RateLimitPolicy } from './policy.js';
import { RateLimiter } from './rate-limiter.js';
import type { RateLimitResult } from './result.js';
import type { TakeAllCheck } from './rate-limiter.js';

/** Options of {@link rateLimitMiddleware} with one limiter. */
export interface RateLimitMiddlewareOptions {
  /**
   * The key whose budget a request spends: a client address (see {@link forwardedClientAddress}),
   * an account or an API key. An empty or too long key answers 400 (`INVALID_ARGUMENT`).
   */
  key: (exchange: HttpExchange) => string | Promise<string>;
  /** Units the request spends (a whole number from 0 to the burst). Default `1`. */
  cost?: (exchange: HttpExchange) => number;
  /** The policy's name in the `RateLimit-Policy` and `RateLimit` fields. Default the limiter's name. */
  policyName?: string;
  /** Requests for which it returns true pass without a check and without headers (health probes). */
  skip?: (exchange: HttpExchange) => boolean;
}

/** One limit of {@link rateLimitMiddleware} with several limiters. */
export interface RateLimitMiddlewareLimit {
  /** The limiter. */
  limiter: RateLimiter;
  /** The key whose budget a request spends under this limit. */
  key: (exchange: HttpExchange) => string | Promise<string>;
  /** Units the request spends under this limit. Default `1`. */
  cost?: (exchange: HttpExchange) => number;
  /** The policy's name in the header fields. Default the limiter's name. */
  policyName?: string;
}

/** Options of {@link rateLimitMiddleware} with several limiters. */
export interface RateLimitMiddlewareListOptions {
  /** Requests for which it returns true pass without a check and without headers (health probes). */
  skip?: (exchange: HttpExchange) => boolean;
}

/** A limit as the middleware runs it, with its serialized policy name. */
interface Limit {
  readonly limiter: RateLimiter;
  readonly policy: RateLimitPolicy;
  readonly key: (exchange: HttpExchange) => string | Promise<string>;
  readonly cost: ((exchange: HttpExchange) => number) | undefined;
  /** The name as given, for the problem's `violated-policies`. */
  readonly name: string;
  /** The name as an sf-string. */
  readonly field: string;
}

function limitOf(item: unknown, where: string, policyName: unknown): Limit {
  const { limiter, key, cost } = (item ?? {}) as Partial<RateLimitMiddlewareLimit>;
  if (!(limiter instanceof RateLimiter)) throw invalidArgument(`${where}limiter`, 'a RateLimiter', limiter);
  functionArgument(key, `${where}key`);
  if (cost !== undefined) functionArgument(cost, `${where}cost`);
  const name = policyName === undefined ? limiter.name : policyName;
  return { limiter, policy: limiter.policy, key, cost, name: name as string, field: sfString(name, `${where}policyName`) };
}

async function keyOf(limit: Limit, exchange: HttpExchange): Promise<string> {
  const key = limit.key(exchange);
  return typeof key === 'string' ? key : await key;
}

/** The 429: problem+json `RATE_LIMITED`, `Retry-After`, the policies that refused, and both fields. */
function limitedResponse(violated: string[], retryAfterMs: number, policyField: string, limitField: string | undefined): HttpResponse {
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  const response = problemResponse({
    status: 429,
    code: ErrorCode.RATE_LIMITED,
    detail: `Rate limited by ${violated.join(', ')}; retry in ${seconds} s.`,
    retryAfterMs,
    extensions: { 'violated-policies': violated },
  });
  return withFields(response, policyField, limitField);
}

function withFields(response: HttpResponse, policyField: string, limitField: string | undefined): HttpResponse {
  const headers = (response.headers ??= {});
  headers['ratelimit-policy'] = policyField;
  if (limitField !== undefined) headers['ratelimit'] = limitField;
  return response;
}

/** The `RateLimit` members of the answers the store gave (a degraded answer says nothing shared). */
function limitField(limits: readonly Limit[], results: readonly RateLimitResult[]): string | undefined {
  const members: string[] = [];
  results.forEach((result, i) => {
    const limit = limits[i] as Limit;
    if (!result.degraded) members.push(limitMember(limit.field, limit.policy, result));
  });
  return members.length === 0 ? undefined : sfList(members);
}

/**
 * An HTTP middleware (every adapter: `toNode`, `toFastify`, `toKoa`, `toHono`, `toFetch`) that
 * spends one check per request and answers 429 problem+json (`code: 'RATE_LIMITED'`, whole-second
 * `Retry-After`, `violated-policies`) when the limit refuses. Every answer it lets through or
 * refuses carries the `RateLimit-Policy` and `RateLimit` fields of the IETF draft (revision 11):
 * `RateLimit-Policy: "per-ip";q=100;w=60` and `RateLimit: "per-ip";r=41;t=1`.
 *
 * A store failure is never a 429: under `onStoreError: 'deny'` the answer is 503
 * `SERVICE_UNAVAILABLE`; under `'allow'` and `'local'` the request passes (or meets the local
 * limit) without a `RateLimit` field, which would describe a budget nobody could read. A bad key
 * or cost answers 400 `INVALID_ARGUMENT`.
 *
 * With several limits (per client address and per account), every limit is checked together in
 * one round trip when they share a store, and spent only when all allow.
 *
 * @example
 * ```ts
 * import { toNode } from 'headroom/http';
 *
 * const perIp = new RateLimiter({ name: 'per-ip', limit: 100, window: '1m', store });
 * app.use(toNode(rateLimitMiddleware(perIp, {
 *   key: (exchange) => forwardedClientAddress(exchange, { trustedProxies: 1 }) ?? 'unknown',
 *   skip: (exchange) => exchange.path === '/healthz',
 * })));
 *
 * // Several limits on one request:
 * app.use(toNode(rateLimitMiddleware([
 *   { limiter: perIp, key: (exchange) => forwardedClientAddress(exchange, { trustedProxies: 1 }) ?? 'unknown' },
 *   { limiter: perAccount, key: (exchange) => exchange.header('x-account-id') ?? 'anonymous' },
 * ])));
 * ```
 */
export function rateLimitMiddleware(limiter: RateLimiter, options: RateLimitMiddlewareOptions): Middleware;
export function rateLimitMiddleware(limits: readonly RateLimitMiddlewareLimit[], options?: RateLimitMiddlewareListOptions): Middleware;
export function rateLimitMiddleware(
  first: RateLimiter | readonly RateLimitMiddlewareLimit[],
  options?: RateLimitMiddlewareOptions | RateLimitMiddlewareListOptions,
): Middleware {
  objectArgument(options, 'options');
  let limits: Limit[];
  if (Array.isArray(first)) {
    if (first.length === 0) throw invalidArgument('limits', 'a non-empty array of { limiter, key, cost?, policyName? }', first);
    limits = first.map((item: unknown, i) => limitOf(item, `limits[${i}].`, (item as Partial<RateLimitMiddlewareLimit> | null)?.policyName));
  } else {
    if (options === undefined) throw invalidArgument('options', 'an options object with a key function', options);
    const single = options as RateLimitMiddlewareOptions;
    limits = [limitOf({ limiter: first, key: single.key, cost: single.cost }, 'options.', single.policyName)];
  }
  if (new Set(limits.map((limit) => limit.name)).size !== limits.length) {
    throw invalidArgument('policyName', 'unique across the limits', limits.map((limit) => limit.name).join(', '));
  }
  const skip = options?.skip;
  if (skip !== undefined) functionArgument(skip, 'options.skip');
  const policyField = sfList(limits.map((limit) => policyMember(limit.field, limit.policy)));

  const refuse = (exchange: HttpExchange, error: unknown): void => {
    if (!isHeadroomError(error)) throw error;
    exchange.respond(withFields(problemResponse(error), policyField, undefined));
  };

  if (limits.length === 1) {
    const limit = limits[0] as Limit;
    return async (exchange, next) => {
      if (skip !== undefined && skip(exchange)) {
        await next();
        return;
      }
      let result: RateLimitResult;
      try {
        const key = await keyOf(limit, exchange);
        result = await limit.limiter.take(key, limit.cost === undefined ? undefined : { cost: limit.cost(exchange) });
      } catch (error) {
        refuse(exchange, error);
        return;
      }
      const field = result.degraded ? undefined : limitMember(limit.field, limit.policy, result);
      if (!result.allowed) {
        exchange.respond(limitedResponse([limit.name], result.retryAfterMs, policyField, field));
        return;
      }
      exchange.setHeader('ratelimit-policy', policyField);
      if (field !== undefined) exchange.setHeader('ratelimit', field);
      await next();
    };
  }

  return async (exchange, next) => {
    if (skip !== undefined && skip(exchange)) {
      await next();
      return;
    }
    let results: readonly RateLimitResult[];
    let allowed: boolean;
    let retryAfterMs: number;
    try {
      const checks: TakeAllCheck[] = [];
      for (const limit of limits) {
        checks.push({ limiter: limit.limiter, key: await keyOf(limit, exchange), cost: limit.cost?.(exchange) });
      }
      ({ results, allowed, retryAfterMs } = await RateLimiter.takeAll(checks));
    } catch (error) {
      refuse(exchange, error);
      return;
    }
    const field = limitField(limits, results);
    if (!allowed) {
      const violated = limits.filter((_, i) => !(results[i] as RateLimitResult).allowed).map((limit) => limit.name);
      exchange.respond(limitedResponse(violated, retryAfterMs, policyField, field));
      return;
    }
    exchange.setHeader('ratelimit-policy', policyField);
    if (field !== undefined) exchange.setHeader('ratelimit', field);
    await next();
  };
}
