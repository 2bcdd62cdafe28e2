import { Int32Histogram } from 'hdr-histogram-js';
import { afterEach, describe, expect, it } from 'vitest';
import { isHeadroomError } from '../../src/core/index.js';
import { OVERFLOW_KEY, PercentileTracker, type PercentileStats, type PercentileTrackerJSON } from '../../src/percentiles/index.js';
import { BucketLayout } from '../../src/percentiles/bucket-layout.js';
import { exactQuantile, lognormal, pareto, relativeError } from './data.js';

const T0 = 1_700_000_000_000;

function fakeClock(start = T0) {
  const clock = { now: start, read: () => clock.now, advance: (ms: number) => (clock.now += ms) };
  return clock;
}

const trackers: PercentileTracker[] = [];
function tracker(options: ConstructorParameters<typeof PercentileTracker>[0] = {}): PercentileTracker {
  const t = new PercentileTracker(options);
  trackers.push(t);
  return t;
}
afterEach(() => {
  for (const t of trackers.splice(0)) t.close();
});

function expectInvalid(fn: () => unknown, argument?: string): void {
  try {
    fn();
  } catch (err) {
    expect(isHeadroomError(err, 'INVALID_ARGUMENT')).toBe(true);
    if (argument !== undefined) expect((err as { argument?: string }).argument).toBe(argument);
    return;
  }
  throw new Error('expected INVALID_ARGUMENT');
}

function expectClose(stats: PercentileStats, values: number[]): void {
  const sorted = [...values].sort((a, b) => a - b);
  expect(stats.count).toBe(values.length);
  for (const [field, q] of [
    ['p50', 0.5],
    ['p90', 0.9],
    ['p95', 0.95],
    ['p99', 0.99],
    ['p999', 0.999],
  ] as const) {
    expect(relativeError(stats[field], exactQuantile(sorted, q)), field).toBeLessThanOrEqual(0.001);
  }
  expect(stats.min).toBe(sorted[0]);
  expect(stats.max).toBe(sorted[sorted.length - 1]);
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  expect(relativeError(stats.mean, mean)).toBeLessThan(1e-9);
}

describe('BucketLayout', () => {
  it('indexes values exactly as hdr-histogram-js does, for every precision and range', () => {
    for (const digits of [1, 2, 3, 4]) {
      for (const highest of [60e6, 2 ** 32 + 10, 3600e6 * 24]) {
        const layout = new BucketLayout(highest, digits);
        const hdr = new Int32Histogram(1, highest, digits);
        const values = [0, 1, 2, 1023, 1024, 2047, 2048, 2049, 4095, 4096, highest];
        for (let p = 1; p < Math.log2(highest); p++) values.push(2 ** p - 1, 2 ** p, 2 ** p + 1);
        for (let i = 0; i < 2000; i++) values.push(Math.floor(Math.random() * highest));
        for (const v of values) expect(layout.index(v), `value ${v}`).toBe(hdr.countsArrayIndex(v));
      }
    }
  });
});

describe('PercentileTracker accuracy', () => {
  it('reports percentiles within 0.1% of an exact sort on lognormal data', () => {
    const clock = fakeClock();
    const t = tracker({ clock: clock.read, highest: '10m' });
    const values = lognormal(100_000, 1, 20, 1.2);
    for (const v of values) t.record('GET /a', v);
    expectClose(t.stats('GET /a'), values);
    expectClose(t.stats('GET /a', { window: '1h' }), values);
  });

  it('reports percentiles within 0.1% of an exact sort on Pareto data, in every window', () => {
    const clock = fakeClock();
    const t = tracker({ clock: clock.read, windows: ['1m', '5m', '1h', '24h'], highest: '1h' });
    const values = pareto(60_000, 2);
    const times: number[] = [];
    // Spread over 3 hours in steps of 0.2 s, crossing many interval boundaries of every window.
    for (let i = 0; i < values.length; i++) {
      clock.advance(180);
      times.push(clock.now);
      t.record('GET /b', values[i] as number);
    }
    for (const w of t.windows) {
      const current = Math.floor(clock.now / w.intervalMs);
      const inWindow = values.filter((_, i) => Math.floor((times[i] as number) / w.intervalMs) > current - w.intervals);
      expect(inWindow.length, w.window).toBeGreaterThan(0);
      expectClose(t.stats('GET /b', { window: w.window as '1m' }), inWindow);
    }
  });

  it('keeps sub-millisecond values', () => {
    const t = tracker({ clock: fakeClock().read });
    for (const v of [0.05, 0.25, 0.125, 0.5]) t.record('fast', v);
    const s = t.stats('fast');
    expect(s.min).toBe(0.05);
    expect(s.max).toBe(0.5);
    expect(s.p50).toBe(0.125);
    expect(s.mean).toBeCloseTo(0.23125, 9);
  });

  it('computes mean, stddev, error rate and throughput exactly', () => {
    const clock = fakeClock();
    const t = tracker({ clock: clock.read });
    clock.advance(30_000);
    t.record('k', 10);
    t.record('k', 20, { error: true });
    t.record('k', 30);
    t.record('k', 40, { error: false });
    const s = t.stats('k');
    expect(s.mean).toBe(25);
    expect(s.stddev).toBeCloseTo(Math.sqrt(125), 9);
    expect(s.errors).toBe(1);
    expect(s.errorRate).toBe(0.25);
    // The tracker is 30 s old, younger than the window: throughput is over those 30 s.
    expect(s.throughputPerSec).toBeCloseTo(4 / 30, 9);
  });
});

