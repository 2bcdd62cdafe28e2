import { ErrorCode, HeadroomError } from '../core/index.js';

/** Turns results into the strings a store keeps, and back. */
export interface IdempotencySerializer {
  /** Encodes a result of the operation. Throwing here fails the call and releases the key. */
  serialize(value: unknown): string;
  /** Decodes what {@link IdempotencySerializer.serialize} wrote. */
  deserialize(text: string): unknown;
}

/** The default serializer: `JSON.stringify` / `JSON.parse`. */
export const jsonSerializer: IdempotencySerializer = {
  serialize: (value) => JSON.stringify(value),
  deserialize: (text) => JSON.parse(text) as unknown,
};

/*
 * A stored outcome is one string whose first character says what follows: 'v' + a serialized
 * value, 'u' for undefined (which JSON cannot carry), 'e' + the JSON of a stored error's fields.
 */

/** @internal */
export function encodeValue(value: unknown, serializer: IdempotencySerializer): string {
  return value === undefined ? 'u' : 'v' + serializer.serialize(value);
}

/** @internal */
export function encodeError(error: unknown): string {
  const fields: Record<string, unknown> = {};
  if (error instanceof Error) {
    fields.name = error.name;
    fields.message = error.message;
    // Own enumerable primitives (code, status, retryAfterMs, statusCode...): what a caller branches on.
    for (const key of Object.keys(error)) {
      const member = (error as unknown as Record<string, unknown>)[key];
      const type = typeof member;
      if (member === null || type === 'string' || type === 'number' || type === 'boolean') fields[key] = member;
    }
  } else {
    fields.name = 'Error';
    fields.message = String(error);
  }
  return 'e' + JSON.stringify(fields);
}

/** The stored result, or throws the stored error (restored: name, message, code, status...). @internal */
export function replayOutcome(text: string, serializer: IdempotencySerializer): unknown {
  const tag = text.charCodeAt(0);
  if (tag === 0x76 /* v */) return serializer.deserialize(text.slice(1));
  if (tag === 0x75 /* u */) return undefined;
  if (tag === 0x65 /* e */) throw restoreError(JSON.parse(text.slice(1)) as Record<string, unknown>);
  throw new Error('headroom: unreadable idempotency record (unknown tag)');
}

function restoreError(fields: Record<string, unknown>): Error {
  const { name, message, code, status, retryAfterMs, ...rest } = fields;
  let error: Error;
  if (typeof code === 'string' && code in ErrorCode && typeof status === 'number') {
    error = new HeadroomError(code as ErrorCode, String(message), {
      status,
      retryAfterMs: typeof retryAfterMs === 'number' ? retryAfterMs : undefined,
    });
  } else {
    error = new Error(String(message));
    if (code !== undefined) (error as Error & { code?: unknown }).code = code;
    if (status !== undefined) (error as Error & { status?: unknown }).status = status;
    if (retryAfterMs !== undefined) (error as Error & { retryAfterMs?: unknown }).retryAfterMs = retryAfterMs;
  }
  if (typeof name === 'string') error.name = name;
  Object.assign(error, rest);
  return error;
}
