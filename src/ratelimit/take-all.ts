import { storeUnavailable } from './errors.js';
import { takeAllOrNothing, type AtomicPart } from './all-or-nothing.js';
import type { LimiterCore } from './limiter-core.js';
import { asPeeks, type StoreReply } from './policy.js';
import { freshResult, resultOf, type RateLimitAllResult, type RateLimitResult } from './result.js';
import type { RateLimitCheck, RateLimitStore } from './store.js';
import { boundedStoreCall } from './store-call.js';
import { TimeoutError } from '../timeout/index.js';

/** One validated check of a `takeAll`. @internal */
export interface Entry {
  readonly core: LimiterCore;
  /** The key as the caller gave it. */
  readonly key: string;
  readonly cost: number;
  readonly check: RateLimitCheck;
}

/**
 * The checks of one request that live in one store, taken with one `store.takeAll` (all or
 * none), bounded by the smallest `storeTimeout` among their limiters. When the store fails, the
 * limiters' `onStoreError` answer instead; a `'local'` fallback is itself all or none (its
 * in-process stores are peeked, then taken, in one synchronous stretch).
 */
class StorePart implements AtomicPart {
  private replies: StoreReply[] = [];
  /** Where the checks were taken: the store, the `'local'` fallbacks, or nowhere yet. */
  private tookFrom: 'store' | 'local' | undefined = undefined;

  constructor(
    private readonly store: RateLimitStore,
    private readonly entries: readonly Entry[],
    private readonly results: RateLimitResult[],
    private readonly indices: readonly number[],
  ) {}

  async take(): Promise<boolean> {
    const entries = this.entries;
    const checks = entries.map((entry) => entry.check);
    const timeoutMs = Math.min(...entries.map((entry) => entry.core.storeTimeoutMs));
    try {
      this.replies = [...(await boundedStoreCall(() => this.store.takeAll(checks), timeoutMs, 'take-all'))];
    } catch (error) {
      return this.fallback(error);
    }
    const allowed = this.replies.every((reply) => reply >= 0);
    if (allowed) this.tookFrom = 'store';
    this.publish(false);
    return allowed;
  }

  async refund(): Promise<void> {
    const tookFrom = this.tookFrom;
    this.tookFrom = undefined;
    if (tookFrom === 'local') {
      for (const { core, check } of this.entries) core.local?.store.refund([{ ...check, policy: core.local.policy }]);
    }
    this.replies = asPeeks(this.checks(tookFrom === 'local'), this.replies);
    this.publish(tookFrom === 'local');
    if (tookFrom !== 'store') return;
    const checks = this.checks(false);
    const timeoutMs = Math.min(...this.entries.map((entry) => entry.core.storeTimeoutMs));
    // Not awaited by the caller's answer: a slow refund must not add a second storeTimeout to the
    // request. Until it lands the units stay taken (stricter, never looser).
    boundedStoreCall(() => this.store.refund(checks), timeoutMs, 'refund').catch((error: unknown) => {
      for (const core of distinctCores(this.entries)) core.storeFailed('refund', error, error instanceof TimeoutError);
    });
  }

  /** The store failed: `onStoreError` answers, all or none. */
  private fallback(error: unknown): boolean {
    const cores = distinctCores(this.entries);
    const timedOut = error instanceof TimeoutError;
    for (const core of cores) core.storeFailed('take-all', error, timedOut);
    const denying = cores.find((core) => core.onStoreError === 'deny');
    if (denying !== undefined) {
      for (const core of cores) if (core.onStoreError === 'deny') core.unavailable++;
      throw storeUnavailable(denying.name, error);
    }
    const local = this.checks(true);
    const replies = this.entries.map(({ core }, i) => {
      const check = local[i] as RateLimitCheck;
      return core.local === undefined ? check.cost * check.policy.intervalMs : core.local.store.peek(check.key, check.cost, check.policy);
    });
    const allowed = replies.every((reply) => reply >= 0);
    if (allowed) {
      this.entries.forEach(({ core }, i) => {
        const check = local[i] as RateLimitCheck;
        if (core.local !== undefined) replies[i] = core.local.store.take(check.key, check.cost, check.policy);
      });
      this.tookFrom = 'local';
    }
    this.replies = allowed ? replies : asPeeks(local, replies);
    this.publish(true);
    return allowed;
  }

  /** The checks as taken: against the store's policies, or the `'local'` fallbacks' shares. */
  private checks(local: boolean): RateLimitCheck[] {
    return this.entries.map(({ core, check }) => (local && core.local !== undefined ? { ...check, policy: core.local.policy } : check));
  }

  private publish(degraded: boolean): void {
    this.entries.forEach(({ core, cost }, i) => {
      const reply = this.replies[i] as StoreReply;
      const policy = degraded && core.local !== undefined ? core.local.policy : core.policy;
      this.results[this.indices[i] as number] = degraded && core.local === undefined ? freshResult(core.policy, cost) : resultOf(policy, cost, reply, degraded);
    });
  }
}

function distinctCores(entries: readonly Entry[]): LimiterCore[] {
  return [...new Set(entries.map((entry) => entry.core))];
}

/**
 * The strictest of several answers: the refusal with the longest wait, else the answer with the
 * fewest units left (the longest `resetMs` on a tie).
 */
function strictest(results: readonly RateLimitResult[]): RateLimitResult {
  let pick = results[0] as RateLimitResult;
  for (const result of results) {
    if (pick.allowed !== result.allowed) {
      if (!result.allowed) pick = result;
    } else if (!result.allowed) {
      if (result.retryAfterMs > pick.retryAfterMs) pick = result;
    } else if (result.remaining < pick.remaining || (result.remaining === pick.remaining && result.resetMs > pick.resetMs)) {
      pick = result;
    }
  }
  return pick;
}

/**
 * Takes every entry or none: one part per store (one round trip each, in parallel); when a part
 * refuses or fails, the parts that took give it back. Counts and reports each limiter's answers.
 *
 * @internal
 */
export async function takeAllEntries(entries: readonly Entry[]): Promise<RateLimitAllResult> {
  const byStore = new Map<RateLimitStore, number[]>();
  entries.forEach((entry, i) => {
    const indices = byStore.get(entry.core.store);
    if (indices === undefined) byStore.set(entry.core.store, [i]);
    else indices.push(i);
  });
  const results = new Array<RateLimitResult>(entries.length);
  const parts = [...byStore].map(
    ([store, indices]) =>
      new StorePart(
        store,
        indices.map((i) => entries[i] as Entry),
        results,
        indices,
      ),
  );
  await takeAllOrNothing(parts);
  const refused = results.some((result) => !result.allowed);
  entries.forEach(({ core, key, cost }, i) => {
    const result = results[i] as RateLimitResult;
    // In a refused batch only the limits that refused count it: the others took nothing.
    if (!refused || !result.allowed) core.counted(key, cost, result);
  });
  return { ...strictest(results), results };
}
