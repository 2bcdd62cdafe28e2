/**
 * headroom on plain node:http. Run from the repository root (Redis and PostgreSQL on localhost):
 *
 *   PORT=3000 DASHBOARD_TOKEN=secret npx tsx examples/node-http/server.ts
 *
 * Routes and environment: examples/README.md.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { livenessHandler, readinessHandler } from 'headroom/health';
import { requestSignal, shed, toNode, type HttpResponse } from 'headroom/http';
import { withTimeout } from 'headroom/timeout';
import { config, listening } from '../shared/config.js';
import { createService, failure } from '../shared/service.js';

const service = await createService();
const { health, reports } = service;

/** No router here: the route template a path belongs to, so percentiles never key on raw ids. */
const template = (path: string) => path.replace(/^\/(products|quote)\/[^/]+$/, '/$1/:id');
const everyRoute = toNode(service.everyRoute((exchange) => `${exchange.method} ${template(exchange.path)}`));
const queued = toNode(shed(reports));
const idempotent = toNode(service.idempotent);
const live = toNode(livenessHandler(health));
const ready = toNode(readinessHandler(health));
const metrics = toNode(service.metrics);
const dashboard = toNode(service.dashboard);

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}
const sendProblem = (res: ServerResponse, { status, headers, body }: HttpResponse) => res.writeHead(status, headers).end(body);

async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0]!;
  const id = path.split('/')[2] ?? '';
  if (req.method === 'GET' && template(path) === '/products/:id') {
    const { product, cached } = await service.product(id);
    send(res, product === null ? 404 : 200, product ?? { error: 'no such product' }, { 'x-cache': cached ? 'hit' : 'miss' });
  } else if (req.method === 'GET' && path === '/slow') {
    // A deadline on one call: 1 s, then its signal aborts and it rejects with a TimeoutError (504).
    try {
      send(res, 200, await withTimeout((signal) => service.slowCall(signal), '1s', { name: 'slow-call', signal: requestSignal(req) }));
    } catch (err) {
      sendProblem(res, failure(err));
    }
  } else if (req.method === 'GET' && path === '/report') {
    queued(req, res, async () => send(res, 200, await service.report())); // 503 once the queue is full
  } else if (req.method === 'GET' && template(path) === '/quote/:id') {
    await service.quote(id, requestSignal(req)).then(
      (quote) => send(res, 200, quote),
      (err) => sendProblem(res, failure(err)),
    );
  } else if (req.method === 'POST' && path === '/orders') {
    idempotent(req, res, async () => {
      const order = await service.placeOrder((req as { body?: unknown }).body); // the bytes the middleware read
      if (order === undefined) send(res, 400, { error: 'expected { sku, quantity }' });
      else send(res, 201, order, { location: `/orders/${order.id}` });
    });
  } else if (path === '/health/live') live(req, res);
  else if (path === '/health/ready') ready(req, res);
  else if (path === '/metrics') metrics(req, res);
  else if (path === '/dashboard') dashboard(req, res);
  else send(res, 404, { error: 'not found' });
}

const server = http.createServer((req, res) => everyRoute(req, res, () => route(req, res)));
server.listen(config.port, config.host, () => listening('node-http', (server.address() as { port: number }).port));
// SIGTERM: readiness 503 for SHUTDOWN_DELAY, then close, drain the queue, release the rest; exit 0.
health.shutdown({ server: service.closing(server), queues: [reports], delay: config.shutdownDelay, onShutdown: () => service.close() });
