/**
 * headroom on Hono 4 with @hono/node-server. Run from the repository root (Redis and PostgreSQL on localhost):
 *
 *   PORT=3000 DASHBOARD_TOKEN=secret npx tsx examples/hono/server.ts
 *
 * Routes and environment: examples/README.md.
 */
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { livenessHandler, readinessHandler } from 'headroom/health';
import { requestSignal, shed, toHono } from 'headroom/http';
import { config, listening } from '../shared/config.js';
import { createService, failure } from '../shared/service.js';

const service = await createService();
const { health, reports } = service;
const app = new Hono();
app.use(toHono(service.everyRoute())); // percentiles, rate limit, 2 s deadline

app.get('/products/:id', async (c) => {
  const { product, cached } = await service.product(c.req.param('id'));
  c.header('x-cache', cached ? 'hit' : 'miss');
  return product === null ? c.json({ error: 'no such product' }, 404) : c.json(product);
});
// The deadline answers 504 at 2 s and aborts the signal, which stops the call.
app.get('/slow', async (c) => c.json(await service.slowCall(requestSignal(c))));
// On this route only: through the reports queue; 503 + Retry-After once it is full.
app.get('/report', toHono(shed(reports)), async (c) => c.json(await service.report()));
app.get('/quote/:id', async (c) => {
  try {
    return c.json(await service.quote(c.req.param('id'), requestSignal(c)));
  } catch (err) {
    const { status, headers, body } = failure(err);
    return new Response(body, { status, headers });
  }
});
app.post('/orders', toHono(service.idempotent), async (c) => {
  const order = await service.placeOrder(await c.req.json().catch(() => undefined));
  if (order === undefined) return c.json({ error: 'expected { sku, quantity }' }, 400);
  return c.json(order, 201, { location: `/orders/${order.id}` });
});
// headroom handlers as routes: recorded under their route ('GET /metrics').
app.get('/health/live', toHono(livenessHandler(health)));
app.get('/health/ready', toHono(readinessHandler(health)));
app.get('/metrics', toHono(service.metrics));
app.get('/dashboard', toHono(service.dashboard)); // the feed is /dashboard?events
// A handler that fails once its request was answered for it (the 504) has nobody to tell.
app.onError((err, c) => {
  if (!requestSignal(c).aborted) console.error(err);
  return c.json({ error: 'internal error' }, 500);
});

const server = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, (info) => listening('hono', info.port));
// SIGTERM: readiness 503 for SHUTDOWN_DELAY, then close, drain the queue, release the rest; exit 0.
health.shutdown({ server: service.closing(server), queues: [reports], delay: config.shutdownDelay, onShutdown: () => service.close() });
