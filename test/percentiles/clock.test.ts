import { describe, expect, it } from 'vitest';
import { isHeadroomError, PercentileTracker } from '../../src/percentiles/index.js';
import { TestClock } from '../support/test-clock.js';

describe('PercentileTracker clock option', () => {
  it('takes a Clock object, as every headroom clock option does, and ages its windows on it', async () => {
    const clock = new TestClock(0);
    const t = new PercentileTracker({ windows: ['1m', '1h'], clock });
    t.record('GET /a', 12);
    expect(t.stats('GET /a').count).toBe(1);
    await clock.advance(61_000);
    expect(t.stats('GET /a').count).toBe(0);
    expect(t.stats('GET /a', { window: '1h' }).count).toBe(1);
    t.close();
  });

  it('still takes a function returning the time', () => {
    let now = 0;
    const t = new PercentileTracker({ windows: ['1m'], clock: () => now });
    t.record('GET /a', 5);
    now += 61_000;
    expect(t.stats('GET /a').count).toBe(0);
    t.close();
  });

  it('rejects anything else with INVALID_ARGUMENT naming clock', () => {
    let error: unknown;
    try {
      new PercentileTracker({ clock: 42 as never });
    } catch (e) {
      error = e;
    }
    expect(isHeadroomError(error, 'INVALID_ARGUMENT')).toBe(true);
    expect((error as { argument?: string }).argument).toBe('clock');
  });
});
