/** Reading the dashboard's event stream as a client does, and the documented frame shape. */
import { expect } from 'vitest';
import type { DashboardFrame } from '../../src/dashboard/index.js';

/** One event as received. */
export interface Received {
  at: number;
  id: string | undefined;
  frame: DashboardFrame;
}

/**
 * Opens `url` with fetch and collects its events until `until(events)` says stop or `ms`
 * pass; then aborts the request (the client goes away).
 */
export async function readEvents(
  url: string,
  options: { ms: number; until?: (events: Received[]) => boolean; headers?: Record<string, string> },
): Promise<{ status: number; headers: Headers; events: Received[]; retry: number | undefined }> {
  const controller = new AbortController();
  const response = await fetch(url, { signal: controller.signal, headers: options.headers });
  const events: Received[] = [];
  let retry: number | undefined;
  if (response.body === null || !(response.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
    controller.abort();
    return { status: response.status, headers: response.headers, events, retry };
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  const deadline = Date.now() + options.ms;
  let buffer = '';
  const timer = setTimeout(() => controller.abort(), options.ms);
  try {
    while (Date.now() < deadline && !(options.until?.(events) ?? false)) {
      const chunk = await reader.read().catch(() => ({ done: true, value: undefined }));
      if (chunk.done) break;
      buffer += chunk.value;
      let end: number;
      while ((end = buffer.indexOf('\n\n')) !== -1) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let id: string | undefined;
        let data: string | undefined;
        for (const line of block.split('\n')) {
          if (line.startsWith('retry: ')) retry = Number(line.slice(7));
          else if (line.startsWith('id: ')) id = line.slice(4);
          else if (line.startsWith('data: ')) data = line.slice(6);
        }
        if (data !== undefined) events.push({ at: Date.now(), id, frame: JSON.parse(data) as DashboardFrame });
      }
    }
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  return { status: response.status, headers: response.headers, events, retry };
}

const nullable = (type: string) => (value: unknown) => value === null || typeof value === type;

/** Checks `frame` against the documented {@link DashboardFrame} shape, field by field. */
export function expectDocumentedFrame(frame: DashboardFrame): void {
  expect(Object.keys(frame).sort()).toEqual(
    ['version', 'time', 'intervalMs', 'window', 'routes', 'health', 'cache', 'queues', 'idempotency', 'breakers', 'limiters', 'alerts'].sort(),
  );
  expect(frame.version).toBe(1);
  expect(Number.isInteger(frame.time)).toBe(true);
  expect(nullable('string')(frame.window)).toBe(true);
  for (const r of frame.routes) {
    expect(Object.keys(r).sort()).toEqual(['count', 'errorRatio', 'errors', 'key', 'p50', 'p95', 'p99', 'requestsPerSec', 'shed', 'timedOut']);
    for (const field of ['count', 'errorRatio', 'errors', 'p50', 'p95', 'p99', 'requestsPerSec'] as const) expect(typeof r[field]).toBe('number');
    expect(nullable('number')(r.shed) && nullable('number')(r.timedOut)).toBe(true);
  }
  if (frame.health !== null) {
    expect(['healthy', 'degraded', 'unhealthy']).toContain(frame.health.status);
    for (const c of frame.health.checks) {
      expect(Object.keys(c).sort()).toEqual(['critical', 'durationMs', 'name', 'output', 'status']);
      expect(['pass', 'warn', 'fail']).toContain(c.status);
      expect(nullable('string')(c.output)).toBe(true);
    }
  }
  if (frame.cache !== null) {
    expect(Object.keys(frame.cache).sort()).toEqual([
      'breaker',
      'busConnected',
      'factoryRuns',
      'factoryRunsSaved',
      'l1Entries',
      'l1HitRatio',
      'l2HitRatio',
      'staleServed',
    ]);
    expect(nullable('number')(frame.cache.l1HitRatio) && nullable('number')(frame.cache.l2HitRatio)).toBe(true);
    expect(nullable('boolean')(frame.cache.busConnected)).toBe(true);
  }
  for (const q of frame.queues) {
    expect(Object.keys(q).sort()).toEqual(['avgWaitMs', 'concurrency', 'maxSize', 'name', 'rejected', 'rejectedPerSec', 'running', 'waiting']);
    expect(nullable('number')(q.avgWaitMs) && nullable('number')(q.maxSize)).toBe(true);
  }
  if (frame.idempotency !== null) {
    expect(Object.keys(frame.idempotency).sort()).toEqual([
      'compensatingReleases',
      'completionRetries',
      'conflicts',
      'executions',
      'keyReused',
      'notStored',
      'replays',
      'running',
      'storeUnavailable',
    ]);
  }
  for (const b of frame.breakers) expect(typeof b.state).toBe('string');
  for (const a of frame.alerts) {
    expect(Object.keys(a).sort()).toEqual(['condition', 'firedAt', 'rule', 'severity', 'since', 'subject', 'summary', 'threshold', 'value']);
  }
}
