import { type Duration, invalidArgument, numberOption, objectArgument, parseDuration } from '../core/index.js';

/**
 * Performance budget of one key: each field is a ceiling. Durations are ms or strings such as
 * `'200ms'`; `errorRate` is a fraction from 0 to 1.
 */
export interface Budget {
  /** Ceiling of the median. */
  p50?: Duration;
  /** Ceiling of the 90th percentile. */
  p90?: Duration;
  /** Ceiling of the 95th percentile. */
  p95?: Duration;
  /** Ceiling of the 99th percentile. */
  p99?: Duration;
  /** Ceiling of the 99.9th percentile. */
  p999?: Duration;
  /** Ceiling of the mean. */
  mean?: Duration;
  /** Ceiling of the largest value. */
  max?: Duration;
  /** Ceiling of `errors / count`, from 0 to 1. */
  errorRate?: number;
}

/** A metric a {@link Budget} can bound. */
export type BudgetMetric = keyof Budget;

/** One budget metric a key exceeded over a window. */
export interface BudgetViolation {
  /** The key. */
  key: string;
  /** The metric over its ceiling. */
  metric: BudgetMetric;
  /** The ceiling (ms, or a fraction for `errorRate`). */
  limit: number;
  /** The measured value (ms, or a fraction for `errorRate`). */
  actual: number;
  /** The window it was measured over, e.g. `'1m'`. */
  window: string;
  /** Values recorded in that window. */
  count: number;
}

const DURATION_METRICS = ['p50', 'p90', 'p95', 'p99', 'p999', 'mean', 'max'] as const;

/** One resolved ceiling. @internal */
export interface Ceiling {
  metric: BudgetMetric;
  limit: number;
}

/** Validates `setBudgets()` input into ceilings per key. @internal */
export function resolveBudgets(budgets: Record<string, Budget>): Map<string, Ceiling[]> {
  if (typeof budgets !== 'object' || budgets === null || Array.isArray(budgets)) {
    throw invalidArgument('budgets', 'an object of budgets by key', budgets);
  }
  const out = new Map<string, Ceiling[]>();
  for (const [key, budget] of Object.entries(budgets)) {
    const name = `budgets[${JSON.stringify(key)}]`;
    objectArgument(budget, name);
    if (budget === undefined) throw invalidArgument(name, 'a budget object', budget);
    const ceilings: Ceiling[] = [];
    for (const field of Object.keys(budget)) {
      if (field !== 'errorRate' && !(DURATION_METRICS as readonly string[]).includes(field)) {
        throw invalidArgument(`${name}.${field}`, `one of ${[...DURATION_METRICS, 'errorRate'].join(', ')}`, field);
      }
    }
    for (const metric of DURATION_METRICS) {
      const value = budget[metric];
      if (value !== undefined) ceilings.push({ metric, limit: parseDuration(value, `${name}.${metric}`) });
    }
    if (budget.errorRate !== undefined) {
      ceilings.push({ metric: 'errorRate', limit: numberOption(budget.errorRate, `${name}.errorRate`, 0, { min: 0, max: 1 }) });
    }
    out.set(key, ceilings);
  }
  return out;
}
