import { describe, expect, it } from 'vitest';
import { isHeadroomError } from '../../src/core/index.js';
import { PercentileTracker, escapeLabelValue } from '../../src/percentiles/index.js';

const T0 = 1_700_000_000_000;

/**
 * A strict reader of the text exposition format 0.0.4: every line is a comment (HELP/TYPE) or a
 * sample `name{label="value",...} number`, each family's TYPE comes before its samples, label
 * values use only the three escapes, and summaries carry quantile labels plus _sum and _count.
 */
function parseExposition(text: string): { name: string; labels: Record<string, string>; value: number }[] {
  expect(text.endsWith('\n')).toBe(true);
  const types = new Map<string, string>();
  const samples: { name: string; labels: Record<string, string>; value: number }[] = [];
  for (const line of text.slice(0, -1).split('\n')) {
    const comment = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (comment) {
      if (comment[1] === 'TYPE') {
        expect(['counter', 'gauge', 'summary', 'histogram', 'untyped']).toContain(comment[3]);
        expect(types.has(comment[2] as string)).toBe(false);
        types.set(comment[2] as string, comment[3] as string);
      }
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*",?)*)\} (\S+)$/.exec(line);
    expect(m, line).not.toBeNull();
    const [, name, rawLabels, rawValue] = m as RegExpExecArray;
    const labels: Record<string, string> = {};
    for (const l of (rawLabels as string).matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"/g)) {
      labels[l[1] as string] = (l[2] as string).replace(/\\(["\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    const value = rawValue === '+Inf' ? Infinity : rawValue === '-Inf' ? -Infinity : Number(rawValue);
    expect(Number.isNaN(value) && rawValue !== 'NaN', line).toBe(false);
    const family = [...types.keys()].find((f) => name === f || name === `${f}_sum` || name === `${f}_count`);
    expect(family, `TYPE before ${name}`).toBeDefined();
    samples.push({ name: name as string, labels, value });
  }
  return samples;
}

describe('PercentileTracker.toPrometheus', () => {
  it('writes a valid summary family with quantiles, lifetime _sum/_count and an errors counter', () => {
    let now = T0;
    const t = new PercentileTracker({ clock: () => now });
    for (let i = 1; i <= 100; i++) t.record('GET /users/:id', i, { error: i > 98 });
    now += 2 * 60_000; // the 1m window is empty now; _sum and _count keep counting
    t.record('GET /users/:id', 1000);
    const text = t.toPrometheus();
    const samples = parseExposition(text);
    expect(text).toContain('# TYPE headroom_duration_seconds summary');
    expect(text).toContain('# TYPE headroom_duration_errors_total counter');
    const of = (name: string, quantile?: string) =>
      samples.find((s) => s.name === name && s.labels.key === 'GET /users/:id' && s.labels.quantile === quantile)?.value;
    expect(of('headroom_duration_seconds', '0.5')).toBe(1);
    expect(of('headroom_duration_seconds', '0.999')).toBe(1);
    expect(of('headroom_duration_seconds_count')).toBe(101);
    expect(of('headroom_duration_seconds_sum')).toBeCloseTo(6.05, 9);
    expect(of('headroom_duration_errors_total')).toBe(2);
  });

  it('reports quantiles over the chosen window, with custom names, and 0 for an empty window', () => {
    let now = T0;
    const t = new PercentileTracker({ clock: () => now });
    t.record('k', 250);
    now += 5 * 60_000;
    const samples = parseExposition(t.toPrometheus({ name: 'api_latency_seconds', label: 'route', window: '1h', help: 'API\nlatency' }));
    expect(samples.find((s) => s.labels.quantile === '0.5')).toMatchObject({ name: 'api_latency_seconds', labels: { route: 'k' }, value: 0.25 });
    const empty = parseExposition(t.toPrometheus());
    expect(empty.filter((s) => s.labels.quantile !== undefined).every((s) => s.value === 0)).toBe(true);
  });

  it('escapes backslashes, quotes and newlines in keys', () => {
    const t = new PercentileTracker({ clock: () => T0 });
    const key = 'GET /a\\b "quoted"\nnext';
    t.record(key, 1);
    expect(escapeLabelValue(key)).toBe('GET /a\\\\b \\"quoted\\"\\nnext');
    const samples = parseExposition(t.toPrometheus());
    expect(samples.every((s) => s.labels.key === key)).toBe(true);
  });

  it('writes only the headers when nothing was recorded', () => {
    const t = new PercentileTracker({ clock: () => T0 });
    expect(parseExposition(t.toPrometheus())).toEqual([]);
  });

  it('rejects invalid metric and label names, and label names Prometheus reserves or the exposition uses', () => {
    const t = new PercentileTracker({ clock: () => T0 });
    const bad = [
      { name: 'bad-name' },
      { name: '9lives' },
      { label: 'quantile' },
      { label: 'outcome' },
      { label: 'le' },
      { label: '__name__' },
      { label: '__meta' },
      { label: 'a b' },
      { window: '7m' as const },
    ];
    for (const options of bad) {
      try {
        t.toPrometheus(options);
        throw new Error('expected a throw');
      } catch (err) {
        expect(isHeadroomError(err, 'INVALID_ARGUMENT'), JSON.stringify(options)).toBe(true);
      }
    }
    expect(() => t.toPrometheus({ label: 'route' })).not.toThrow();
  });
});
