/** Alert rules: transitions under fake time, and the webhook over real HTTP on loopback. */
import { once } from 'node:events';
import http, { type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { isHeadroomError, type Duration } from '../../src/core/index.js';
import {
  alertRules,
  type Alert,
  type AlertDeliveryError,
  type AlertRulesOptions,
  type AlertWebhookOptions,
  type ResolvedAlert,
} from '../../src/dashboard/index.js';
import { HealthChecker, type CheckResult } from '../../src/health/index.js';
import { toNode } from '../../src/http/index.js';
import { PercentileTracker, percentileMiddleware } from '../../src/percentiles/index.js';
import { eventually } from '../support/async.js';

const closers: (() => unknown)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  vi.useRealTimers();
});

function track<T extends { close(): unknown }>(thing: T): T {
  closers.push(() => thing.close());
  return thing;
}

/** Records `firing` and `resolved` events. */
function recorder(alerts: ReturnType<typeof alertRules>) {
  const fired: Alert[] = [];
  const resolved: ResolvedAlert[] = [];
  alerts.on('firing', (a) => fired.push(a));
  alerts.on('resolved', (a) => resolved.push(a));
  return { fired, resolved };
}

describe('alertRules under fake time', () => {
  it('fires once when a p99 budget has been crossed for the rule duration, and resolves once back under', async () => {
    vi.useFakeTimers({ now: Date.UTC(2026, 0, 1), toFake: ['Date', 'setInterval', 'clearInterval', 'setTimeout', 'clearTimeout'] });
    const tracker = track(new PercentileTracker({ windows: ['1m'], clock: () => Date.now() }));
    const alerts = track(
      alertRules({ percentiles: tracker, rules: [{ name: 'slow-report', severity: 'warning', key: 'GET /report', p99Above: '100ms', for: '30s' }] }),
    );
    const { fired, resolved } = recorder(alerts);
    /** `seconds` of traffic, 10 requests a second of `ms` each, evaluated every second. */
    const traffic = async (seconds: number, ms: number): Promise<void> => {
      for (let s = 0; s < seconds; s++) {
        for (let i = 0; i < 10; i++) tracker.record('GET /report', ms);
        await vi.advanceTimersByTimeAsync(1_000);
      }
    };

    await traffic(10, 20);
    expect(fired).toEqual([]);
    const slowFrom = Date.now();
    await traffic(29, 250);
    expect(fired).toEqual([]); // crossed, but not for 30 s yet
    await traffic(2, 250);
    expect(fired).toHaveLength(1);
    expect(fired[0]).toMatchObject({
      rule: 'slow-report',
      severity: 'warning',
      condition: 'p99Above',
      subject: 'GET /report',
      value: 250,
      threshold: 100,
      summary: 'p99 of GET /report is 250 ms, above 100 ms',
    });
    expect(fired[0]!.since - slowFrom).toBeLessThanOrEqual(1_000);
    expect(fired[0]!.firedAt - fired[0]!.since).toBeGreaterThanOrEqual(30_000);
    await traffic(20, 250);
    expect(fired).toHaveLength(1); // still firing: no second event
    expect(alerts.active()).toHaveLength(1);

    // Fast again: once the slow minute has left the window, it resolves, once.
    await traffic(70, 20);
    expect(resolved).toHaveLength(1);
    expect(resolved[0]).toMatchObject({ rule: 'slow-report', subject: 'GET /report', firedAt: fired[0]!.firedAt });
    expect(resolved[0]!.resolvedAt).toBeGreaterThan(fired[0]!.firedAt);
    expect(alerts.active()).toEqual([]);
    await traffic(30, 20);
    expect(fired).toHaveLength(1);
    expect(resolved).toHaveLength(1);
  });

  it('watches every key when the rule names none, each its own alert, by error ratio', async () => {
    vi.useFakeTimers({ now: Date.UTC(2026, 0, 1), toFake: ['Date', 'setInterval', 'clearInterval'] });
    const tracker = track(new PercentileTracker({ clock: () => Date.now() }));
    const alerts = track(alertRules({ percentiles: tracker, rules: [{ name: 'errors', severity: 'critical', errorRatioAbove: 0.1, for: '5s' }] }));
    const { fired } = recorder(alerts);
    for (let i = 0; i < 10; i++) {
      tracker.record('GET /a', 5, { error: i < 5 });
      tracker.record('GET /b', 5, { error: i < 5 });
      tracker.record('GET /c', 5);
    }
    await vi.advanceTimersByTimeAsync(6_000);
    expect(fired.map((a) => a.subject).sort()).toEqual(['GET /a', 'GET /b']);
    expect(fired[0]).toMatchObject({ condition: 'errorRatioAbove', value: 0.5, threshold: 0.1, summary: expect.stringContaining('50%') });
  });

  it('fires when a health check fails for the rule duration and resolves when it passes', async () => {
    vi.useFakeTimers({ now: Date.UTC(2026, 0, 1), toFake: ['Date', 'setInterval', 'clearInterval'] });
    const db: { result: CheckResult } = { result: { status: 'pass' } };
    const health = track(new HealthChecker({ cacheFor: 0 }));
    health.register('db', () => db.result).register('disk', () => ({ status: 'warn' }));
    const alerts = track(alertRules({ health, rules: [{ name: 'db-down', severity: 'critical', checkFailing: true, for: '3s' }], interval: '500ms' }));
    const { fired, resolved } = recorder(alerts);
    await vi.advanceTimersByTimeAsync(2_000);
    db.result = { status: 'fail', output: 'connection refused' };
    await vi.advanceTimersByTimeAsync(2_000);
    expect(fired).toEqual([]);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(fired).toHaveLength(1); // db only: disk warns, which is not failing
    expect(fired[0]).toMatchObject({ subject: 'db', value: null, threshold: null, summary: 'health check db is failing: connection refused' });
    db.result = { status: 'pass' };
    await vi.advanceTimersByTimeAsync(2_000);
    expect(resolved).toHaveLength(1);
    expect(fired).toHaveLength(1);
  });

  it('stops on close(): no evaluation, no event, listeners gone; on() returns a disposer', async () => {
    vi.useFakeTimers({ now: Date.UTC(2026, 0, 1), toFake: ['Date', 'setInterval', 'clearInterval'] });
    const tracker = track(new PercentileTracker({ clock: () => Date.now() }));
    const alerts = alertRules({ percentiles: tracker, rules: [{ name: 'slow', severity: 'info', p99Above: 1, for: 0 }] });
    const seen: string[] = [];
    const off = alerts.on('firing', (a) => seen.push(`a:${a.subject}`));
    alerts.on('firing', (a) => seen.push(`b:${a.subject}`));
    tracker.record('GET /x', 5);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(seen).toEqual(['a:GET /x', 'b:GET /x']);
    off();
    tracker.record('GET /y', 5);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(seen).toEqual(['a:GET /x', 'b:GET /x', 'b:GET /y']);
    await alerts.close();
    expect(vi.getTimerCount()).toBe(0);
    tracker.record('GET /z', 5);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(alerts.evaluate()).toEqual([]);
    expect(alerts.active()).toEqual([]);
    expect(seen).toHaveLength(3);
  });

  it('rejects bad rules with INVALID_ARGUMENT naming the rule and field', () => {
    const tracker = track(new PercentileTracker());
    const health = track(new HealthChecker());
    const base = { name: 'r', severity: 'warning', for: '1m' } as const;
    const cases: [AlertRulesOptions, string][] = [
      [{ percentiles: tracker, rules: [] }, 'rules'],
      [{ percentiles: tracker, rules: [{ ...base, severity: 'fatal' as never, p99Above: 10 }] }, 'rules[0].severity'],
      [{ percentiles: tracker, rules: [{ ...base }] }, 'rules[0]'],
      [{ percentiles: tracker, rules: [{ ...base, p99Above: 10, errorRatioAbove: 0.1 }] }, 'rules[0]'],
      [{ percentiles: tracker, rules: [{ ...base, p99Above: 10, for: undefined as never }] }, 'rules[0].for'],
      [{ percentiles: tracker, rules: [{ ...base, p99Above: '10 parsecs' as never }] }, 'rules[0].p99Above'],
      [{ percentiles: tracker, rules: [{ ...base, errorRatioAbove: 2 }] }, 'rules[0].errorRatioAbove'],
      [
        {
          percentiles: tracker,
          rules: [
            { ...base, p99Above: 10 },
            { ...base, p99Above: 20 },
          ],
        },
        'rules[1].name',
      ],
      [{ percentiles: tracker, rules: [{ ...base, checkFailing: 'db' }] }, 'rules[0].checkFailing'],
      [{ health, rules: [{ ...base, p99Above: 10 }] }, 'rules[0].p99Above'],
      [{ percentiles: tracker, rules: [{ ...base, p99Above: 10, window: '2m' }] }, 'rules[0].window'],
      [{ percentiles: tracker, rules: [{ ...base, p99Above: 10 }], webhook: { url: 'ftp://x' } }, 'webhook.url'],
      [{ percentiles: tracker, rules: [{ ...base, p99Above: 10 }], webhook: { url: 'http://x', retries: -1 } }, 'webhook.retries'],
      [{ percentiles: tracker, rules: [{ ...base, p99Above: 10 }], interval: 0 }, 'interval'],
    ];
    for (const [options, argument] of cases) {
      let error: unknown;
      try {
        track(alertRules(options));
      } catch (err) {
        error = err;
      }
      expect(isHeadroomError(error, 'INVALID_ARGUMENT'), argument).toBe(true);
      expect((error as { argument: string }).argument, argument).toBe(argument);
    }
  });
});

