import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metricsHandler } from '../../src/dashboard/index.js';
import { toNode } from '../../src/http/index.js';
import { CircuitBreaker } from '../../src/resilience/index.js';

const payments = new CircuitBreaker({ name: 'payments', trip: { consecutive: 2 }, cooldown: '1m' });
const search = new CircuitBreaker({ name: 'search' });
let server: http.Server;
let url: string;

beforeAll(async () => {
  // The dashboard reads breakers through its structural { state, stats() }: no adapter needed.
  const metrics = toNode(metricsHandler({ breakers: { payments, search } }));
  server = http.createServer((req, res) => metrics(req, res, () => res.end()));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('CircuitBreaker on the dashboard', () => {
  it('exports its state and counters on the metrics endpoint', async () => {
    await search.execute(() => 'ok');
    for (let i = 0; i < 2; i++) await payments.execute(() => Promise.reject(new Error('down'))).catch(() => undefined);
    await payments.execute(() => 'refused').catch(() => undefined);
    const text = await (await fetch(url)).text();
    expect(text).toContain('headroom_breaker_state{breaker="payments",state="open"} 1');
    expect(text).toContain('headroom_breaker_state{breaker="search",state="closed"} 1');
    expect(text).toContain('headroom_breaker_opened_total{breaker="payments"} 1');
    expect(text).toContain('headroom_breaker_rejected_total{breaker="payments"} 1');
    expect(text).toContain('headroom_breaker_failures_total{breaker="payments"} 2');
    expect(text).toContain('headroom_breaker_successes_total{breaker="search"} 1');
  });
});
