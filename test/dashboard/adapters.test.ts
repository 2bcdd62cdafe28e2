/**
 * The dashboard (page and feed) and the metrics endpoint mounted app-wide with `path`, on every
 * adapter, over real HTTP on loopback.
 */
import { createHash } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { dashboardHandler, metricsHandler } from '../../src/dashboard/index.js';
import { HealthChecker } from '../../src/health/index.js';
import { compose } from '../../src/http/index.js';
import { PercentileTracker } from '../../src/percentiles/index.js';
import { TaskQueue } from '../../src/queue/index.js';
import { eventually } from '../support/async.js';
import { KINDS, startApp } from '../http/apps.js';
import { expectDocumentedFrame, readEvents } from './sse.js';

const tracker = new PercentileTracker();
for (let i = 1; i <= 50; i++) tracker.record('GET /fast', i);
const health = new HealthChecker();
health.register('db', () => true);
const queue = new TaskQueue({ name: 'http' });
afterAll(() => {
  health.close();
  tracker.close();
});

const AUTH = { authorization: 'Bearer ok' };

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('base64');
}

describe.each(KINDS)('dashboard on %s', (kind) => {
  it('serves the page under its CSP, the feed, the metrics, and passes other requests on', async () => {
    const dashboard = dashboardHandler({
      percentiles: tracker,
      health,
      queues: { http: queue },
      path: '/dashboard',
      interval: 250,
      authorize: (exchange) => exchange.header('authorization') === AUTH.authorization,
    });
    const app = await startApp(kind, compose(dashboard, metricsHandler({ percentiles: tracker, health, queues: { http: queue }, path: '/metrics' })));
    try {
      expect((await fetch(`${app.url}/dashboard`)).status).toBe(403);

      const page = await fetch(`${app.url}/dashboard`, { headers: AUTH });
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
      const html = await page.text();
      // The inline script and style are exactly the ones the policy allows, and nothing else loads.
      const csp = page.headers.get('content-security-policy') ?? '';
      const script = /<script>([\s\S]*?)<\/script>/.exec(html)?.[1] ?? '';
      const style = /<style>([\s\S]*?)<\/style>/.exec(html)?.[1] ?? '';
      expect(csp).toContain(`script-src 'sha256-${sha256(script)}'`);
      expect(csp).toContain(`style-src 'sha256-${sha256(style)}'`);
      expect(csp).toContain("default-src 'none'");
      expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)="(?!data:)/);

      const { status, events } = await readEvents(`${app.url}/dashboard?events`, { ms: 3_000, until: (e) => e.length >= 2, headers: AUTH });
      expect(status).toBe(200);
      expect(events).toHaveLength(2);
      expectDocumentedFrame(events[0]!.frame);
      expect(events[1]!.frame.routes.find((r) => r.key === 'GET /fast')?.p99).toBe(tracker.stats('GET /fast').p99);
      // The client went away: the feed lets go of it.
      await eventually(() => expect(dashboard.clients).toBe(0));

      const metrics = await fetch(`${app.url}/metrics`);
      expect(metrics.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
      const text = await metrics.text();
      expect(text).toContain('headroom_duration_seconds{key="GET /fast",quantile="0.99"}');
      expect(text).toContain('headroom_health_check_status{check="db",status="pass"} 1');
      expect(text).toContain('headroom_queue_rejected_total{queue="http"} 0');

      expect(await (await fetch(`${app.url}/fast`)).text()).toBe('fast');
    } finally {
      dashboard.close();
      await app.close();
    }
  });
});
