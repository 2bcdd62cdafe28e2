/**
 * headroom on Fastify 5. Run from the repository root (Redis and PostgreSQL on localhost):
 *
 *   PORT=3000 DASHBOARD_TOKEN=secret npx tsx examples/fastify/server.ts
 *
 * Routes and environment: examples/README.md.
 */
import Fastify from 'fastify';
import { livenessHandler, readinessHandler } from 'headroom/health';
import { requestSignal, shed, toFastify, toFastifyHandler, toFastifyHooks } from 'headroom/http';
import { config, listening } from '../shared/config.js';
import { createService, failure } from '../shared/service.js';

const service = await createService();
const { health, reports } = service;
const app = Fastify();
await app.register(toFastify(service.everyRoute())); // percentiles, rate limit, 2 s deadline

app.get<{ Params: { id: string } }>('/products/:id', async (request, reply) => {
  const { product, cached } = await service.product(request.params.id);
  reply.header('x-cache', cached ? 'hit' : 'miss');
  return product ?? reply.code(404).send({ error: 'no such product' });
});
// The deadline answers 504 at 2 s and aborts the signal, which stops the call.
app.get('/slow', async (request) => service.slowCall(requestSignal(request)));
// Route hooks: this route only goes through the reports queue; 503 + Retry-After once it is full.
app.get('/report', { ...toFastifyHooks(shed(reports)) }, async () => service.report());
app.get<{ Params: { id: string } }>('/quote/:id', async (request, reply) => {
  try {
    return await service.quote(request.params.id, requestSignal(request));
  } catch (err) {
    const { status, headers, body } = failure(err);
    return reply.code(status).headers(headers).send(body);
  }
});
app.post('/orders', { ...toFastifyHooks(service.idempotent) }, async (request, reply) => {
  const order = await service.placeOrder(request.body);
  if (order === undefined) return reply.code(400).send({ error: 'expected { sku, quantity }' });
  return reply.code(201).header('location', `/orders/${order.id}`).send(order);
});
// headroom handlers as routes: recorded under their route ('GET /metrics').
app.get('/health/live', toFastifyHandler(livenessHandler(health)));
app.get('/health/ready', toFastifyHandler(readinessHandler(health)));
app.get('/metrics', toFastifyHandler(service.metrics));
app.get('/dashboard', toFastifyHandler(service.dashboard)); // the feed is /dashboard?events

await app.listen({ port: config.port, host: config.host });
listening('fastify', (app.server.address() as { port: number }).port);
// SIGTERM: readiness 503 for SHUTDOWN_DELAY, then close, drain the queue, release the rest; exit 0.
health.shutdown({ server: service.closing(app.server), queues: [reports], delay: config.shutdownDelay, onShutdown: () => service.close() });
