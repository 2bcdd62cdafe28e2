import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import {
  CircuitBreaker,
  FallbackPolicy,
  HedgePolicy,
  InvalidArgumentError,
  RetryBudget,
  RetryPolicy,
  TimeoutPolicy,
  pipeline,
  retryingFetch,
} from '../../src/index.js';

/** Builds something from bad input; must throw INVALID_ARGUMENT naming `argument`. */
const cases: Array<[argument: string, build: () => unknown]> = [
  ['maxAttempts', () => new RetryPolicy({ maxAttempts: 0 })],
  ['maxAttempts', () => new RetryPolicy({ maxAttempts: 1.5 })],
  ['maxAttempts', () => new RetryPolicy({ maxAttempts: Infinity })],
  ['backoff', () => new RetryPolicy({ backoff: 'fast' as never })],
  ['backoff.initial', () => new RetryPolicy({ backoff: { initial: '1 second' as never } })],
  ['backoff.max', () => new RetryPolicy({ backoff: { initial: '2s', max: '1s' } })],
  ['backoff.factor', () => new RetryPolicy({ backoff: { factor: 0.5 } })],
  ['backoff.jitter', () => new RetryPolicy({ backoff: { jitter: 'equal' as never } })],
  ['retryOn', () => new RetryPolicy({ retryOn: true as never })],
  ['budget', () => new RetryPolicy({ budget: { ratio: 0.1 } as never })],
  ['deadline', () => new RetryPolicy({ deadline: 0 })],
  ['name', () => new RetryPolicy({ name: 42 as never })],
  ['clock', () => new RetryPolicy({ clock: Date })],
  ['options', () => new RetryPolicy(null as never)],
  ['ratio', () => new RetryBudget({ ratio: 1.5 })],
  ['minPerSecond', () => new RetryBudget({ minPerSecond: -1 })],
  ['window', () => new RetryBudget({ window: '0s' })],
  ['name', () => new RetryBudget({ name: 7 as never })],
  ['clock', () => new RetryBudget({ clock: {} as never })],
  ['options', () => new CircuitBreaker(undefined as never)],
  ['name', () => new CircuitBreaker({ name: '' })],
  ['trip', () => new CircuitBreaker({ name: 'x', trip: {} as never })],
  ['trip.consecutive', () => new CircuitBreaker({ name: 'x', trip: { consecutive: 0 } })],
  ['trip.ratio', () => new CircuitBreaker({ name: 'x', trip: { ratio: 0 } })],
  ['trip.ratio', () => new CircuitBreaker({ name: 'x', trip: { ratio: 2 } })],
  ['trip.minThroughput', () => new CircuitBreaker({ name: 'x', trip: { ratio: 0.5, minThroughput: 0 } })],
  ['trip.window', () => new CircuitBreaker({ name: 'x', trip: { ratio: 0.5, window: 'soon' as never } })],
  ['cooldown', () => new CircuitBreaker({ name: 'x', cooldown: -5 })],
  ['halfOpenProbes', () => new CircuitBreaker({ name: 'x', halfOpenProbes: 0 })],
  ['isFailure', () => new CircuitBreaker({ name: 'x', isFailure: 'all' as never })],
  ['share', () => new CircuitBreaker({ name: 'x', share: 'redis://localhost' as never })],
  ['share.redis', () => new CircuitBreaker({ name: 'x', share: { redis: {} as Redis, channel: 'c' } })],
  ['share.channel', () => new CircuitBreaker({ name: 'x', share: { redis: { duplicate() {}, publish() {} } as unknown as Redis, channel: '' } })],
  ['options', () => new HedgePolicy(undefined as never)],
  ['delay', () => new HedgePolicy({ delay: '0ms' })],
  ['delay', () => new HedgePolicy({ delay: undefined as never })],
  ['maxHedges', () => new HedgePolicy({ delay: 10, maxHedges: 0 })],
  ['budget', () => new HedgePolicy({ delay: 10, budget: 5 as never })],
  ['timeout', () => new TimeoutPolicy('forever' as never)],
  ['timeout', () => new TimeoutPolicy(0)],
  ['options.name', () => new TimeoutPolicy(10, { name: 1 as never })],
  ['options', () => new FallbackPolicy(undefined as never)],
  ['options', () => new FallbackPolicy({} as never)],
  ['options', () => new FallbackPolicy({ value: 1, fn: () => 2 } as never)],
  ['fn', () => new FallbackPolicy({ fn: 'x' as never })],
  ['fallbackOn', () => new FallbackPolicy({ value: 1, fallbackOn: 1 as never })],
  ['policies', () => pipeline()],
  ['policies[1]', () => pipeline(new RetryPolicy(), {} as never)],
  ['fn', () => new RetryPolicy().execute('not a function' as never)],
  ['options.signal', () => new CircuitBreaker({ name: 'x' }).execute(() => 1, { signal: 'nope' as never })],
  ['options', () => new TimeoutPolicy(10).execute(() => 1, 5 as never)],
  ['fetch', () => retryingFetch(undefined as never)],
  ['policy', () => retryingFetch(fetch, { policy: {} as never })],
  ['idempotencyKey', () => retryingFetch(fetch, { idempotencyKey: 'abc' as never })],
  ['header', () => retryingFetch(fetch, { header: 'Idempotency Key' })],
];

describe('bad options', () => {
  it.each(cases)('throw INVALID_ARGUMENT naming %s', (argument, build) => {
    let caught: unknown;
    try {
      build();
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InvalidArgumentError);
    expect(caught).toMatchObject({ code: 'INVALID_ARGUMENT', status: 400, argument });
    expect((caught as Error).message).toContain(argument);
  });
});
