/**
 * headroom on Koa 3 with @koa/router. Run from the repository root (Redis and PostgreSQL on localhost):
 *
 *   PORT=3000 DASHBOARD_TOKEN=secret npx tsx examples/koa/server.ts
 *
 * Routes and environment: examples/README.md.
 */
import Router from '@koa/router';
import Koa from 'koa';
import { livenessHandler, readinessHandler } from 'headroom/health';
import { requestSignal, shed, toKoa } from 'headroom/http';
import { config, listening } from '../shared/config.js';
import { createService, failure } from '../shared/service.js';

const service = await createService();
const { health, reports } = service;
const app = new Koa();
const router = new Router();
app.use(toKoa(service.everyRoute())); // percentiles, rate limit, 2 s deadline

router.get('/products/:id', async (ctx) => {
  const { product, cached } = await service.product(ctx.params.id!);
  ctx.set('x-cache', cached ? 'hit' : 'miss');
  ctx.status = product === null ? 404 : 200;
  ctx.body = product ?? { error: 'no such product' };
});
// The deadline answers 504 at 2 s and aborts the signal, which stops the call.
router.get('/slow', async (ctx) => {
  ctx.body = await service.slowCall(requestSignal(ctx));
});
// On this route only: through the reports queue; 503 + Retry-After once it is full.
router.get('/report', toKoa(shed(reports)), async (ctx) => {
  ctx.body = await service.report();
});
router.get('/quote/:id', async (ctx) => {
  try {
    ctx.body = await service.quote(ctx.params.id!, requestSignal(ctx));
  } catch (err) {
    const { status, headers, body } = failure(err);
    ctx.status = status;
    ctx.set(headers);
    ctx.body = body;
  }
});
router.post('/orders', toKoa(service.idempotent), async (ctx) => {
  // No body parser here: the middleware left the bytes it read in ctx.request.body.
  const order = await service.placeOrder((ctx.request as { body?: unknown }).body);
  ctx.status = order === undefined ? 400 : 201;
  ctx.body = order ?? { error: 'expected { sku, quantity }' };
  if (order !== undefined) ctx.set('location', `/orders/${order.id}`);
});
// headroom handlers as routes: recorded under their route ('GET /metrics').
router.get('/health/live', toKoa(livenessHandler(health)));
router.get('/health/ready', toKoa(readinessHandler(health)));
router.get('/metrics', toKoa(service.metrics));
router.get('/dashboard', toKoa(service.dashboard)); // the feed is /dashboard?events
app.use(router.routes());

const server = app.listen(config.port, config.host, () => listening('koa', (server.address() as { port: number }).port));
// SIGTERM: readiness 503 for SHUTDOWN_DELAY, then close, drain the queue, release the rest; exit 0.
health.shutdown({ server: service.closing(server), queues: [reports], delay: config.shutdownDelay, onShutdown: () => service.close() });
