/**
 * The Prometheus text exposition format (0.0.4), written in one place for every module that
 * exports figures: the percentile tracker's summaries and the dashboard's counters and gauges.
 */

/** One sample of a family: its labels (name to raw value, escaped when written) and value. */
export interface PrometheusSample {
  /** Suffix after the family name (`'_sum'`, `'_count'`), or none. */
  suffix?: string;
  /** Label names to raw values, in the order they are written. */
  labels?: Readonly<Record<string, string>>;
  /** The value. */
  value: number;
}

/** One metric family: `# HELP`, `# TYPE` and its samples. */
export interface PrometheusFamily {
  /** The family name (`[a-zA-Z_:][a-zA-Z0-9_:]*`). */
  name: string;
  /** The `# HELP` text. */
  help: string;
  /** The `# TYPE`. */
  type: 'counter' | 'gauge' | 'summary';
  /** The samples; a family without samples is still written (HELP and TYPE only). */
  samples: readonly PrometheusSample[];
}

/** A valid metric name. */
export const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/** Escapes a label value for the text exposition format: backslash, double quote, line feed. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** Escapes `# HELP` text: backslash and line feed. */
export function escapeHelp(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** Formats a number the way Prometheus parses it (Go float syntax). */
export function formatSampleValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

/** `{a="x",b="y"}` for `labels`, or `''` without any. */
export function formatLabels(labels: Readonly<Record<string, string>> | undefined): string {
  if (labels === undefined) return '';
  let out = '';
  for (const name in labels) out += `${out === '' ? '' : ','}${name}="${escapeLabelValue(labels[name] as string)}"`;
  return out === '' ? '' : `{${out}}`;
}

/** Appends one family to `lines`: `# HELP`, `# TYPE`, then a line per sample. */
export function writeFamily(lines: string[], family: PrometheusFamily): void {
  lines.push(`# HELP ${family.name} ${escapeHelp(family.help)}`);
  lines.push(`# TYPE ${family.name} ${family.type}`);
  for (const s of family.samples) {
    lines.push(`${family.name}${s.suffix ?? ''}${formatLabels(s.labels)} ${formatSampleValue(s.value)}`);
  }
}

/** The exposition of `families`, ending with a line feed (empty string for none). */
export function writeFamilies(families: readonly PrometheusFamily[]): string {
  if (families.length === 0) return '';
  const lines: string[] = [];
  for (const family of families) writeFamily(lines, family);
  return `${lines.join('\n')}\n`;
}
