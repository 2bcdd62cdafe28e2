/**
 * headroom on Express 5. Run from the repository root (Redis and PostgreSQL on localhost):
 *
 *   PORT=3000 DASHBOARD_TOKEN=secret npx tsx examples/express/server.ts
 *
 * Routes and environment: examples/README.md.
 */
import express from 'express';
import { livenessHandler, readinessHandler } from 'headroom/health';
import { requestSignal, shed, toNode } from 'headroom/http';
import { config, listening } from '../shared/config.js';
import { createService, failure } from '../shared/service.js';

const service = await createService();
const { health, reports } = service;
const app = express();
app.use(express.json()); // parsers before headroom's middleware, which may read the body
app.use(toNode(service.everyRoute())); // percentiles, rate limit, 2 s deadline

app.get('/products/:id', async (req, res) => {
  const { product, cached } = await service.product(req.params.id);
  res.set('x-cache', cached ? 'hit' : 'miss');
  if (product === null) res.status(404).json({ error: 'no such product' });
  else res.json(product);
});
// The deadline answers 504 at 2 s and aborts the signal, which stops the call.
app.get('/slow', async (req, res) => {
  res.json(await service.slowCall(requestSignal(req)));
});
// On this route only: through the reports queue; 503 + Retry-After once it is full.
app.get('/report', toNode(shed(reports)), async (_req, res) => {
  res.json(await service.report());
});
app.get('/quote/:id', async (req, res) => {
  try {
    res.json(await service.quote(req.params.id, requestSignal(req)));
  } catch (err) {
    const { status, headers, body } = failure(err);
    res.status(status).set(headers).send(body);
  }
});
app.post('/orders', toNode(service.idempotent), async (req, res) => {
  const order = await service.placeOrder(req.body);
  if (order === undefined) res.status(400).json({ error: 'expected { sku, quantity }' });
  else res.status(201).location(`/orders/${order.id}`).json(order);
});
app.get('/health/live', toNode(livenessHandler(health)));
app.get('/health/ready', toNode(readinessHandler(health)));
app.get('/metrics', toNode(service.metrics));
app.get('/dashboard', toNode(service.dashboard)); // the feed is /dashboard?events
// A handler that fails once its request was answered for it (the 504) has nobody to tell.
app.use((err: unknown, req: express.Request, res: express.Response, next: express.NextFunction) => {
  if (requestSignal(req).aborted) res.end();
  else next(err);
});

const server = app.listen(config.port, config.host, () => listening('express', (server.address() as { port: number }).port));
// SIGTERM: readiness 503 for SHUTDOWN_DELAY, then close, drain the queue, release the rest; exit 0.
health.shutdown({ server: service.closing(server), queues: [reports], delay: config.shutdownDelay, onShutdown: () => service.close() });
