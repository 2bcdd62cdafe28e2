/**
 * The parts of an ioredis client that headroom's Redis-backed modules call, written as plain
 * interfaces rather than as ioredis' `Redis | Cluster`. An ioredis `Redis` or `Cluster` of major 5
 * or 6, with either reply mapping (`'legacy'` or `'resp3'`), satisfies them; so does a client from
 * a second ioredis copy in the same project (the application's ioredis 6 next to the ioredis 5
 * headroom was built against), which ioredis' own class types would refuse. Every member named
 * here replies the same on RESP2 and RESP3.
 *
 * @packageDocumentation
 */

/** A listener of a client event (ioredis' clients are Node EventEmitters). */
export type RedisEventListener = (...args: unknown[]) => void;

/**
 * The Lua script commands: `EVALSHA`, and `EVAL` when the server answers `NOSCRIPT`.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * const scripts: RedisScripting = new Redis();
 * ```
 */
export interface RedisScripting {
  /** `EVALSHA sha1 numKeys ...keysAndArgs`. */
  evalsha(sha1: string, numKeys: number, ...keysAndArgs: Array<string | number>): Promise<unknown>;
  /** `EVAL script numKeys ...keysAndArgs`. */
  eval(script: string, numKeys: number, ...keysAndArgs: Array<string | number>): Promise<unknown>;
}

/**
 * The connection `duplicate()` makes for a subscription: SUBSCRIBE, its events, and closing it.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * const subscriber: RedisSubscriber = new Redis().duplicate();
 * ```
 */
export interface RedisSubscriber {
  /** `SUBSCRIBE channel...`. */
  subscribe(...channels: string[]): Promise<unknown>;
  /** Adds an event listener (`'message'`, `'ready'`, `'close'`, `'end'`, `'error'`). */
  on(event: string, listener: RedisEventListener): unknown;
  /** Removes an event listener. */
  off(event: string, listener: RedisEventListener): unknown;
  /** `QUIT`: closes the connection once the replies pending on it came. */
  quit(): Promise<unknown>;
  /** Closes the connection at once, without reconnecting. */
  disconnect(): void;
}

/**
 * Pub/sub from a client: PUBLISH on it, and a second connection (`duplicate()`) to subscribe on.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * const pubsub: RedisPubSub = new Redis();
 * ```
 */
export interface RedisPubSub {
  /** `PUBLISH channel message`: resolves with the number of receivers. */
  publish(channel: string, message: string): Promise<number>;
  /** A new connection with the same options (ioredis' `duplicate()`). */
  duplicate(): RedisSubscriber;
}

/**
 * A standalone client's socket, as the modules that cork it see it (ioredis' `stream`).
 *
 * @internal
 */
export interface CorkableSocket {
  readonly writable: boolean;
  cork(): void;
  uncork(): void;
}

/**
 * Corks the socket of a standalone ioredis client that is connected and writable, so the commands
 * sent until the caller uncorks it leave in one write; returns the socket to uncork, or
 * `undefined` (nothing corked) for a Cluster, a client not ready, or anything else.
 *
 * @internal
 */
export function corkClient(client: object): CorkableSocket | undefined {
  const { status, stream } = client as { status?: unknown; stream?: CorkableSocket };
  if (status !== 'ready' || stream === undefined || stream === null || !stream.writable) return undefined;
  stream.cork();
  return stream;
}
