/**
 * The dashboard as a person sees it: headless Chromium on a real service under load, over real
 * HTTP on loopback, with a real Redis behind the cache.
 */
import { copyFileSync, readFileSync } from 'node:fs';
import http, { type ServerResponse } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dashboardHandler, type DashboardFrame } from '../../src/dashboard/index.js';
import { toNode } from '../../src/http/index.js';
import { startRedis, stopAllRedis, type RedisServer } from '../support/redis.js';
import { HAS_CHROMIUM, NO_CHROMIUM, launchBrowser } from './browser.js';
import { listen, load, makeParts } from './service.js';

const suite = HAS_CHROMIUM ? describe : describe.skip;
const title = HAS_CHROMIUM ? 'dashboard page in headless Chromium' : `dashboard page in headless Chromium (${NO_CHROMIUM})`;

/** PNG files start with these eight bytes. */
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

suite(title, () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(stopAllRedis);

  it('shows the service live: figures match the sources, a failing check within 2 s, and it recovers after a restart', async () => {
    const parts = makeParts(redis.client(), 'dash-browser:');
    let service = await listen(parts);
    const traffic = load(() => service.url, 4);
    const browser = await launchBrowser();
    try {
      const page = await browser.context.newPage();
      const consoleErrors: string[] = [];
      const pageErrors: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') consoleErrors.push(m.text());
      });
      page.on('pageerror', (e) => pageErrors.push(String(e)));
      const response = await page.goto(`${service.url}/dashboard`);
      expect(response?.headers()['content-security-policy']).toContain("default-src 'none'");

      const keys = ['GET /fast', 'GET /slow', 'GET /report', 'POST /orders'];
      for (const key of keys) await page.waitForSelector(`tr[data-key="${key}"]`, { timeout: 5_000 });
      await page.waitForSelector('#cache dd', { timeout: 3_000 });

      // Each route's p99 is the tracker's, within one refresh: hold the load still, read the
      // tracker, and the page must show exactly those figures by the next frame.
      await traffic.settle();
      const expected = Object.fromEntries(keys.map((key) => [key, String(parts.tracker.stats(key).p99)]));
      const shown = (): Promise<Record<string, string | null>> =>
        page.evaluate(
          (list) =>
            Object.fromEntries(
              list.map((key) => [key, document.querySelector(`tr[data-key="${key}"] td[data-field="p99"]`)?.getAttribute('data-value') ?? null]),
            ),
          keys,
        );
      await page
        .waitForFunction(
          (want) =>
            Object.entries(want).every(
              ([key, value]) => document.querySelector(`tr[data-key="${key}"] td[data-field="p99"]`)?.getAttribute('data-value') === value,
            ),
          expected,
          { timeout: 1_500, polling: 50 },
        )
        .catch(async () => expect(await shown()).toEqual(expected));
      for (const key of keys) expect(Number(expected[key])).toBeGreaterThan(0);

      // The other parts show what their sources say.
      const text = (selector: string): Promise<string> => page.locator(selector).innerText();
      expect(await page.getAttribute('#health-status', 'data-status')).toBe('healthy');
      expect(await text('#cache')).toMatch(/invalidation bus\s+connected/);
      expect(await text('#idempotency')).toMatch(/executions\s+[1-9]/);
      expect(await page.getAttribute('#queues tr[data-name="http"] td[data-field="rejected"]', 'data-value')).toBe(String(parts.queue.stats().rejected));
      await page.waitForSelector('#alert-list li[data-rule="slow-slow"]', { timeout: 3_000 });
      // headroom's own breaker and limiter, passed as they are, with their counters.
      expect(await page.getAttribute('#breakers tr[data-name="pricing"] td[data-field="state"] .badge', 'data-status')).toBe('closed');
      expect(await text('#breakers tr[data-name="pricing"] td[data-field="counters"]')).toMatch(/successes [1-9]/);
      expect(await text('#limiters tr[data-name="per-client"] td[data-field="counters"]')).toMatch(/allowed [1-9]\d*, limited 0/);

      const screenshot = join(tmpdir(), `headroom-dashboard-${process.pid}.png`);
      traffic.paused = false;
      if (process.env.UPDATE_SCREENSHOTS === '1') await sleep(45_000); // some history in the charts
      await page.screenshot({ path: screenshot, fullPage: true });
      expect(readFileSync(screenshot).subarray(0, 8)).toEqual(PNG_SIGNATURE);
      if (process.env.UPDATE_SCREENSHOTS === '1') copyFileSync(screenshot, join(import.meta.dirname, '../../docs/dashboard.png'));

      // A check turned failing shows as failing within 2 s (the checker caches for 250 ms).
      parts.db.result = { status: 'fail', output: 'connect ECONNREFUSED 127.0.0.1:5432' };
      await page.waitForSelector('tr[data-check="db"] td[data-field="status"][data-value="fail"]', { timeout: 2_000 });
      expect(await page.getAttribute('#health-status', 'data-status')).toBe('unhealthy');
      await page.waitForSelector('#alert-list li[data-rule="db-down"]', { timeout: 3_000 });
      parts.db.result = { status: 'pass' };

      expect(consoleErrors).toEqual([]);
      expect(pageErrors).toEqual([]);

      // The server goes away and comes back on the same port: the page reconnects by itself.
      const port = service.port;
      await service.close();
      await page.waitForSelector('#conn[data-state="reconnecting"]', { timeout: 5_000 });
      await sleep(500);
      service = await listen(parts, port);
      const before = Number(await page.getAttribute('body', 'data-frame-time'));
      await page.waitForFunction(
        (t) => Number(document.body.getAttribute('data-frame-time')) > t && document.getElementById('conn')?.getAttribute('data-state') === 'live',
        before,
        { timeout: 10_000 },
      );
      await page.waitForSelector('tr[data-check="db"] td[data-field="status"][data-value="pass"]', { timeout: 3_000 });
      expect(pageErrors).toEqual([]);

      // Closing the tab closes its feed.
      expect(service.dashboard.clients).toBe(1);
      await page.close();
      for (let i = 0; i < 50 && service.dashboard.clients > 0; i++) await sleep(20);
      expect(service.dashboard.clients).toBe(0);
    } finally {
      await traffic.stop();
      await browser.close();
      await service.close();
      await parts.close();
    }
  }, 120_000);

  it('stays bounded in memory however long it stays open', async () => {
    // The real page, fed hours of frames as fast as it reads them: five steady routes and a new
    // route every 20 s (each quiet after its 20 s), as a service with changing traffic: without
    // bounds the page would keep 270 routes of history.
    const dashboard = toNode(dashboardHandler({ title: 'memory' }));
    let feed: ServerResponse | undefined;
    const connected = new Promise<void>((resolve) => {
      const server = http.createServer((req, res) => {
        if (!(req.url ?? '').includes('events')) return dashboard(req, res);
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
        feed = res;
        resolve();
      });
      servers.push(server);
      server.listen(0, '127.0.0.1');
    });
    const server = servers[servers.length - 1] as http.Server;
    if (!server.listening) await once(server, 'listening');
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/dashboard`;

    let second = 0;
    const t0 = Date.UTC(2026, 0, 1);
    const frame = (): DashboardFrame => {
      second++;
      const route = (key: string, base: number) => ({
        key,
        requestsPerSec: 40 + (second % 7),
        count: 2_400,
        p50: base,
        p95: base * 2 + (second % 13),
        p99: base * 3 + (second % 29),
        errors: second % 5,
        errorRatio: (second % 5) / 2_400,
        shed: null,
        timedOut: null,
      });
      return {
        version: 1,
        time: t0 + second * 1_000,
        intervalMs: 1_000,
        window: '1m',
        routes: [
          ...['GET /a', 'GET /b', 'GET /c', 'POST /d', 'GET /e'].map((key, i) => route(key, 5 + i * 3)),
          route(`GET /churn/${Math.floor(second / 20)}`, 9),
        ],
        health: { status: 'healthy', message: 'healthy', checks: [{ name: 'db', status: 'pass', durationMs: 1.2, output: null, critical: true }] },
        cache: null,
        queues: [],
        idempotency: null,
        breakers: [],
        limiters: [],
        alerts: [],
      };
    };
    /** Sends `n` more frames, honouring backpressure, and waits until the page drew the last. */
    const send = async (n: number): Promise<void> => {
      const res = feed as ServerResponse;
      for (let i = 0; i < n; i++) {
        if (!res.write(`data: ${JSON.stringify(frame())}\n\n`)) await once(res, 'drain');
      }
      const last = String(t0 + second * 1_000);
      await page.waitForFunction((t) => document.body.getAttribute('data-frame-time') === t, last, { timeout: 60_000, polling: 100 });
    };

    const browser = await launchBrowser();
    const page = await browser.context.newPage();
    try {
      const pageErrors: string[] = [];
      page.on('pageerror', (e) => pageErrors.push(String(e)));
      await page.goto(url);
      await connected;
      const cdp = await browser.context.newCDPSession(page);
      const measure = async () => {
        await cdp.send('HeapProfiler.collectGarbage');
        const heap = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number };
        const dom = await page.evaluate(() => ({
          rows: document.querySelectorAll('#routes tbody tr').length,
          nodes: document.getElementsByTagName('*').length,
          pathChars: [...document.querySelectorAll('svg.spark path')].reduce((n, p) => n + (p.getAttribute('d') ?? '').length, 0),
        }));
        return { heap: heap.usedSize, ...dom };
      };

      await send(1_800); // half an hour
      const early = await measure();
      await send(3_600); // an hour more
      const late = await measure();
      console.log('dashboard page after 30 and 90 minutes of frames:', JSON.stringify({ early, late }));

      // 5 steady routes + the churning routes of the last 15 minutes (+1 at the boundary).
      expect(early.rows).toBeLessThanOrEqual(5 + 15 * 3 + 1);
      expect(late.rows).toBe(early.rows);
      expect(late.nodes).toBeLessThanOrEqual(early.nodes + 20);
      expect(late.pathChars).toBeLessThanOrEqual(early.pathChars * 1.2);
      // An hour more of frames leaves the heap where it was (GC noise aside).
      expect(late.heap).toBeLessThan(early.heap + 1_000_000);
      expect(pageErrors).toEqual([]);
    } finally {
      await page.close();
      await browser.close();
    }
  }, 180_000);
});

const servers: http.Server[] = [];
afterAll(async () => {
  for (const server of servers) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});
