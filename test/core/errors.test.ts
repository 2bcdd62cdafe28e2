import { describe, expect, it } from 'vitest';
import {
  ErrorCode,
  HeadroomError,
  InvalidArgumentError,
  invalidArgument,
  isHeadroomError,
  problemResponse,
  problemType,
  setProblemTypeBase,
} from '../../src/core/index.js';

describe('HeadroomError', () => {
  it('carries code, status, retryAfterMs and cause', () => {
    const cause = new Error('socket closed');
    const err = new HeadroomError(ErrorCode.QUEUE_FULL, 'full', { status: 503, retryAfterMs: 1200, cause });
    expect(err).toBeInstanceOf(Error);
    expect(err.code).toBe('QUEUE_FULL');
    expect(err.status).toBe(503);
    expect(err.retryAfterMs).toBe(1200);
    expect(err.cause).toBe(cause);
    expect(err.message).toBe('full');
  });

  it('defaults status to 500 and leaves retryAfterMs and cause unset', () => {
    const err = new HeadroomError(ErrorCode.CLOSED, 'closed');
    expect(err.status).toBe(500);
    expect(err.retryAfterMs).toBeUndefined();
    expect('cause' in err).toBe(false);
  });
});

describe('isHeadroomError', () => {
  it('recognises headroom errors, optionally by code', () => {
    const err = new HeadroomError(ErrorCode.OPERATION_TIMEOUT, 'late', { status: 504 });
    expect(isHeadroomError(err)).toBe(true);
    expect(isHeadroomError(err, 'OPERATION_TIMEOUT')).toBe(true);
    expect(isHeadroomError(err, 'QUEUE_FULL')).toBe(false);
  });

  it('recognises a copy from another bundle by its shape', () => {
    const foreign = Object.assign(new Error('late'), { code: 'OPERATION_TIMEOUT', status: 504 });
    expect(isHeadroomError(foreign, 'OPERATION_TIMEOUT')).toBe(true);
  });

  it('rejects plain errors, node errors with codes, and non-errors', () => {
    expect(isHeadroomError(new Error('x'))).toBe(false);
    expect(isHeadroomError(Object.assign(new Error('x'), { code: 'ECONNRESET', status: 500 }))).toBe(false);
    expect(isHeadroomError({ code: 'QUEUE_FULL', status: 503 })).toBe(false);
    expect(isHeadroomError(null)).toBe(false);
    expect(isHeadroomError('QUEUE_FULL')).toBe(false);
  });
});

describe('invalidArgument', () => {
  it('names the option, what was expected and what was received', () => {
    const err = invalidArgument('maxSize', 'a whole number >= 0', -1);
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.status).toBe(400);
    expect(err.argument).toBe('maxSize');
    expect(err.message).toBe('headroom: maxSize must be a whole number >= 0; got -1');
  });

  it('describes strings, functions, arrays, objects and bigints readably', () => {
    expect(invalidArgument('a', 'x', 'five').message).toContain('got "five"');
    expect(invalidArgument('a', 'x', () => 1).message).toContain('got a function');
    expect(invalidArgument('a', 'x', [1]).message).toContain('got an array');
    expect(invalidArgument('a', 'x', {}).message).toContain('got an object');
    expect(invalidArgument('a', 'x', 10n).message).toContain('got 10n');
    expect(invalidArgument('a', 'x', 'y'.repeat(100)).message).toContain('...');
  });
});

describe('problemResponse', () => {
  it('turns a HeadroomError into application/problem+json with Retry-After in whole seconds', () => {
    const response = problemResponse(new HeadroomError(ErrorCode.QUEUE_FULL, 'queue "api" is full', { status: 503, retryAfterMs: 1500 }));
    expect(response.status).toBe(503);
    expect(response.headers).toMatchObject({ 'content-type': 'application/problem+json', 'retry-after': '2' });
    expect(JSON.parse(response.body as string)).toEqual({
      type: 'about:blank',
      title: 'Service Unavailable',
      status: 503,
      code: 'QUEUE_FULL',
      detail: 'queue "api" is full',
    });
  });

  it('points the type at the documentation base set with setProblemTypeBase, and back to about:blank', () => {
    setProblemTypeBase('https://docs.example.com/errors/');
    try {
      const body = JSON.parse(problemResponse({ status: 503, code: 'QUEUE_FULL' }).body as string) as { type: string };
      expect(body.type).toBe('https://docs.example.com/errors/queue-full');
      expect(problemType('IDEMPOTENCY_KEY_REUSED')).toBe('https://docs.example.com/errors/idempotency-key-reused');
    } finally {
      setProblemTypeBase(undefined);
    }
    expect(problemType('QUEUE_FULL')).toBe('about:blank');
    for (const bad of ['docs/errors/', 'https://docs example.com/', '', 42]) {
      expect(() => setProblemTypeBase(bad as string)).toThrow(/base must be an absolute URI/);
    }
  });

  it('carries the code on the response (not sent) for middleware further out', () => {
    expect(problemResponse({ status: 503, code: 'QUEUE_FULL' }).code).toBe('QUEUE_FULL');
  });

  it('builds a problem from fields, with extensions and at least one second of Retry-After', () => {
    const response = problemResponse({ status: 400, code: 'INVALID_ARGUMENT', detail: 'bad key', retryAfterMs: 10, extensions: { field: 'key' } });
    expect(response.headers?.['retry-after']).toBe('1');
    expect(JSON.parse(response.body as string)).toMatchObject({ title: 'Bad Request', code: 'INVALID_ARGUMENT', detail: 'bad key', field: 'key' });
  });
});
