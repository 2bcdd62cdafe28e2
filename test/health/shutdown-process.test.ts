/**
 * SIGTERM to a real process running `health.shutdown()`. What the tests expect, precisely:
 *
 * 1. From the signal on, /ready answers 503 (`x-service-status: shutting-down`); /live stays 200.
 * 2. During `delay`, new connections are still served (the load balancer has not noticed yet),
 *    with `Connection: close` from degradedHeaders so clients reconnect elsewhere.
 * 3. After `delay` the server stops listening: a new connection is refused (ECONNREFUSED), and a
 *    request still arriving on a kept-alive connection gets 503 problem+json from degradedHeaders.
 * 4. Requests in flight at the signal finish with their normal response.
 * 5. Queues drain, then onShutdown runs, and the process exits with code 0 within `timeout`.
 * 6. When an in-flight request outlives `timeout`, connections are closed and the exit code is 1;
 *    a second signal forces the same at once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const FIXTURE = fileURLToPath(new URL('./fixtures/shutdown-server.ts', import.meta.url));
const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

interface Fixture {
  child: ChildProcess;
  port: number;
  lines: string[];
  waitForLine(line: string, count?: number): Promise<void>;
  exited: Promise<{ code: number | null; at: number }>;
}

async function startFixture(env: Record<string, string>): Promise<Fixture> {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  const lines: string[] = [];
  const waiters: Array<() => void> = [];
  let buffered = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    let nl: number;
    while ((nl = buffered.indexOf('\n')) !== -1) {
      lines.push(buffered.slice(0, nl));
      buffered = buffered.slice(nl + 1);
    }
    for (const wake of waiters.splice(0)) wake();
  });
  const exited = new Promise<{ code: number | null; at: number }>((resolve) => child.once('exit', (code) => resolve({ code, at: performance.now() })));
  const waitForLine = async (wanted: string | RegExp, count = 1): Promise<void> => {
    const deadline = Date.now() + 15_000;
    while (lines.filter((l) => (typeof wanted === 'string' ? l === wanted : wanted.test(l))).length < count) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`fixture never printed ${String(wanted)}; got ${JSON.stringify(lines)}`);
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  };
  await waitForLine(/^\{"port":\d+\}$/);
  const port = (JSON.parse(lines.find((l) => l.startsWith('{"port"'))!) as { port: number }).port;
  return { child, port, lines, waitForLine, exited };
}

function get(port: number, path: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

function errorCode(promise: Promise<unknown>): Promise<string | undefined> {
  return promise.then(
    () => undefined,
    (err: NodeJS.ErrnoException) => err.code,
  );
}

/** A raw keep-alive connection, to send a second request on the same socket later. */
async function rawConnection(port: number): Promise<{ socket: Socket; send(path: string): void; received: () => string; closed: Promise<void> }> {
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let data = '';
  socket.on('data', (chunk: Buffer) => (data += chunk.toString()));
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('error', () => {});
  return {
    socket,
    send: (path) => socket.write(`GET ${path} HTTP/1.1\r\nHost: fixture\r\n\r\n`),
    received: () => data,
    closed,
  };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('graceful shutdown on SIGTERM (child process)', () => {
  it('finishes in-flight requests, answers 503 to new ones, refuses connections once closed, and exits 0 within timeout', async () => {
    const fixture = await startFixture({ DELAY: '400', TIMEOUT: '5000' });
    const { port } = fixture;
    expect((await get(port, '/ready')).status).toBe(200);

    const inflight = get(port, '/slow?ms=1200');
    const keptAlive = await rawConnection(port);
    keptAlive.send('/slow?ms=1200');
    await fixture.waitForLine('slow-start', 2);

    fixture.child.kill('SIGTERM');
    const signalledAt = performance.now();
    await sleep(50);

    const ready = await get(port, '/ready');
    expect(ready.status).toBe(503);
    expect(ready.headers['x-service-status']).toBe('shutting-down');
    expect(ready.headers['cache-control']).toBe('no-store');
    expect(JSON.parse(ready.body)).toMatchObject({ status: 'fail', output: 'shutting down' });
    expect((await get(port, '/live')).status).toBe(200);

    const duringDelay = await get(port, '/fast');
    expect(duringDelay.status).toBe(200);
    expect(duringDelay.headers.connection).toBe('close');

    await sleep(Math.max(0, signalledAt + 600 - performance.now()));
    expect(await errorCode(get(port, '/fast'))).toBe('ECONNREFUSED');
    keptAlive.send('/fast'); // arrives on a kept-alive connection while the server drains

    expect(await inflight).toMatchObject({ status: 200, body: 'slow done' });
    await keptAlive.closed;
    const raw = keptAlive.received();
    const responses = raw.split(/(?=HTTP\/1\.1 )/);
    expect(responses).toHaveLength(2);
    expect(responses[0]).toMatch(/^HTTP\/1\.1 200/);
    expect(responses[0]).toContain('slow done');
    expect(responses[1]).toMatch(/^HTTP\/1\.1 503/);
    expect(responses[1]).toMatch(/content-type: application\/problem\+json/i);
    expect(responses[1]).toContain('"code":"SERVICE_UNAVAILABLE"');

    const { code, at } = await fixture.exited;
    expect(code).toBe(0);
    expect(at - signalledAt).toBeLessThan(5_000);
    const order = fixture.lines.filter((l) => l === 'queue drained' || l === 'onShutdown');
    expect(order).toEqual(['queue drained', 'onShutdown']);
  });

  it('closes connections and exits 1 when a request outlives timeout', async () => {
    const fixture = await startFixture({ DELAY: '100', TIMEOUT: '800' });
    const hanging = errorCode(get(fixture.port, '/slow?ms=60000'));
    await fixture.waitForLine('slow-start');
    fixture.child.kill('SIGTERM');
    const signalledAt = performance.now();
    const { code, at } = await fixture.exited;
    expect(code).toBe(1);
    expect(at - signalledAt).toBeGreaterThanOrEqual(700);
    expect(at - signalledAt).toBeLessThan(3_000);
    expect(await hanging).toMatch(/ECONNRESET|socket hang up/);
    expect(fixture.lines).not.toContain('onShutdown');
  });

  it('forces at once on a second signal', async () => {
    const fixture = await startFixture({ DELAY: '3000', TIMEOUT: '10000' });
    fixture.child.kill('SIGTERM');
    await sleep(100);
    expect((await get(fixture.port, '/ready')).status).toBe(503);
    const secondAt = performance.now();
    fixture.child.kill('SIGINT');
    const { code, at } = await fixture.exited;
    expect(code).toBe(1);
    expect(at - secondAt).toBeLessThan(2_000);
  });
});
