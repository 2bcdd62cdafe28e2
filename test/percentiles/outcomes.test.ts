import { describe, expect, it } from 'vitest';
import { isHeadroomError } from '../../src/core/index.js';
import { PercentileTracker, type RequestOutcome } from '../../src/percentiles/index.js';

const T0 = 1_700_000_000_000;

function tracker(): { t: PercentileTracker; advance: (ms: number) => void } {
  let now = T0;
  const t = new PercentileTracker({ clock: () => now, windows: ['1m', '1h'] });
  return { t, advance: (ms) => void (now += ms) };
}

describe('PercentileTracker outcomes', () => {
  it('keeps shed, timed-out and client-gone requests out of the percentiles and counts them apart', () => {
    const { t } = tracker();
    for (let i = 0; i < 20; i++) t.record('GET /report', 200);
    t.record('GET /report', 900, { outcome: 'error' });
    for (let i = 0; i < 1000; i++) t.record('GET /report', 0.3, { outcome: 'shed' });
    for (let i = 0; i < 3; i++) t.record('GET /report', 2000, { outcome: 'timed_out' });
    t.record('GET /report', 50, { outcome: 'client_gone' });
    const stats = t.stats('GET /report');
    expect(stats.count).toBe(21);
    expect(stats.errors).toBe(1);
    expect(stats.p50).toBeCloseTo(200, 0);
    expect(stats.min).toBe(200);
    expect(stats.max).toBe(900);
    expect(stats).toMatchObject({ shed: 1000, timedOut: 3, clientGone: 1 });
  });

  it('treats served like no outcome and error like { error: true }', () => {
    const { t } = tracker();
    t.record('k', 10, { outcome: 'served' });
    t.record('k', 20, { outcome: 'error' });
    t.record('k', 30, { error: true });
    expect(t.stats('k')).toMatchObject({ count: 3, errors: 2, shed: 0, timedOut: 0, clientGone: 0 });
  });

  it('slides the outcome counts out of the window with the values, and keeps them in the larger window', () => {
    const { t, advance } = tracker();
    t.record('k', 5, { outcome: 'shed' });
    t.record('k', 5, { outcome: 'timed_out' });
    advance(10_000);
    t.record('k', 5, { outcome: 'shed' });
    expect(t.stats('k')).toMatchObject({ count: 0, shed: 2, timedOut: 1 });
    advance(2 * 60_000);
    expect(t.stats('k')).toMatchObject({ shed: 0, timedOut: 0 });
    expect(t.stats('k', { window: '1h' })).toMatchObject({ count: 0, shed: 2, timedOut: 1 });
    expect(t.keys()).toEqual(['k']);
    advance(2 * 3_600_000);
    expect(t.summary()).toEqual({}); // nothing left in any window: the key is dropped
    expect(t.keys()).toEqual([]);
  });

  it('leaves keys that only shed out of slowest() and budgets', () => {
    const { t } = tracker();
    t.setBudgets({ 'GET /shed-only': { p99: 1 } });
    for (let i = 0; i < 10; i++) t.record('GET /shed-only', 5000, { outcome: 'shed' });
    t.record('GET /served', 3);
    expect(t.slowest(5).map((s) => s.key)).toEqual(['GET /served']);
    expect(t.checkBudgets()).toEqual([]);
  });

  it('exports an _outcomes_total counter with one series per key and outcome', () => {
    const { t, advance } = tracker();
    t.record('GET /x', 10);
    t.record('GET /x', 10, { outcome: 'error' });
    t.record('GET /x', 1, { outcome: 'shed' });
    t.record('GET /x', 1, { outcome: 'shed' });
    advance(2 * 60_000); // lifetime counters survive the window
    t.record('GET /x', 2000, { outcome: 'timed_out' });
    t.record('GET /x', 3, { outcome: 'client_gone' });
    const text = t.toPrometheus();
    expect(text).toContain('# TYPE headroom_duration_outcomes_total counter');
    const series = (outcome: string) => new RegExp(`^headroom_duration_outcomes_total\\{key="GET /x",outcome="${outcome}"\\} (\\S+)$`, 'm').exec(text)?.[1];
    expect(series('served')).toBe('1');
    expect(series('error')).toBe('1');
    expect(series('shed')).toBe('2');
    expect(series('timed_out')).toBe('1');
    expect(series('client_gone')).toBe('1');
    expect(/^headroom_duration_seconds_count\{key="GET \/x"\} (\S+)$/m.exec(text)?.[1]).toBe('2');
  });

  it('merges outcome counts across instances', () => {
    const a = tracker().t;
    const b = tracker().t;
    a.record('k', 10);
    a.record('k', 1, { outcome: 'shed' });
    b.record('k', 1, { outcome: 'shed' });
    b.record('k', 1, { outcome: 'timed_out' });
    b.record('only-shed', 1, { outcome: 'shed' });
    const merged = PercentileTracker.merge([a.encode(), b.encode()]);
    expect(merged.k).toMatchObject({ count: 1, min: 10, shed: 2, timedOut: 1, clientGone: 0 });
    expect(merged['only-shed']).toMatchObject({ count: 0, min: 0, shed: 1 });
  });

  it('reads strings encoded before outcomes existed', () => {
    const { t } = tracker();
    t.record('k', 10);
    const payload = JSON.parse(t.encode()) as { keys: Record<string, unknown>[] };
    for (const key of payload.keys) {
      delete key.shed;
      delete key.timedOut;
      delete key.clientGone;
    }
    expect(PercentileTracker.merge([JSON.stringify(payload)]).k).toMatchObject({ count: 1, shed: 0 });
  });

  it('refuses an unknown outcome with INVALID_ARGUMENT and records nothing', () => {
    const { t } = tracker();
    try {
      t.record('k', 1, { outcome: 'dropped' as RequestOutcome });
      throw new Error('expected a throw');
    } catch (err) {
      expect(isHeadroomError(err, 'INVALID_ARGUMENT')).toBe(true);
      expect((err as { argument: string }).argument).toBe('options.outcome');
    }
    expect(t.stats('k').count).toBe(0);
  });
});