describe('PercentileTracker windows', () => {
  it('states the interval length of each window', () => {
    const t = tracker({ windows: ['1h', '1m', '24h'] });
    expect(t.windows).toEqual([
      { window: '1m', windowMs: 60_000, intervalMs: 5_000, intervals: 12 },
      { window: '1h', windowMs: 3_600_000, intervalMs: 300_000, intervals: 12 },
      { window: '24h', windowMs: 86_400_000, intervalMs: 7_200_000, intervals: 12 },
    ]);
    expect(tracker({ windows: ['1m'], intervalsPerWindow: 60 }).windows[0]?.intervalMs).toBe(1_000);
  });

  it('forgets a value once its window has passed, interval by interval', () => {
    const clock = fakeClock(T0);
    const t = tracker({ clock: clock.read });
    t.record('k', 5);
    clock.advance(30_000);
    t.record('k', 7);
    expect(t.stats('k').count).toBe(2);
    clock.advance(31_000); // 61 s after the first: it has left the 1m window, the second has not
    expect(t.stats('k').count).toBe(1);
    expect(t.stats('k').max).toBe(7);
    expect(t.stats('k', { window: '1h' }).count).toBe(2);
    clock.advance(60_000);
    expect(t.stats('k').count).toBe(0);
    clock.advance(2 * 3_600_000);
    expect(t.stats('k', { window: '1h' }).count).toBe(0);
  });

  it('never counts a value recorded two windows ago, even when nothing happened in between', () => {
    const clock = fakeClock(T0 + 4_999);
    const t = tracker({ clock: clock.read, windows: ['10s', '1m'] });
    t.record('k', 1);
    clock.advance(20_000);
    expect(t.stats('k', { window: '10s' }).count).toBe(0);
    expect(t.stats('k', { window: '1m' }).count).toBe(1);
    clock.advance(100_000);
    expect(t.stats('k', { window: '1m' }).count).toBe(0);
  });

  it('reports zeros, not NaN, for an empty window and an unknown key', () => {
    const clock = fakeClock();
    const t = tracker({ clock: clock.read });
    t.record('k', 3);
    clock.advance(120_000);
    for (const s of [t.stats('k'), t.stats('nobody', { window: '1h' })]) {
      for (const [field, value] of Object.entries(s)) expect(value, field).toBe(0);
    }
    expect(t.stats('k', { window: '1h' }).count).toBe(1);
    expect(t.stats('k')).toMatchObject({ count: 0, p50: 0, p999: 0, mean: 0, stddev: 0, errorRate: 0, throughputPerSec: 0 });
  });

  it('moves to new intervals with the real clock without reading it in record()', async () => {
    const t = tracker({ windows: ['200ms', '2s'], intervalsPerWindow: 4 });
    t.record('k', 1);
    await new Promise((r) => setTimeout(r, 600));
    t.record('k', 2);
    expect(t.stats('k', { window: '200ms' }).count).toBe(1);
    expect(t.stats('k', { window: '2s' }).count).toBe(2);
  });
});

