import { once } from 'node:events';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { HttpResult } from '../../src/core/index.js';
import {
  BodyRecorder,
  LateResponse,
  answerUnderWay,
  observeHead,
  observeWrites,
  startRecording,
  watchClose,
  writeAsAnswer,
  type CloseWatcher,
} from '../../src/http/node-response.js';
import { eventually } from '../support/async.js';

const servers: http.Server[] = [];

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = http.createServer(handler).listen(0, '127.0.0.1');
  servers.push(server);
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

const text = (body: Uint8Array | string): string => (typeof body === 'string' ? body : Buffer.from(body).toString('utf8'));

describe('BodyRecorder', () => {
  it('keeps a body written as one UTF-8 string as that string, and one Buffer without copying it', () => {
    const fromText = new BodyRecorder();
    fromText.keep('{"id":1}', undefined);
    expect(fromText.body()).toBe('{"id":1}');
    const bytes = Buffer.from('abc');
    const fromBytes = new BodyRecorder();
    fromBytes.keep(bytes, undefined);
    expect(fromBytes.body()).toBe(bytes);
  });

  it('joins several chunks, text and bytes, in order, and decodes other encodings', () => {
    const recorder = new BodyRecorder();
    recorder.keep('a', 'utf8');
    recorder.keep(Buffer.from('b'), undefined);
    recorder.keep('Yw==', 'base64');
    recorder.keep('', undefined);
    recorder.keep(undefined, undefined);
    expect(text(recorder.body())).toBe('abc');
  });

  it('gives empty bytes when nothing was written', () => {
    expect(new BodyRecorder().body()).toHaveLength(0);
  });
});

describe('observeWrites', () => {
  it("records the handler's chunks as they go out, and reports its end once", async () => {
    let ends = 0;
    let recorded: Uint8Array | string | undefined;
    const url = await serve((_req, res) => {
      const observer = { recorder: new BodyRecorder(), handlerEnded: () => (ends++, (recorded = observer.recorder.body())) };
      observeWrites(res, observer);
      res.write('hello ');
      res.end(Buffer.from('world'));
    });
    expect(await (await fetch(url)).text()).toBe('hello world');
    expect(ends).toBe(1);
    expect(text(recorded!)).toBe('hello world');
  });

  it("lets a middleware's answer pass unseen: neither recorded nor taken as the handler's end", async () => {
    let ends = 0;
    let during: boolean | undefined;
    const recorder = new BodyRecorder();
    const url = await serve((_req, res) => {
      observeWrites(res, { recorder, handlerEnded: () => ends++ });
      writeAsAnswer(res, () => {
        during = answerUnderWay(res);
        res.statusCode = 504;
        res.end('timed out');
      });
      expect(answerUnderWay(res)).toBe(false);
    });
    const response = await fetch(url);
    expect(response.status).toBe(504);
    expect(await response.text()).toBe('timed out');
    expect(during).toBe(true);
    expect(ends).toBe(0);
    expect(recorder.body()).toHaveLength(0);
  });
});

describe('observeHead', () => {
  it('reports the status before the head goes out, merges appended values into writeHead headers, and puts writeHead back', async () => {
    const seen: { status?: number; given?: unknown; restored?: boolean } = {};
    const url = await serve((_req, res) => {
      // eslint-disable-next-line @typescript-eslint/unbound-method -- only compared, never called
      const original = res.writeHead;
      observeHead(res, {
        appended: new Map([['server-timing', 'app;dur=1']]),
        beforeHead: (status) => {
          seen.status = status;
          res.setHeader('x-late', 'yes');
        },
        headHeaders: (given) => (seen.given = given),
      });
      res.writeHead(201, { 'Server-Timing': 'db;dur=2', 'content-type': 'text/plain' });
      seen.restored = res.writeHead === original;
      res.end('made');
    });
    const response = await fetch(url);
    expect(response.status).toBe(201);
    expect(response.headers.get('server-timing')).toBe('db;dur=2, app;dur=1');
    expect(response.headers.get('x-late')).toBe('yes');
    expect(seen).toEqual({ status: 201, given: { 'Server-Timing': 'db;dur=2, app;dur=1', 'content-type': 'text/plain' }, restored: true });
  });

  it("sees node's implicit head (a plain end) with the response's status", async () => {
    let status: number | undefined;
    const url = await serve((_req, res) => {
      observeHead(res, { appended: undefined, beforeHead: (s) => (status = s), headHeaders: () => undefined });
      res.statusCode = 202;
      res.end();
    });
    expect((await fetch(url)).status).toBe(202);
    expect(status).toBe(202);
  });
});

