import { afterEach, describe, expect, it } from 'vitest';
import { isHeadroomError } from '../../src/core/index.js';
import { compose, shed, timeout } from '../../src/http/index.js';
import { TaskQueue } from '../../src/queue/index.js';
import { KINDS, startApp, type App, type Kind } from './apps.js';
import { eventually } from '../support/async.js';

describe('shed()', () => {
  it('rejects something that is not a queue with INVALID_ARGUMENT', () => {
    expect(() => shed({} as never)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});

describe.each(KINDS)('shed() on %s', (kind: Kind) => {
  let app: App | undefined;
  let queue: TaskQueue | undefined;
  afterEach(async () => {
    await app?.close();
    await queue?.close({ drain: false });
    app = undefined;
    queue = undefined;
  });

  it('answers 503 with Retry-After and a QUEUE_FULL problem when the queue is full', async () => {
    queue = new TaskQueue({ concurrency: 1, maxSize: 0, name: 'api' });
    app = await startApp(kind, shed(queue));
    const slow = fetch(`${app.url}/slow`);
    const log = app.log;
    await eventually(() => expect(log.handled).toEqual(['/slow']));
    const refused = await fetch(`${app.url}/fast`);
    expect(refused.status).toBe(503);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(refused.headers.get('content-type')).toBe('application/problem+json');
    expect(await refused.json()).toMatchObject({ type: 'about:blank', status: 503, code: 'QUEUE_FULL' });
    expect(await (await slow).text()).toBe('slow');
    // The slot is back once the slow response finished.
    await eventually(() => expect(queue!.pending).toBe(0));
    expect(await (await fetch(`${app.url}/fast`)).text()).toBe('fast');
    expect(log.handled).toEqual(['/slow', '/fast']);
  });

  it("answers 504 and aborts the handler when the queue's timeout passes", async () => {
    queue = new TaskQueue({ concurrency: 2, timeout: '150ms' });
    app = await startApp(kind, shed(queue));
    const response = await fetch(`${app.url}/hang`);
    expect(response.status).toBe(504);
    expect(await response.json()).toMatchObject({ code: 'OPERATION_TIMEOUT' });
    const log = app.log;
    await eventually(() => expect(log.aborted).toHaveLength(1));
    expect(isHeadroomError(log.aborted[0], 'OPERATION_TIMEOUT')).toBe(true);
  });

  it('answers 504, aborts the handler and frees the slot when an outer timeout() gives up on a running request', async () => {
    queue = new TaskQueue({ concurrency: 1, maxSize: 5 });
    app = await startApp(kind, compose(timeout('150ms'), shed(queue)));
    const response = await fetch(`${app.url}/hang`);
    expect(response.status).toBe(504);
    expect(await response.json()).toMatchObject({ code: 'OPERATION_TIMEOUT' });
    const log = app.log;
    await eventually(() => expect(log.aborted).toHaveLength(1));
    await eventually(() => expect(queue!.pending).toBe(0));
    expect(await (await fetch(`${app.url}/fast`)).text()).toBe('fast');
  });

  it('takes a waiting request out of the queue when an outer timeout() gives up on it', async () => {
    queue = new TaskQueue({ concurrency: 1, maxSize: 5 });
    const occupant = queue.add(() => new Promise((resolve) => setTimeout(resolve, 600)));
    app = await startApp(kind, compose(timeout('200ms'), shed(queue)));
    const pending = fetch(`${app.url}/fast`);
    await eventually(() => expect(queue!.size).toBe(1));
    const response = await pending;
    expect(response.status).toBe(504);
    expect(queue.size).toBe(0);
    expect(app.log.handled).toEqual([]);
    await occupant.catch(() => undefined);
  });
});

describe('shed() on node:http, a handler that stops on its signal without ending its response', () => {
  it.each(['returns', 'rethrows the abort'])('frees the slot as soon as the handler %s, not after the settle limit', async (ending) => {
    const { createServer } = await import('node:http');
    const { setTimeout: sleep } = await import('node:timers/promises');
    const { requestSignal, toNode } = await import('../../src/http/index.js');
    const slots = new TaskQueue({ concurrency: 1, maxSize: 0, name: 'gives-up' });
    const guard = toNode(compose(timeout('50ms'), shed(slots)));
    let returned = 0;
    const server = createServer((req, res) => {
      guard(req, res, async () => {
        try {
          await sleep(2_000, undefined, { signal: requestSignal(req) });
          res.end('late');
        } catch (err) {
          // Aborted: the timeout answered 504; stop without touching the response.
          returned += 1;
          if (ending !== 'returns') throw err;
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    try {
      expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(504);
      await eventually(() => expect(returned).toBe(1));
      await eventually(() => expect(slots.pending).toBe(0));
      // The one slot serves the next request (it would answer 503 QUEUE_FULL if still held).
      expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(504);
    } finally {
      server.closeAllConnections();
      server.close();
      await slots.close({ drain: false });
    }
  });
});
