/**
 * `next({ holdResponse: true })` on every adapter: the handler's response is recorded, not sent,
 * until the middleware answers in its place or returns.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { problemResponse, type HttpResult, type Middleware } from '../../src/http/index.js';
import { KINDS, startApp, type App } from './apps.js';

let app: App | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

interface Seen {
  held?: HttpResult;
  respondedWhileHeld?: boolean;
}

/** Holds the response; answers 503 in its place when the request asks with `x-refuse`. */
function holding(seen: Seen): Middleware {
  return async (exchange, next) => {
    const held = await next({ holdResponse: true });
    seen.held = held;
    seen.respondedWhileHeld = exchange.responded;
    if (exchange.header('x-refuse') !== undefined) exchange.respond(problemResponse({ status: 503, code: 'REFUSED' }));
  };
}

describe.each(KINDS)('holdResponse on %s', (kind) => {
  it('resolves with the handler response before it is sent, then sends it as recorded', async () => {
    const seen: Seen = {};
    app = await startApp(kind, holding(seen));
    const res = await fetch(`${app.url}/users/42`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ id: '42' });
    expect(res.headers.get('content-type')).toContain('application/json');
    expect(seen.respondedWhileHeld).toBe(false);
    expect(seen.held?.status).toBe(200);
    expect(JSON.parse(Buffer.from(seen.held!.body!).toString('utf8'))).toEqual({ id: '42' });
  });

  it('sends the middleware answer in place of the held response, without its headers', async () => {
    const seen: Seen = {};
    app = await startApp(kind, holding(seen));
    const res = await fetch(`${app.url}/users/42`, { headers: { 'x-refuse': '1' } });
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(await res.json()).toMatchObject({ code: 'REFUSED' });
    expect(seen.held?.status).toBe(200);
  });
});
