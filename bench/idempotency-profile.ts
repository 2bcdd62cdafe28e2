/**
 * Profiling helper for bench/idempotency.ts: drives only the memory-store middleware through
 * node:http for SECONDS (default 6), with a new key per request (`first`, default) or one key
 * (`replay`). Not a benchmark: run it under a profiler.
 *
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/idempotency-profile.ts first
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import autocannon from 'autocannon';
import { toNode } from '../src/http/index.js';
import { Idempotency, MemoryIdempotencyStore, idempotencyMiddleware } from '../src/idempotency/index.js';

const BODY = JSON.stringify({ amount: 1999, currency: 'eur', customer: 'cus_42', description: 'order #1001' });
function handle(req: IncomingMessage & { body?: unknown }, res: ServerResponse): void {
  const input = JSON.parse((req.body as Buffer).toString('utf8')) as { amount: number };
  res.writeHead(201, { 'content-type': 'application/json', location: '/payments/pay_1' });
  res.end(JSON.stringify({ id: 'pay_1', status: 'succeeded', amount: input.amount }));
}
const mode = process.argv[2] ?? 'first';
const mw = toNode(idempotencyMiddleware(new Idempotency({ store: new MemoryIdempotencyStore() })));
const server = createServer((req, res) => mw(req, res, () => handle(req, res)));
await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
let n = 0;
const r = await autocannon({
  url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
  connections: 16,
  duration: Number(process.env.SECONDS ?? 6),
  requests: [
    {
      method: 'POST',
      path: '/p',
      headers: { 'content-type': 'application/json' },
      body: BODY,
      setupRequest: (q) => {
        q.headers = { ...q.headers, 'idempotency-key': mode === 'first' ? `k${++n}` : 'same' };
        return q;
      },
    },
  ],
});
console.log(mode, Math.round(r.requests.average), 'req/s');
server.close();
server.closeAllConnections();