describe('PercentileTracker bounds', () => {
  it('folds keys past maxKeys into the overflow key and warns once', () => {
    const t = tracker({ clock: fakeClock().read, maxKeys: 3 });
    const warnings: unknown[] = [];
    t.on('overflow', (e) => warnings.push(e));
    for (let i = 0; i < 10; i++) t.record(`GET /users/${i}`, i + 1);
    expect(t.size).toBe(4);
    expect(t.keys()).toEqual(['GET /users/0', 'GET /users/1', 'GET /users/2', OVERFLOW_KEY]);
    expect(t.stats(OVERFLOW_KEY).count).toBe(7);
    expect(warnings).toEqual([{ key: 'GET /users/3', maxKeys: 3 }]);
  });

  it('counts more than 65,535 values of one bucket in one interval exactly, live and closed', () => {
    const clock = fakeClock();
    const t = tracker({ clock: clock.read, windows: ['1m', '1h'] });
    for (let i = 0; i < 200_000; i++) t.record('hot', 7);
    t.record('hot', 900);
    const live = t.stats('hot');
    expect(live.count).toBe(200_001);
    expect(live.p50).toBeCloseTo(7, 2);
    expect(live.p999).toBeCloseTo(7, 2);
    expect(live.max).toBe(900);
    clock.advance(5_000);
    for (let i = 0; i < 70_000; i++) t.record('hot', 7);
    clock.advance(5_000);
    const closed = t.stats('hot', { window: '1h' });
    expect(closed.count).toBe(270_001);
    expect(closed.p999).toBeCloseTo(7, 2);
    expect(closed.max).toBe(900);
    const merged = PercentileTracker.merge([t.encode('hot', { window: '1h' })]).hot;
    expect(merged?.count).toBe(270_001);
    expect(merged?.p50).toBeCloseTo(7, 2);
  });

  it('keeps memory bounded with maxKeys keys over days of simulated time', () => {
    const clock = fakeClock();
    const t = tracker({ clock: clock.read, maxKeys: 50, windows: ['1m', '1h', '24h'] });
    const values = lognormal(4_000, 3);
    let v = 0;
    const footprints: number[] = [];
    let largest = 0;
    for (let day = 0; day < 4; day++) {
      for (let step = 0; step < 8_640; step++) {
        clock.advance(10_000);
        for (let r = 0; r < 8; r++) {
          const id = (step * 8 + r) % 5_000; // ids in the path: 5,000 distinct keys
          t.record(`GET /items/${id}`, values[v++ % values.length] as number);
        }
        if (t.size > largest) largest = t.size;
      }
      footprints.push(t.estimatedFootprintBytes);
    }
    expect(largest).toBe(51);
    // After the first day the 24h window is full: memory stays flat from then on.
    expect(footprints[3]).toBeLessThan((footprints[1] as number) * 1.25);
    expect(footprints[3]).toBeLessThan(64 * 1024 * 1024);
    const day = t.stats(OVERFLOW_KEY, { window: '24h' });
    expect(day.count).toBeGreaterThan(0);
    // 276,480 records and 34,560 interval changes: CPU work only, whose wall time follows the
    // machine's load (13 to 18 s on a shared 2-core machine), hence a bound well above it.
  }, 60_000);

  it('drops a key once nothing of it is left in any window', () => {
    const clock = fakeClock();
    const t = tracker({ clock: clock.read });
    t.record('once', 1);
    t.record('often', 1);
    for (let i = 0; i < 30; i++) {
      clock.advance(5 * 60_000);
      t.record('often', 1);
    }
    expect(t.keys()).toEqual(['often']);
    expect(t.delete('often')).toBe(true);
    expect(t.size).toBe(0);
  });

  it('clamps values above highest and counts them', () => {
    const t = tracker({ clock: fakeClock().read, highest: '1s' });
    t.record('k', 5_000);
    t.record('k', 10);
    const s = t.stats('k');
    expect(s).toMatchObject({ count: 2, max: 1_000, clamped: 1 });
    expect(s.p999).toBe(1_000);
  });
});

