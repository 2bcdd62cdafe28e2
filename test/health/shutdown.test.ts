import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HealthChecker, isHeadroomError, type DrainableQueue } from '../../src/health/index.js';

const open: Array<{ server: Server; health: HealthChecker }> = [];
afterEach(async () => {
  for (const { server, health } of open.splice(0)) {
    health.close();
    server.closeAllConnections();
    if (server.listening) await new Promise((resolve) => server.close(resolve));
  }
});

/** A server whose /slow?ms=N answers after N ms. */
async function listen(health: HealthChecker): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const ms = Number(url.searchParams.get('ms') ?? 0);
    setTimeout(() => res.end('done'), ms);
  });
  server.keepAliveTimeout = 30_000; // make lingering keep-alive connections visible
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  open.push({ server, health });
  return { server, port: (server.address() as AddressInfo).port };
}

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
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

describe('graceful shutdown (in process, started by hand)', () => {
  it('turns not-ready at once, waits delay, closes the server after in-flight requests, drains queues, then calls onShutdown', async () => {
    const health = new HealthChecker();
    const { server, port } = await listen(health);
    const steps: string[] = [];
    const queue: DrainableQueue = {
      close: async (options) => {
        steps.push(`queue.close(${JSON.stringify(options)})`);
        await new Promise((resolve) => setTimeout(resolve, 20));
        steps.push('queue drained');
      },
    };
    server.on('close', () => steps.push('server closed'));
    health.shutdown({
      signals: [],
      server,
      queues: [queue],
      delay: 150,
      timeout: '3s',
      onShutdown: ({ signal }) => {
        steps.push(`onShutdown(${String(signal)})`);
      },
    });

    const inflight = get(port, '/slow?ms=400');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = performance.now();
    const result = health.startShutdown();
    expect(health.shuttingDown).toBe(true);
    expect(health.draining).toBe(false);
    // During the delay the server still serves new connections.
    expect((await get(port, '/slow?ms=0')).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(health.draining).toBe(true);
    expect(await errorCode(get(port, '/'))).toBe('ECONNREFUSED');
    expect(await inflight).toEqual({ status: 200, body: 'done' });

    const outcome = await result;
    expect(outcome.forced).toBe(false);
    expect(outcome.errors).toEqual([]);
    expect(outcome.signal).toBeUndefined();
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(steps).toEqual(['server closed', 'queue.close({"drain":true})', 'queue drained', 'onShutdown(undefined)']);
    await expect(health.check()).rejects.toMatchObject({ code: 'CLOSED' });
    expect(health.startShutdown()).toBe(result); // later calls share the run
  });

  it('closes keep-alive connections that were busy when the server closed, once they go idle', async () => {
    const health = new HealthChecker();
    const { server, port } = await listen(health);
    health.shutdown({ signals: [], server, delay: 0, timeout: '5s' });
    const { Agent } = await import('node:http');
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const slow = new Promise<number>((resolve, reject) => {
      request({ host: '127.0.0.1', port, path: '/slow?ms=200', agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      })
        .on('error', reject)
        .end();
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = performance.now();
    const outcome = await health.startShutdown();
    expect(await slow).toBe(200);
    agent.destroy();
    expect(outcome.forced).toBe(false);
    // Without the idle sweep, server.close() would wait for keepAliveTimeout (30 s here).
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('forces at the deadline: closes every connection and reports forced', async () => {
    const health = new HealthChecker();
    const { server, port } = await listen(health);
    let onShutdownCalled = false;
    health.shutdown({ signals: [], server, delay: 0, timeout: 300, onShutdown: () => (onShutdownCalled = true) });
    const hanging = errorCode(get(port, '/slow?ms=60000'));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = performance.now();
    const outcome = await health.startShutdown();
    const elapsed = performance.now() - started;
    expect(outcome.forced).toBe(true);
    expect(elapsed).toBeGreaterThanOrEqual(280);
    expect(elapsed).toBeLessThan(1_000);
    expect(await hanging).toBe('ECONNRESET');
    expect(onShutdownCalled).toBe(false);
  });

  it('collects errors from queues and onShutdown without stopping the sequence', async () => {
    const health = new HealthChecker();
    const outcome = await health
      .shutdown({
        signals: [],
        delay: 0,
        queues: [{ close: () => Promise.reject(new Error('queue broke')) }],
        onShutdown: () => {
          throw new Error('pool.end failed');
        },
      })
      .startShutdown();
    expect(outcome.forced).toBe(false);
    expect(outcome.errors.map((e) => (e as Error).message)).toEqual(['queue broke', 'pool.end failed']);
  });

  it('works without shutdown(): readiness flips and the checker closes', async () => {
    const health = new HealthChecker();
    const outcome = await health.startShutdown();
    expect(health.shuttingDown).toBe(true);
    expect(outcome.forced).toBe(false);
    await expect(health.check()).rejects.toMatchObject({ code: 'CLOSED' });
  });
});

describe('graceful shutdown: signals', () => {
  it('adds one listener per signal and removes them on close()', () => {
    const before = { term: process.listenerCount('SIGTERM'), int: process.listenerCount('SIGINT') };
    const health = new HealthChecker().shutdown({ delay: 0, timeout: 1_000 });
    expect(process.listenerCount('SIGTERM')).toBe(before.term + 1);
    expect(process.listenerCount('SIGINT')).toBe(before.int + 1);
    health.close();
    expect(process.listenerCount('SIGTERM')).toBe(before.term);
    expect(process.listenerCount('SIGINT')).toBe(before.int);
  });

  it('starts on a signal and, with exit: false, leaves the process alone and its listeners removed', async () => {
    const before = process.listenerCount('SIGUSR2');
    let resolveDone: (signal: string | undefined) => void = () => {};
    const done = new Promise<string | undefined>((resolve) => (resolveDone = resolve));
    const health = new HealthChecker().shutdown({
      signals: ['SIGUSR2'],
      delay: 0,
      timeout: 1_000,
      exit: false,
      onShutdown: ({ signal }) => resolveDone(signal),
    });
    expect(process.listenerCount('SIGUSR2')).toBe(before + 1);
    process.kill(process.pid, 'SIGUSR2');
    expect(await done).toBe('SIGUSR2');
    expect(health.shuttingDown).toBe(true);
    await new Promise((resolve) => setImmediate(resolve));
    expect(process.listenerCount('SIGUSR2')).toBe(before);
  });

  it('rejects bad shutdown options with INVALID_ARGUMENT', () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ signals: ['SIGKILL'] }, 'signals'],
      [{ signals: ['SIGNOPE'] }, 'signals'],
      [{ signals: 'SIGTERM' }, 'signals'],
      [{ delay: '10s', timeout: '5s' }, 'delay'],
      [{ timeout: 'forever' }, 'timeout'],
      [{ server: {} }, 'server'],
      [{ queues: [{}] }, 'queues'],
      [{ onShutdown: 'bye' }, 'onShutdown'],
      [{ exit: 1 }, 'exit'],
    ];
    for (const [options, argument] of cases) {
      const health = new HealthChecker();
      let caught: unknown;
      try {
        health.shutdown(options);
      } catch (err) {
        caught = err;
      }
      expect(isHeadroomError(caught, 'INVALID_ARGUMENT'), JSON.stringify(options)).toBe(true);
      expect((caught as { argument: string }).argument).toBe(argument);
      health.close();
    }
    const health = new HealthChecker().shutdown({ signals: [] });
    expect(() => health.shutdown({ signals: [] })).toThrow(/once/);
    health.close();
  });
});