/** A webhook receiver on loopback; `answer` decides what each POST gets. */
async function receiver(answer: (req: IncomingMessage, res: ServerResponse, body: string) => void) {
  const bodies: string[] = [];
  const server: Server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      bodies.push(body);
      answer(req, res, body);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  closers.push(
    () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(resolve);
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, bodies };
}

/**
 * Alert rules firing on any recorded latency (`p99Above: 0`), posting to a receiver that never
 * answers; the hanging responses are destroyed after the test.
 */
async function hangingWebhook(webhook: Omit<AlertWebhookOptions, 'url'>, interval: Duration) {
  const hanging: ServerResponse[] = [];
  const hook = await receiver((_req, res) => hanging.push(res));
  closers.push(() => {
    for (const res of hanging) res.destroy();
  });
  const tracker = track(new PercentileTracker());
  const alerts = track(
    alertRules({
      percentiles: tracker,
      rules: [{ name: 'any-latency', severity: 'info', p99Above: 0, for: 0 }],
      webhook: { url: hook.url, ...webhook },
      interval,
    }),
  );
  const errors: AlertDeliveryError[] = [];
  alerts.on('delivery-error', (e) => errors.push(e));
  return { hanging, tracker, alerts, errors };
}

describe('alert webhook', () => {
  it('posts each transition as JSON', async () => {
    const hook = await receiver((_req, res) => res.writeHead(204).end());
    const tracker = track(new PercentileTracker());
    const alerts = track(
      alertRules({
        percentiles: tracker,
        rules: [{ name: 'slow', severity: 'critical', key: 'GET /x', p99Above: 50, for: 0 }],
        webhook: { url: hook.url, headers: { authorization: 'Bearer hook' } },
        interval: '1h',
      }),
    );
    tracker.record('GET /x', 80);
    alerts.evaluate();
    tracker.delete('GET /x');
    alerts.evaluate();
    await eventually(() => expect(alerts.webhookStats()).toEqual({ delivered: 2, failed: 0, pending: 0 }));
    const [firing, resolved] = hook.bodies.map((b) => JSON.parse(b) as { status: string; alert: Alert & { resolvedAt?: number } });
    expect(firing).toMatchObject({ status: 'firing', alert: { rule: 'slow', subject: 'GET /x', value: 80, threshold: 50 } });
    expect(resolved).toMatchObject({ status: 'resolved', alert: { rule: 'slow', subject: 'GET /x' } });
    expect(hook.bodies).toHaveLength(2);
  });

  it('retries a failing webhook, then reports it; a full queue drops instead of waiting', async () => {
    const hook = await receiver((_req, res) => res.writeHead(500).end('no'));
    const tracker = track(new PercentileTracker());
    const alerts = track(
      alertRules({
        percentiles: tracker,
        rules: ['a', 'b', 'c', 'd'].map((name) => ({ name, severity: 'warning' as const, p99Above: 1, for: 0 })),
        webhook: { url: hook.url, retries: 2, backoff: '10ms', maxQueued: 2 },
        interval: '1h',
      }),
    );
    const errors: AlertDeliveryError[] = [];
    alerts.on('delivery-error', (e) => errors.push(e));
    tracker.record('GET /x', 5);
    alerts.evaluate(); // four alerts fire at once: one posting, two queued, one dropped
    await eventually(() => expect(errors).toHaveLength(4));
    expect(errors.filter((e) => isHeadroomError(e.error, 'QUEUE_FULL'))).toHaveLength(1);
    const failed = errors.filter((e) => !isHeadroomError(e.error));
    expect(failed).toHaveLength(3);
    expect(String((failed[0]!.error as Error).message)).toContain('answered 500');
    expect(hook.bodies).toHaveLength(3 * 3); // each delivered message: 1 attempt + 2 retries
    expect(alerts.webhookStats()).toEqual({ delivered: 0, failed: 4, pending: 0 });
  });

  it('never delays a request while the webhook hangs', async () => {
    const { hanging, tracker, alerts, errors } = await hangingWebhook({ timeout: '30s', retries: 0 }, '20ms');
    const timed = toNode(percentileMiddleware(tracker, { key: (e) => `${e.method} ${e.path}` }));
    const service = http.createServer((req, res) => timed(req, res, () => res.end('ok')));
    service.listen(0, '127.0.0.1');
    await once(service, 'listening');
    closers.push(() => new Promise((resolve) => service.close(resolve)));
    const url = `http://127.0.0.1:${(service.address() as AddressInfo).port}`;

    expect(await (await fetch(`${url}/first`)).text()).toBe('ok');
    await eventually(() => expect(hanging).toHaveLength(1)); // the alert fired; its POST hangs
    // Requests keep being answered while the POST hangs, new routes firing alerts of their own
    // that queue up behind it.
    for (let i = 0; i < 30; i++) expect(await (await fetch(`${url}/r${i % 10}`)).text()).toBe('ok');
    expect(hanging).toHaveLength(1);
    expect(errors).toEqual([]);
    expect(alerts.webhookStats()).toMatchObject({ delivered: 0, failed: 0 });
    expect(alerts.webhookStats()?.pending).toBeGreaterThan(1);
  });

  it('bounds each POST by its timeout, retries, then reports it', async () => {
    const { hanging, tracker, alerts, errors } = await hangingWebhook({ timeout: '300ms', retries: 1, backoff: '10ms' }, '1h');
    tracker.record('GET /x', 5);
    alerts.evaluate();
    await eventually(() => expect(errors).toHaveLength(1), 5_000);
    expect(isHeadroomError(errors[0]!.error, 'OPERATION_TIMEOUT')).toBe(true);
    expect(errors[0]).toMatchObject({ status: 'firing', alert: { subject: 'GET /x' } });
    expect(hanging).toHaveLength(2); // the attempt and its retry, each abandoned at 300 ms
    expect(alerts.webhookStats()).toEqual({ delivered: 0, failed: 1, pending: 0 });
  });
});