describe('PercentileTracker bad input', () => {
  it('rejects negative, NaN, infinite and non-number durations with INVALID_ARGUMENT and records nothing', () => {
    const t = tracker({ clock: fakeClock().read });
    for (const bad of [-1, -0.001, NaN, Infinity, -Infinity, '12', null, undefined, 10n, {}]) {
      expectInvalid(() => t.record('k', bad as number), 'durationMs');
    }
    expect(t.stats('k').count).toBe(0);
    expect(t.size).toBe(0);
  });

  it('rejects keys that are not non-empty strings of at most 256 characters', () => {
    const t = tracker({ clock: fakeClock().read });
    for (const bad of ['', 'x'.repeat(257), 42, null, undefined, {}]) {
      expectInvalid(() => t.record(bad as string, 1), 'key');
      expectInvalid(() => t.stats(bad as string), 'key');
      expectInvalid(() => t.startTimer(bad as string), 'key');
    }
    expect(t.size).toBe(0);
  });

  it('validates every option in the constructor, naming it', () => {
    expectInvalid(() => new PercentileTracker({ windows: [] }), 'windows');
    expectInvalid(() => new PercentileTracker({ windows: ['5 minutes' as '5m'] }), 'windows[0]');
    expectInvalid(() => new PercentileTracker({ windows: ['1m', '60s'] }), 'windows');
    expectInvalid(() => new PercentileTracker({ windows: [0] }), 'windows[0]');
    expectInvalid(() => new PercentileTracker({ significantDigits: 5 }), 'significantDigits');
    expectInvalid(() => new PercentileTracker({ maxKeys: 0 }), 'maxKeys');
    expectInvalid(() => new PercentileTracker({ highest: '0ms' }), 'highest');
    expectInvalid(() => new PercentileTracker({ slowThreshold: -5 }), 'slowThreshold');
    expectInvalid(() => new PercentileTracker({ intervalsPerWindow: 1 }), 'intervalsPerWindow');
    expectInvalid(() => new PercentileTracker({ clock: 5 as unknown as () => number }), 'clock');
    expectInvalid(() => new PercentileTracker('1m' as never), 'options');
  });

  it('rejects a window that is not configured', () => {
    const t = tracker({ clock: fakeClock().read });
    expectInvalid(() => t.stats('k', { window: '5m' }), 'options.window');
    expectInvalid(() => t.summary({ window: 'soon' as '1m' }), 'options.window');
    expect(t.stats('k', { window: 60_000 }).count).toBe(0);
  });
});

