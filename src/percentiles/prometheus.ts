import { escapeHelp, escapeLabelValue, formatSampleValue as num, invalidArgument, objectArgument } from '../core/index.js';
import type { Series } from './series.js';
import type { PercentileStats } from './stats.js';

/** Options of {@link PercentileTracker.toPrometheus}. */
export interface PrometheusOptions {
  /**
   * Metric family name, in seconds by convention. Must match `[a-zA-Z_:][a-zA-Z0-9_:]*`.
   * Default `'headroom_duration_seconds'`.
   */
  name?: string;
  /** The `# HELP` text. Default: a description naming the window. */
  help?: string;
  /** The window the quantiles are computed over. Default: the smallest window. */
  window?: import('../core/index.js').Duration;
  /**
   * Label name that carries the key. Default `'key'`. Must be a Prometheus label name other than
   * the ones the exposition uses itself (`quantile`, `outcome`) or Prometheus reserves (`le`,
   * anything starting with `__`, such as `__name__`).
   */
  label?: string;
}

/** One key's figures as the exposition writes them. @internal */
export interface PrometheusEntry {
  key: string;
  window: PercentileStats;
  /** Lifetime count (counter semantics, as Prometheus expects `_count`). */
  totalCount: number;
  /** Lifetime sum in ms. */
  totalSumMs: number;
  /** Lifetime errors. */
  totalErrors: number;
  /** Lifetime answers counted apart, by outcome. */
  totalShed: number;
  totalTimedOut: number;
  totalClientGone: number;
}

/** Whether `label` may carry the key: a label name that neither we nor Prometheus use. @internal */
export function isFreeLabelName(label: unknown): label is string {
  return (
    typeof label === 'string' &&
    /^[a-zA-Z_][a-zA-Z0-9_]*$/.test(label) &&
    !label.startsWith('__') &&
    label !== 'le' &&
    label !== 'quantile' &&
    label !== 'outcome'
  );
}

export { escapeLabelValue };

/** The names of an exposition, validated. @internal */
export interface PrometheusNames {
  name: string;
  label: string;
  help: string;
}

/** Validates the options of `toPrometheus()` (`INVALID_ARGUMENT` names the one at fault). @internal */
export function prometheusNames(options: PrometheusOptions | undefined, windowLabel: string): PrometheusNames {
  objectArgument(options, 'options');
  const name = options?.name ?? 'headroom_duration_seconds';
  if (typeof name !== 'string' || !/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(name)) {
    throw invalidArgument('options.name', 'a Prometheus metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)', name);
  }
  const label = options?.label ?? 'key';
  if (!isFreeLabelName(label)) {
    throw invalidArgument('options.label', 'a Prometheus label name, not reserved (__name__, le, any __ prefix) nor used here (quantile, outcome)', label);
  }
  const help = options?.help ?? `Durations in seconds; quantiles over the last ${windowLabel}, sum and count since start.`;
  if (typeof help !== 'string') throw invalidArgument('options.help', 'a string', help);
  return { name, label, help };
}

/** The figures of one key: its stats over the window, and its lifetime totals (live interval included). @internal */
export function prometheusEntry(series: Series, window: PercentileStats): PrometheusEntry {
  return {
    key: series.key,
    window,
    totalCount: series.totalCount + series.count,
    totalSumMs: (series.totalSum + series.sum) / 1000,
    totalErrors: series.totalErrors + series.errors,
    totalShed: series.totalShed + series.shed,
    totalTimedOut: series.totalTimedOut + series.timedOut,
    totalClientGone: series.totalClientGone + series.clientGone,
  };
}

const QUANTILE_LABELS: [string, keyof PercentileStats][] = [
  ['0.5', 'p50'],
  ['0.9', 'p90'],
  ['0.95', 'p95'],
  ['0.99', 'p99'],
  ['0.999', 'p999'],
];

/**
 * Writes the text exposition (format 0.0.4): a `summary` family with quantile samples over the
 * window plus lifetime `_sum`/`_count`, an `_errors_total` counter family, and an
 * `_outcomes_total` counter family with one series per key and outcome. @internal
 */
export function writePrometheus(entries: PrometheusEntry[], { name, help, label }: PrometheusNames, windowLabel: string): string {
  const lines: string[] = [];
  lines.push(`# HELP ${name} ${escapeHelp(help)}`);
  lines.push(`# TYPE ${name} summary`);
  for (const entry of entries) {
    const key = escapeLabelValue(entry.key);
    for (const [quantile, field] of QUANTILE_LABELS) {
      lines.push(`${name}{${label}="${key}",quantile="${quantile}"} ${num(entry.window[field] / 1000)}`);
    }
    lines.push(`${name}_sum{${label}="${key}"} ${num(entry.totalSumMs / 1000)}`);
    lines.push(`${name}_count{${label}="${key}"} ${num(entry.totalCount)}`);
  }
  const base = name.endsWith('_seconds') ? name.slice(0, -'_seconds'.length) : name;
  const errors = `${base}_errors_total`;
  lines.push(`# HELP ${errors} Values recorded as errors since the tracker started (window of the quantiles: ${windowLabel}).`);
  lines.push(`# TYPE ${errors} counter`);
  for (const entry of entries) lines.push(`${errors}{${label}="${escapeLabelValue(entry.key)}"} ${num(entry.totalErrors)}`);
  const outcomes = `${base}_outcomes_total`;
  lines.push(`# HELP ${outcomes} Requests since the tracker started, by outcome; only served and error are in the quantiles.`);
  lines.push(`# TYPE ${outcomes} counter`);
  for (const entry of entries) {
    const key = escapeLabelValue(entry.key);
    const counts: [string, number][] = [
      ['served', entry.totalCount - entry.totalErrors],
      ['error', entry.totalErrors],
      ['shed', entry.totalShed],
      ['timed_out', entry.totalTimedOut],
      ['client_gone', entry.totalClientGone],
    ];
    for (const [outcome, value] of counts) lines.push(`${outcomes}{${label}="${key}",outcome="${outcome}"} ${num(value)}`);
  }
  return `${lines.join('\n')}\n`;
}
