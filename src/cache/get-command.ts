import { tracingChannel } from 'node:diagnostics_channel';
import type { CacheRedis } from './cache-options.js';

/**
 * The receiver of a {@link GetCommandClass} command's outcome: the reply (`string` or `null`),
 * or the reason it failed (anything else).
 *
 * @internal
 */
export interface GetReceiver {
  settled(value: unknown): void;
}

/**
 * A `GET` for a standalone ioredis client that hands its reply straight to a
 * {@link GetReceiver}: no promise, no resolving closures, no `then` callback, no auto-pipelining
 * wrapper. Built by {@link getCommandFor}.
 *
 * @internal
 */
export type GetCommandClass = new (key: string, receiver: GetReceiver) => object;

/**
 * What the direct path asks of a standalone ioredis client beyond {@link CacheRedis}.
 *
 * @internal
 */
export interface DirectClient {
  /** Queues a command (ioredis' `sendCommand`). */
  sendCommand(command: object): unknown;
  /** An unexecuted pipeline, asked to build a probe command. */
  pipeline(): { get(key: string): unknown };
}

/**
 * The part of ioredis' `Command` this module relies on. `isSettled` is ioredis 6's (its timers
 * and its Cluster read it), `isResolved` is in both majors. `_clearTimers` (ioredis 6 and recent
 * 5.x) clears every timer ioredis armed for the command; without it, `_commandTimeoutTimer` is
 * the one a `GET` can have.
 */
interface IoredisCommand {
  isResolved: boolean;
  isSettled?: boolean;
  transformed: boolean;
  _commandTimeoutTimer?: ReturnType<typeof setTimeout>;
  _clearTimers?(): void;
}

type IoredisCommandClass = new (name: string, args: unknown[], options: object) => IoredisCommand;

/**
 * No options: the cache refuses clients with ioredis' `keyPrefix` (its own `prefix` does that
 * job), and replies are decoded here rather than by ioredis' `replyEncoding`.
 */
const NO_OPTIONS = {};

/**
 * ioredis (5.10 and later) traces every command on this channel; a traced command must carry the
 * promise ioredis hands to the tracer, so reads take the ordinary `client.get` path while anyone
 * subscribes (an OpenTelemetry instrumentation, say). The channel is looked up by name, so this
 * is the same channel ioredis publishes on.
 */
const commandChannel = tracingChannel('ioredis:command');

/**
 * True when the direct path may be used now: nobody traces ioredis commands. Node versions whose
 * tracing channels lack `hasSubscribers` (before 20.13) always take the ordinary path, as ioredis
 * itself then always traces.
 *
 * @internal
 */
export function directReadsAllowed(): boolean {
  return (commandChannel as { hasSubscribers?: boolean }).hasSubscribers === false;
}

function deliver(receiver: GetReceiver, value: unknown): void {
  try {
    receiver.settled(value);
  } catch (error) {
    // This runs inside ioredis' reply parser, which must not see our exception. A receiver never
    // throws by contract; if one did, it surfaces as an unhandled rejection, as it did when the
    // reply came through a promise callback.
    void Promise.reject(error);
  }
}

/**
 * The `Command` class of the ioredis copy that made `client` (an application may hold more than
 * one copy). `client.constructor` cannot tell: ioredis mixes EventEmitter's prototype into its
 * client, `constructor` included. So a pipeline, never executed, is asked to build a `GET`, and
 * its `sendCommand` is replaced on that one instance to catch the command instead of queueing it.
 */
function commandClassOf(client: DirectClient): unknown {
  let found: unknown;
  try {
    const pipeline = client.pipeline();
    (pipeline as unknown as { sendCommand(command: object): unknown }).sendCommand = (command) => {
      found = command.constructor;
      return pipeline;
    };
    pipeline.get('headroom:probe');
  } catch {
    return undefined;
  }
  return found;
}

/**
 * The direct `GET` command class for `client`, or `undefined` when reads must go through
 * `client.get` (a Cluster, which routes commands itself, or a client whose `Command` class does
 * not have the shape this relies on).
 *
 * How it works: ioredis' `Command` creates its promise and resolving functions in `initPromise()`,
 * which its constructor calls, and the reply parser settles a command by calling its `resolve` or
 * `reject` method. The subclass overrides `initPromise()` to make neither, and defines `resolve`
 * and `reject` as methods that pass the outcome on. The shape is checked once here on a probe
 * command; anything unexpected keeps the ordinary path.
 *
 * @internal
 */
export function getCommandFor(client: CacheRedis): GetCommandClass | undefined {
  const direct = client as unknown as Partial<DirectClient>;
  if (client.isCluster === true || typeof direct.sendCommand !== 'function' || typeof direct.pipeline !== 'function') return undefined;
  const Base = commandClassOf(direct as DirectClient);
  if (typeof Base !== 'function') return undefined;
  const proto = (Base as { prototype: Record<string, unknown> }).prototype;
  if (typeof proto.initPromise !== 'function' || typeof proto.toWritable !== 'function') return undefined;
  const ownClearTimers = typeof proto._clearTimers === 'function';

  class GetCommand extends (Base as IoredisCommandClass) {
    declare receiver: GetReceiver;

    constructor(key: string, receiver: GetReceiver) {
      super('get', [key], NO_OPTIONS);
      this.receiver = receiver;
    }

    /** Called by ioredis' constructor: no promise, no resolving functions (a string key needs no argument transform). */
    initPromise(): void {
      this.transformed = true;
    }

    /** The reply: a Buffer (ioredis parses replies as Buffers) or `null`. */
    resolve(reply: unknown): void {
      this.done();
      deliver(this.receiver, Buffer.isBuffer(reply) ? reply.toString() : reply);
    }

    /** A reply error, a closed connection, a flushed queue, ioredis' own `commandTimeout`. */
    reject(error: unknown): void {
      this.done();
      deliver(this.receiver, error instanceof Error ? error : new Error(String(error)));
    }

    /**
     * Marks the command settled as ioredis' own `resolve` and `reject` do (`isResolved`, and
     * ioredis 6's `isSettled`, which its timers check before they reject), and clears the
     * timers ioredis armed for it (its `commandTimeout`) through its own `_clearTimers`.
     */
    private done(): void {
      this.isResolved = true;
      this.isSettled = true;
      if (ownClearTimers) {
        this._clearTimers!();
        return;
      }
      const timer = this._commandTimeoutTimer;
      if (timer !== undefined) {
        clearTimeout(timer);
        this._commandTimeoutTimer = undefined;
      }
    }
  }

  const probe = new GetCommand('probe', { settled() {} }) as unknown as Record<string, unknown>;
  const shapeHolds =
    !Object.prototype.hasOwnProperty.call(probe, 'resolve') &&
    !Object.prototype.hasOwnProperty.call(probe, 'reject') &&
    Array.isArray(probe.args) &&
    probe.name === 'get';
  return shapeHolds ? GetCommand : undefined;
}
