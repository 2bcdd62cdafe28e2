import { invalidArgument } from '../core/index.js';
import { CircuitBreaker } from './circuit-breaker.js';
import { FallbackPolicy } from './fallback-policy.js';
import { HedgePolicy } from './hedge-policy.js';
import { asLink, linkFor, runForeign, type Link, type Stage } from './link.js';
import type { Attempt, ExecuteContext, ExecuteOptions, Policy } from './policy.js';
import { RetryPolicy } from './retry-policy.js';
import { TimeoutPolicy } from './timeout-policy.js';

/**
 * What a pipeline of `P` may resolve with besides the work's value: its fallbacks' types.
 *
 * @example
 * ```ts
 * type Extra = ExtraOf<FallbackPolicy<null> | RetryPolicy>; // null
 * ```
 */
export type ExtraOf<P> = P extends FallbackPolicy<infer F> ? F : P extends Pipeline<infer E> ? E : never;

/** A policy from another source, run through its public `execute`. */
class ForeignStage implements Stage {
  constructor(private readonly policy: Policy<unknown>) {}

  run<T>(fn: Attempt<T>, link: Link): Promise<T> {
    return runForeign(this.policy, fn, link);
  }
}

function stageOf(policy: Policy<unknown>): Stage {
  if (
    policy instanceof RetryPolicy ||
    policy instanceof CircuitBreaker ||
    policy instanceof TimeoutPolicy ||
    policy instanceof HedgePolicy ||
    policy instanceof FallbackPolicy ||
    policy instanceof Pipeline
  ) {
    return policy;
  }
  return new ForeignStage(policy);
}

/**
 * Policies composed outermost first; made by {@link pipeline}. It is a policy itself, so
 * pipelines nest.
 *
 * @typeParam Extra - what a fallback stage may resolve with besides the work's value.
 * @example
 * ```ts
 * const perCall = pipeline(new CircuitBreaker({ name: 'search' }), new TimeoutPolicy('300ms'));
 * const guarded: Pipeline<never> = pipeline(new RetryPolicy(), perCall); // pipelines nest
 * ```
 */
export class Pipeline<Extra = never> implements Policy<Extra> {
  /** The stages, outermost first. */
  readonly policies: readonly Policy<unknown>[];
  private readonly stages: readonly Stage[];
  private readonly last: number;

  /** Use {@link pipeline}. @internal */
  constructor(policies: readonly Policy<unknown>[]) {
    if (policies.length === 0) throw invalidArgument('policies', 'at least one policy', policies);
    policies.forEach((policy, i) => {
      if (typeof policy !== 'object' || policy === null || typeof policy.execute !== 'function') {
        throw invalidArgument(`policies[${i}]`, 'a policy (an object with execute(fn, options))', policy);
      }
    });
    this.policies = [...policies];
    this.stages = this.policies.map(stageOf);
    this.last = this.stages.length - 1;
  }

  /**
   * Runs `fn` through every stage, outermost first; each stage's context (its signal, its
   * attempt number) is what the next one receives.
   *
   * @example
   * ```ts
   * import { requestSignal } from 'headroom/http';
   *
   * const guarded = pipeline(new RetryPolicy(), new TimeoutPolicy('1s'));
   * const body = await guarded.execute(({ signal }) => fetch(url, { signal }).then((r) => r.json()), { signal: requestSignal(req) });
   * ```
   */
  execute<T>(fn: Attempt<T>, options?: ExecuteOptions): Promise<T | Extra> {
    return this.run(fn, linkFor(fn, options));
  }

  /** @internal */
  run<T>(fn: Attempt<T>, link: Link): Promise<T | Extra> {
    return this.runFrom(0, fn, link);
  }

  private runFrom<T>(index: number, fn: Attempt<T>, link: Link): Promise<T> {
    const stage = this.stages[index] as Stage;
    if (index === this.last) return stage.run(fn, link);
    return stage.run((context: ExecuteContext) => this.runFrom(index + 1, fn, asLink(context)), link);
  }
}

/**
 * Composes policies into one, outermost first: `pipeline(a, b, c).execute(fn)` runs
 * `a.execute(() => b.execute(() => c.execute(fn)))`, with each stage's signal wired to the next
 * (an outer timeout or the caller aborting reaches the innermost attempt) and without the
 * closures and `AbortController`s of that hand-written nesting.
 *
 * The usual order, and why:
 *
 * | stage | place | because |
 * | --- | --- | --- |
 * | {@link FallbackPolicy} | outermost | it answers for whatever the others finally give up with |
 * | {@link RetryPolicy} | next | each retry goes through the breaker again, and `CIRCUIT_OPEN` stops the retries |
 * | {@link CircuitBreaker} | next | it counts each attempt, timeouts included |
 * | {@link TimeoutPolicy} | next | each attempt, hedges and all, gets its own deadline |
 * | {@link HedgePolicy} | innermost | its extra attempts are one call to the stages outside it |
 *
 * @param policies - the stages, outermost first: headroom's policies, pipelines, or any object
 *   with `execute(fn, { signal })`.
 * @throws InvalidArgumentError (`INVALID_ARGUMENT`) naming `policies[i]` for something that is not a policy.
 * @example
 * ```ts
 * import { requestSignal } from 'headroom/http';
 *
 * const budget = new RetryBudget();
 * const inventory = pipeline(
 *   new FallbackPolicy({ value: { available: null } }),
 *   new RetryPolicy({ maxAttempts: 3, budget }),
 *   new CircuitBreaker({ name: 'inventory', trip: { consecutive: 5 }, cooldown: '5s' }),
 *   new TimeoutPolicy('500ms'),
 * );
 * const stock = await inventory.execute(({ signal }) => fetch(`https://inventory.internal/stock/${sku}`, { signal }).then((r) => r.json()), { signal: requestSignal(req) });
 * ```
 */
export function pipeline<P extends Policy<unknown>[]>(...policies: P): Pipeline<ExtraOf<P[number]>> {
  return new Pipeline(policies);
}
