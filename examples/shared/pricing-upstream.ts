import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in for the pricing service GET /quote/:id calls when `PRICING_URL` is not set: a real
 * HTTP server on loopback that answers every other call with 503, so the retry policy has
 * something to do. Returns its URL and a function that closes it.
 */
export async function startPricingUpstream(): Promise<{ url: string; close(): Promise<void> }> {
  let calls = 0;
  const server = http.createServer((req, res) => {
    calls += 1;
    if (calls % 2 === 1) {
      res.writeHead(503, { 'retry-after': '0' }).end();
      return;
    }
    const id = Number(req.url?.split('/').pop());
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id, priceCents: 1000 + id, currency: 'EUR' }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