describe('PercentileTracker timing helpers', () => {
  it('startTimer records the elapsed time once and returns it', async () => {
    const t = tracker();
    const stop = t.startTimer('k');
    await new Promise((r) => setTimeout(r, 20));
    const ms = stop();
    expect(ms).toBeGreaterThanOrEqual(15);
    expect(stop({ error: true })).toBe(ms);
    expect(t.stats('k')).toMatchObject({ count: 1, errors: 0 });
  });

  it('time() records sync and async work, counting throws and rejections as errors', async () => {
    const t = tracker();
    expect(t.time('k', () => 42)).toBe(42);
    await expect(t.time('k', async () => 'ok')).resolves.toBe('ok');
    expect(() =>
      t.time('k', () => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    await expect(t.time('k', () => Promise.reject(new Error('nope')))).rejects.toThrow('nope');
    expect(t.stats('k')).toMatchObject({ count: 4, errors: 2, errorRate: 0.5 });
    expectInvalid(() => t.time('k', 5 as never), 'fn');
  });
});

describe('PercentileTracker reads', () => {
  it('summary() covers every key and slowest() ranks them', () => {
    const t = tracker({ clock: fakeClock().read });
    for (let i = 0; i < 100; i++) {
      t.record('fast', 1 + (i % 3));
      t.record('slow', 100 + i);
      t.record('medium', 10 + (i % 10));
    }
    t.record('broken', 1, { error: true });
    const summary = t.summary();
    expect(Object.keys(summary).sort()).toEqual(['broken', 'fast', 'medium', 'slow']);
    expect(summary.slow?.count).toBe(100);
    expect(t.slowest(2).map((s) => s.key)).toEqual(['slow', 'medium']);
    expect(t.slowest(1, { by: 'errorRate', window: '1h' })[0]).toMatchObject({ key: 'broken', errorRate: 1 });
    expectInvalid(() => t.slowest(1, { by: 'nope' as 'p95' }), 'options.by');
    expectInvalid(() => t.slowest(-1), 'n');
  });

  it('toJSON() gives every key in every window', () => {
    const t = tracker({ clock: fakeClock().read });
    t.record('k', 4);
    const json = JSON.parse(JSON.stringify(t)) as PercentileTrackerJSON;
    expect(json.windows).toEqual(['1m', '1h']);
    expect(json.keys.k?.['1m']?.count).toBe(1);
    expect(json.keys.k?.['1h']?.p50).toBe(4);
  });
});

describe('PercentileTracker events', () => {
  it('fires slow at most once per key per cooldown, counting the suppressed ones', () => {
    const clock = fakeClock();
    const t = tracker({ clock: clock.read, slowThreshold: '100ms', eventCooldown: '10s' });
    const events: unknown[] = [];
    t.on('slow', (e) => events.push(e));
    t.record('k', 50);
    t.record('k', 150);
    t.record('k', 200);
    t.record('k', 300);
    t.record('other', 101);
    clock.advance(10_000);
    t.record('k', 120);
    expect(events).toEqual([
      { key: 'k', durationMs: 150, thresholdMs: 100, suppressed: 0 },
      { key: 'other', durationMs: 101, thresholdMs: 100, suppressed: 0 },
      { key: 'k', durationMs: 120, thresholdMs: 100, suppressed: 2 },
    ]);
  });

  it('emits nothing once the listener is removed or the tracker closed', () => {
    const t = tracker({ clock: fakeClock().read, slowThreshold: 1, eventCooldown: 0 });
    let calls = 0;
    const off = t.on('slow', () => calls++);
    t.record('k', 5);
    off();
    t.record('k', 5);
    t.on('slow', () => calls++);
    t.close();
    t.record('k', 5);
    expect(calls).toBe(1);
    expect(t.stats('k').count).toBe(3);
  });
});

describe('PercentileTracker budgets', () => {
  it('checkBudgets() returns each metric over its ceiling', () => {
    const t = tracker({ clock: fakeClock().read });
    t.setBudgets({ 'GET /api/scenarios': { p95: 200, errorRate: 0.01 }, 'GET /ok': { p99: '1s' }, 'GET /idle': { p50: 1 } });
    for (let i = 0; i < 100; i++) {
      t.record('GET /api/scenarios', i < 90 ? 50 : 400, { error: i % 10 === 0 });
      t.record('GET /ok', 20);
    }
    const violations = t.checkBudgets();
    expect(violations).toHaveLength(2);
    expect(violations[0]).toMatchObject({ key: 'GET /api/scenarios', metric: 'p95', limit: 200, window: '1m', count: 100 });
    expect(violations[0]?.actual).toBeCloseTo(400, 0);
    expect(violations[1]).toMatchObject({ key: 'GET /api/scenarios', metric: 'errorRate', limit: 0.01, actual: 0.1 });
    expect(t.checkBudgets({ window: '1h' })).toHaveLength(2);
  });

  it('emits budget events, rate-limited, from checkBudgets() and from the automatic check', () => {
    const clock = fakeClock(T0);
    const t = tracker({ clock: clock.read, eventCooldown: '30s' });
    t.setBudgets({ k: { max: 10 } });
    const events: { suppressed: number; actual: number }[] = [];
    t.on('budget', (e) => events.push(e));
    t.record('k', 50);
    t.checkBudgets();
    t.checkBudgets();
    expect(events).toHaveLength(1);
    // Each new 5 s interval runs the check on its own; the cooldown lets one through per 30 s.
    for (let i = 0; i < 7; i++) {
      clock.advance(5_000);
      t.record('k', 1);
    }
    expect(events).toHaveLength(2);
    expect(events[1]?.suppressed).toBeGreaterThanOrEqual(5);
  });

  it('rejects malformed budgets', () => {
    const t = tracker({ clock: fakeClock().read });
    expectInvalid(() => t.setBudgets({ k: { p95: -1 } }), 'budgets["k"].p95');
    expectInvalid(() => t.setBudgets({ k: { errorRate: 2 } }), 'budgets["k"].errorRate');
    expectInvalid(() => t.setBudgets({ k: { p42: 1 } as never }), 'budgets["k"].p42');
    expectInvalid(() => t.setBudgets(null as never), 'budgets');
  });
});
