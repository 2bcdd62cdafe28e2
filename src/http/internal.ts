import type { HttpResponse } from '../core/index.js';

/**
 * The answer when a request's chain ends without reaching a handler: every adapter sends this
 * one (node and Fastify write it, Koa sets it on ctx, Hono and fetch turn it into a `Response`).
 */
export const NOT_FOUND: HttpResponse = Object.freeze({
  status: 404,
  headers: Object.freeze({ 'content-type': 'text/plain; charset=utf-8' }),
  body: 'Not Found',
});

/** Whether a response body is a stream (sent chunk by chunk) rather than bytes. */
export function isStreamBody(body: HttpResponse['body']): body is ReadableStream<Uint8Array> {
  return body instanceof ReadableStream;
}

/** `value` as a Buffer without copying when it already is one. */
export function toBuffer(value: string | Uint8Array): Buffer {
  if (typeof value === 'string') return Buffer.from(value);
  return Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

/** Headers a response we write replaces rather than inherits from a half-built one. */
export const STALE = ['content-length', 'content-encoding', 'transfer-encoding'] as const;

/** Reports a middleware's error that came after the framework could take it: logged, then dropped. */
export function reportLateError(err: unknown): void {
  console.error('headroom: middleware failed after the response was handed on', err);
}

/** A callback that does nothing (a listener or setter that must exist). */
export function noop(): void {}
