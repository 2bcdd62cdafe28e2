import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BusPulse } from '../../src/cache/bus-pulse.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** A pulse whose heartbeats are answered by Redis (or not) and echoed (or not) as the test says. */
function pulse(options: { answer: boolean; echo: boolean }) {
  const sent: number[] = [];
  const silences: Array<{ at: number; answered: boolean }> = [];
  let ticks = 0;
  const p: BusPulse = new BusPulse({
    intervalMs: 500,
    silenceMs: 1_500,
    send: async (beat) => {
      sent.push(beat);
      if (options.echo) p.heard();
      return options.answer;
    },
    tick: () => ticks++,
    silent: (answered) => silences.push({ at: Date.now(), answered }),
  });
  return { p, sent, silences, ticks: () => ticks };
}

describe('BusPulse', () => {
  it('never declares silence while echoes come back', async () => {
    const { p, silences, sent, ticks } = pulse({ answer: true, echo: true });
    p.start();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(silences).toEqual([]);
    expect(sent).toHaveLength(20);
    expect(ticks()).toBe(20);
    p.stop();
  });

  it('declares silence within silenceMs + one interval of the last echo, and says Redis answered', async () => {
    const options = { answer: true, echo: true };
    const { p, silences } = pulse(options);
    p.start();
    await vi.advanceTimersByTimeAsync(2_000);
    const lastEcho = p.lastHeard;
    options.echo = false; // the subscriber connection goes silent
    await vi.advanceTimersByTimeAsync(3_000);
    expect(silences.length).toBeGreaterThan(0);
    const first = silences[0]!;
    expect(first.at - lastEcho).toBeGreaterThan(1_500);
    expect(first.at - lastEcho).toBeLessThanOrEqual(1_500 + 500);
    expect(first.answered).toBe(true);
    p.stop();
  });

  it('does not count a starved event loop as silence: the echo it kept unread arrives right after', async () => {
    const options = { answer: true, echo: true };
    const { p, silences } = pulse(options);
    p.start();
    await vi.advanceTimersByTimeAsync(2_000);
    options.echo = false; // the echo waits, unread, in the socket
    vi.setSystemTime(Date.now() + 5_000); // the loop is blocked for 5 s: no tick runs
    await vi.advanceTimersByTimeAsync(500); // the first tick after the stall, 5 s late
    expect(silences).toEqual([]);
    expect(p.isSilent()).toBe(false);
    p.heard(); // the socket is read: the echo was there
    options.echo = true;
    await vi.advanceTimersByTimeAsync(3_000);
    expect(silences).toEqual([]);
    p.stop();
  });

  it('still declares real silence after a stall, once silenceMs passed on time', async () => {
    const options = { answer: true, echo: true };
    const { p, silences } = pulse(options);
    p.start();
    await vi.advanceTimersByTimeAsync(2_000);
    options.echo = false; // this time the subscriber connection really is silent
    vi.setSystemTime(Date.now() + 5_000);
    await vi.advanceTimersByTimeAsync(500);
    expect(silences).toEqual([]);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(silences.length).toBeGreaterThan(0);
    p.stop();
  });

  it('reports that Redis did not answer when the heartbeats themselves fail', async () => {
    const { p, silences } = pulse({ answer: false, echo: false });
    p.start();
    await vi.advanceTimersByTimeAsync(2_500);
    expect(silences.length).toBeGreaterThan(0);
    expect(silences.every((s) => !s.answered)).toBe(true);
    p.stop();
  });

  it('keeps at most one heartbeat in flight', async () => {
    const sent: number[] = [];
    let release: (answered: boolean) => void = () => {};
    const p = new BusPulse({
      intervalMs: 100,
      silenceMs: 300,
      send: (beat) => {
        sent.push(beat);
        return new Promise<boolean>((resolve) => {
          release = resolve;
        });
      },
      tick: () => {},
      silent: () => {},
    });
    p.start();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(sent).toEqual([1]);
    release(false);
    await vi.advanceTimersByTimeAsync(100);
    expect(sent).toEqual([1, 2]);
    p.stop();
  });

  it('stops its interval on stop()', async () => {
    const { p, sent } = pulse({ answer: true, echo: true });
    p.start();
    await vi.advanceTimersByTimeAsync(1_000);
    p.stop();
    const count = sent.length;
    await vi.advanceTimersByTimeAsync(5_000);
    expect(sent).toHaveLength(count);
    expect(vi.getTimerCount()).toBe(0);
  });
});
