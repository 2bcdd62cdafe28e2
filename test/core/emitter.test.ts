import { afterEach, describe, expect, it, vi } from 'vitest';
import { Emitter } from '../../src/core/index.js';

interface Events {
  hit: { key: string };
  miss: { key: string };
}

afterEach(() => vi.restoreAllMocks());

describe('Emitter', () => {
  it('calls listeners in order and reports whether anyone listens', () => {
    const events = new Emitter<Events>();
    const seen: string[] = [];
    expect(events.has('hit')).toBe(false);
    events.on('hit', ({ key }) => seen.push(`a:${key}`));
    events.on('hit', ({ key }) => seen.push(`b:${key}`));
    expect(events.has('hit')).toBe(true);
    expect(events.has('miss')).toBe(false);
    events.emit('hit', { key: 'k' });
    expect(seen).toEqual(['a:k', 'b:k']);
  });

  it('returns a disposer that removes exactly its listener, once', () => {
    const events = new Emitter<Events>();
    const calls: string[] = [];
    const a = (): void => void calls.push('a');
    const offA = events.on('hit', a);
    events.on('hit', () => calls.push('b'));
    offA();
    offA();
    events.emit('hit', { key: 'k' });
    expect(calls).toEqual(['b']);
  });

  it('forgets the event once its last listener is gone', () => {
    const events = new Emitter<Events>();
    const off = events.on('miss', () => {});
    off();
    expect(events.has('miss')).toBe(false);
  });

  it('keeps emitting to the others and warns when a listener throws', () => {
    const events = new Emitter<Events>();
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const calls: string[] = [];
    events.on('hit', () => {
      throw new Error('boom');
    });
    events.on('hit', () => calls.push('after'));
    events.emit('hit', { key: 'k' });
    expect(calls).toEqual(['after']);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]?.[0])).toContain('boom');
  });

  it('lets a listener remove itself while an emit is running', () => {
    const events = new Emitter<Events>();
    const calls: string[] = [];
    const off = events.on('hit', () => {
      calls.push('once');
      off();
    });
    events.on('hit', () => calls.push('stays'));
    events.emit('hit', { key: 'k' });
    events.emit('hit', { key: 'k' });
    expect(calls).toEqual(['once', 'stays', 'stays']);
  });

  it('clears one event or all', () => {
    const events = new Emitter<Events>();
    events.on('hit', () => {});
    events.on('miss', () => {});
    events.clear('hit');
    expect(events.has('hit')).toBe(false);
    expect(events.has('miss')).toBe(true);
    events.clear();
    expect(events.has('miss')).toBe(false);
  });

  it('rejects a listener that is not a function', () => {
    const events = new Emitter<Events>();
    expect(() => events.on('hit', 42 as never)).toThrow(TypeError);
  });
});
