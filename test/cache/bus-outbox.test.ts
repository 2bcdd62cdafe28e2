import { describe, expect, it } from 'vitest';
import { BusOutbox } from '../../src/cache/bus-outbox.js';

describe('BusOutbox', () => {
  it('sends in order and stops at the first failure, keeping the rest for the next flush', async () => {
    const outbox = new BusOutbox(10, () => 'clear-all');
    for (const text of ['a', 'b', 'c']) outbox.add(text);
    const sent: string[] = [];
    await outbox.flush(async (text) => {
      if (text === 'b' && sent.length === 1) return false;
      sent.push(text);
      return true;
    });
    expect(sent).toEqual(['a']);
    expect(outbox.size).toBe(2);
    await outbox.flush(async (text) => {
      sent.push(text);
      return true;
    });
    expect(sent).toEqual(['a', 'b', 'c']);
    expect(outbox.size).toBe(0);
  });

  it('collapses into one clear-everything message when it overflows', async () => {
    const outbox = new BusOutbox(3, () => 'clear-all');
    for (const text of ['a', 'b', 'c', 'd']) outbox.add(text);
    expect(outbox.size).toBe(1);
    outbox.add('e');
    const sent: string[] = [];
    await outbox.flush(async (text) => {
      sent.push(text);
      return true;
    });
    expect(sent).toEqual(['clear-all', 'e']);
  });

  it('runs one flush at a time', async () => {
    const outbox = new BusOutbox(10, () => 'clear-all');
    outbox.add('a');
    let release: () => void = () => {};
    const calls: string[] = [];
    const first = outbox.flush((text) => {
      calls.push(text);
      return new Promise<boolean>((resolve) => {
        release = () => resolve(true);
      });
    });
    await outbox.flush(async (text) => {
      calls.push(`second:${text}`);
      return true;
    });
    release();
    await first;
    expect(calls).toEqual(['a']);
    expect(outbox.size).toBe(0);
  });
});
