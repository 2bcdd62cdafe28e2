import { promiseWithSettlers, settlers, type Settle } from '../core/index.js';
import { clusterSlot } from './cluster-slot.js';
import type { StoreReply } from './policy.js';

/**
 * Why checks are batched: with many concurrent callers, Redis' cost per command (parsing,
 * dispatch, starting a script) is most of the work of a check, and on a small machine Redis is the
 * bottleneck. The checks started in one turn of the event loop are therefore sent as one script
 * call carrying all their keys (on a Cluster, one call per hash slot), and each caller's promise
 * is settled from its place in the array reply. A lone caller still costs exactly one round trip;
 * 64 concurrent callers cost a few calls per turn instead of 64. Measured with bench/ratelimit.ts
 * (64 callers, one ioredis client, 2 vCPUs): see docs/benchmarks.md, "Rate limiting".
 */

/** A check waiting for its batch to leave: its key and script arguments, and its caller's settlers. */
interface Waiting {
  readonly key: string;
  readonly interval: string;
  readonly tolerance: string;
  readonly cost: number;
  readonly commit: string;
  readonly resolve: Settle;
  readonly reject: Settle;
}

/** Runs the multi-key CHECK script on these keys and ARGV (four per key); resolves to its reply array. @internal */
export type SendChecks = (keys: string[], argv: Array<string | number>) => Promise<unknown>;

/** Keys per script call at most, so that one call never holds Redis for long. */
const MAX_KEYS = 128;

/**
 * Gathers the checks of one event-loop turn and sends them together. The flush is scheduled with
 * `process.nextTick`: queued from a promise callback, it runs once the microtask queue is empty,
 * so callers resumed by one reply all land in the next batch. Checks keep their order within a
 * batch (the script runs them one after another), so two checks of one key apply in order.
 *
 * @internal
 */
export class CheckBatch {
  private waiting: Waiting[] = [];
  private scheduled = false;
  private readonly flush = (): void => {
    const all = this.waiting;
    this.waiting = [];
    this.scheduled = false;
    if (!this.isCluster || all.length === 1) {
      this.sendChunks(all);
      return;
    }
    const slots = new Map<number, Waiting[]>();
    for (const check of all) {
      const slot = clusterSlot(check.key);
      const group = slots.get(slot);
      if (group === undefined) slots.set(slot, [check]);
      else group.push(check);
    }
    for (const group of slots.values()) this.sendChunks(group);
  };

  /**
   * @param send - runs the CHECK script (NOSCRIPT handled by the caller).
   * @param isCluster - group by hash slot before sending.
   */
  constructor(
    private readonly send: SendChecks,
    private readonly isCluster: boolean,
  ) {}

  /** Queues one check for this turn's batch; resolves to its reply in milliseconds. */
  add(key: string, interval: string, tolerance: string, cost: number, commit: string): Promise<StoreReply> {
    const promise = promiseWithSettlers<StoreReply>();
    this.waiting.push({ key, interval, tolerance, cost, commit, resolve: settlers.resolve, reject: settlers.reject });
    if (!this.scheduled) {
      this.scheduled = true;
      process.nextTick(this.flush);
    }
    return promise;
  }

  private sendChunks(checks: Waiting[]): void {
    if (checks.length <= MAX_KEYS) this.sendOne(checks);
    else for (let i = 0; i < checks.length; i += MAX_KEYS) this.sendOne(checks.slice(i, i + MAX_KEYS));
  }

  /** One script call for `checks`; settles each of them from the reply, or rejects them all. */
  private sendOne(checks: Waiting[]): void {
    const keys = new Array<string>(checks.length);
    const argv = new Array<string | number>(checks.length * 4);
    for (let i = 0; i < checks.length; i++) {
      const check = checks[i] as Waiting;
      keys[i] = check.key;
      argv[4 * i] = check.interval;
      argv[4 * i + 1] = check.tolerance;
      argv[4 * i + 2] = check.cost;
      argv[4 * i + 3] = check.commit;
    }
    this.send(keys, argv).then(
      (replies) => {
        if (!Array.isArray(replies)) {
          const error = new Error(`rate limit script answered ${typeof replies}, not an array`);
          for (const check of checks) check.reject(error);
          return;
        }
        const list = replies as unknown[];
        for (let i = 0; i < checks.length; i++) (checks[i] as Waiting).resolve(Number(list[i]) / 1000);
      },
      (error: unknown) => {
        for (const check of checks) check.reject(error);
      },
    );
  }
}