describe('watchClose', () => {
  function watcher(log: string[], name: string, res: () => ServerResponse): CloseWatcher {
    return { nextCloseWatcher: undefined, responseClosed: () => log.push(`${name}:${res().writableFinished ? 'finished' : 'left'}`) };
  }

  it('calls the watchers of a response in the order they started watching, once, after it finished', async () => {
    const log: string[] = [];
    let response: ServerResponse | undefined;
    const url = await serve((_req, res) => {
      response = res;
      watchClose(
        res,
        watcher(log, 'a', () => res),
      );
      watchClose(
        res,
        watcher(log, 'b', () => res),
      );
      res.end('ok');
    });
    await (await fetch(url)).text();
    await eventually(() => expect(log).toEqual(['a:finished', 'b:finished']));
    expect(response!.listenerCount('close')).toBe(0);
  });

  it('tells a client that left from a finished response', async () => {
    const log: string[] = [];
    const url = await serve((_req, res) => {
      watchClose(
        res,
        watcher(log, 'a', () => res),
      );
    });
    const client = new AbortController();
    const request = fetch(url, { signal: client.signal }).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 50));
    client.abort();
    await request;
    await eventually(() => expect(log).toEqual(['a:left']));
  });
});

describe('LateResponse', () => {
  it('records what the handler writes after an answer went out in its place, and reports its end', async () => {
    let outcome: HttpResult | undefined;
    const handlerView: { sentBefore?: boolean; sentAfter?: boolean; status?: number } = {};
    const url = await serve((_req, res) => {
      res.setHeader('x-handler', 'before');
      const late = new LateResponse(res, true, (result) => (outcome = result));
      writeAsAnswer(res, () => {
        res.statusCode = 504;
        res.setHeader('content-type', 'application/problem+json');
        res.end('{"code":"OPERATION_TIMEOUT"}');
      });
      late.install(res);
      // The handler goes on: from where it stands, nothing was sent.
      setTimeout(() => {
        handlerView.sentBefore = res.headersSent;
        res.writeHead(201, [['Location', '/orders/1']]);
        res.write('{"id":');
        res.end('1}');
        handlerView.sentAfter = res.headersSent;
        handlerView.status = res.statusCode;
      }, 20);
    });
    const response = await fetch(url);
    expect(response.status).toBe(504);
    expect(await response.text()).toBe('{"code":"OPERATION_TIMEOUT"}');
    await eventually(() => expect(outcome).toBeDefined());
    expect(handlerView).toEqual({ sentBefore: false, sentAfter: true, status: 201 });
    expect(outcome!.status).toBe(201);
    expect(outcome!.headers).toMatchObject({ 'x-handler': 'before', location: '/orders/1' });
    expect(text(outcome!.body!)).toBe('{"id":1}');
  });

  it('drops the body as it comes when nobody waits for it', async () => {
    let outcome: HttpResult | undefined;
    const url = await serve((_req, res) => {
      const late = new LateResponse(res, false, (result) => (outcome = result));
      writeAsAnswer(res, () => res.end('answer'));
      late.install(res);
      res.statusCode = 500;
      res.end('a large body nobody reads');
    });
    expect(await (await fetch(url)).text()).toBe('answer');
    await eventually(() => expect(outcome).toBeDefined());
    expect(outcome).toEqual({ status: 500, headers: {} });
  });
});

describe('startRecording', () => {
  it('marks a response as recording once', async () => {
    const marks: boolean[] = [];
    const url = await serve((_req, res) => {
      marks.push(startRecording(res), startRecording(res));
      res.end();
    });
    await (await fetch(url)).text();
    expect(marks).toEqual([true, false]);
  });
});
