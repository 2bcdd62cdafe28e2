import type { Emitter } from '../core/index.js';
import { type Budget, type BudgetViolation, type Ceiling, resolveBudgets } from './budgets.js';
import { Cooldown } from './cooldown.js';
import type { PercentileTrackerEvents } from './events.js';
import type { Level } from './tracker-options.js';
import type { WindowStore } from './window-store.js';

/**
 * The performance budgets of a tracker: judges each key's stats against its ceilings and emits
 * `budget` for each violation, at most once per cooldown per key and metric.
 *
 * @internal
 */
export class BudgetWatch {
  private ceilings = new Map<string, Ceiling[]>();
  /** By `"<metric> <key>"`; bounded by the budgets set, and emptied when they change. */
  private readonly cooldowns = new Map<string, Cooldown>();

  constructor(
    private readonly events: Emitter<PercentileTrackerEvents>,
    private readonly cooldownMs: number,
  ) {}

  /** Whether a budget is set and someone listens to `budget`: the automatic check runs only then. */
  get watched(): boolean {
    return this.ceilings.size > 0 && this.events.has('budget');
  }

  /** Replaces the budgets (validated; `INVALID_ARGUMENT` names the one at fault). */
  set(budgets: Record<string, Budget>): void {
    this.ceilings = resolveBudgets(budgets);
    this.cooldowns.clear();
  }

  /** The violations over `level`'s window; keys with nothing in it are not judged. */
  judge(store: WindowStore, level: Level): BudgetViolation[] {
    const violations: BudgetViolation[] = [];
    for (const [key, ceilings] of this.ceilings) {
      const series = store.series.get(key);
      if (series === undefined) continue;
      const stats = store.read(series, level);
      if (stats.count === 0) continue;
      for (const { metric, limit } of ceilings) {
        const actual = stats[metric];
        if (actual > limit) {
          const violation: BudgetViolation = { key, metric, limit, actual, window: level.label, count: stats.count };
          violations.push(violation);
          this.emit(violation, store.now);
        }
      }
    }
    return violations;
  }

  private emit(violation: BudgetViolation, now: number): void {
    if (!this.events.has('budget')) return;
    const id = `${violation.metric} ${violation.key}`;
    let cooldown = this.cooldowns.get(id);
    if (cooldown === undefined) {
      cooldown = new Cooldown();
      this.cooldowns.set(id, cooldown);
    }
    const suppressed = cooldown.pass(now, this.cooldownMs);
    if (suppressed >= 0) this.events.emit('budget', { ...violation, suppressed });
  }
}
