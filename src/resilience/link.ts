import { LazyAbortController, functionArgument, invalidArgument } from '../core/index.js';
import type { Attempt, ExecuteContext, ExecuteOptions, Policy } from './policy.js';

/**
 * The {@link ExecuteContext} that stages hand one another. Signals are made lazily: a stage that
 * may abort its attempt keeps a reason until someone reads `signal` (core's
 * `LazyAbortController`), so an attempt whose work never reads it costs no `AbortController`.
 *
 * A stage that must notice its parent giving up (to stop sleeping, to reject at once) asks
 * {@link Link.watchable}: `undefined` means nothing can ever abort the parent, and the stage adds
 * no listener at all; otherwise it listens to that real signal for the length of its work.
 *
 * @internal
 */
export interface Link extends ExecuteContext {
  attempt: number;
  /** The signal to listen to when something can abort this link, else `undefined`. */
  watchable(): AbortSignal | undefined;
}

/** The link of an `execute` without a caller signal: nothing aborts it. @internal */
export class RootLink implements Link {
  private controller: AbortController | undefined = undefined;

  constructor(public attempt: number) {}

  get signal(): AbortSignal {
    return (this.controller ??= new AbortController()).signal;
  }

  watchable(): undefined {
    return undefined;
  }
}

/** The link of an `execute` given a caller signal, or of a context from a foreign policy. @internal */
export class SignalLink implements Link {
  constructor(
    private readonly callerSignal: AbortSignal,
    public attempt: number,
  ) {}

  get signal(): AbortSignal {
    return this.callerSignal;
  }

  watchable(): AbortSignal {
    return this.callerSignal;
  }
}

/** A link that follows its parent's signal and numbers its own attempts. @internal */
export class PassLink implements Link {
  constructor(
    private readonly parent: Link,
    public attempt: number,
  ) {}

  get signal(): AbortSignal {
    return this.parent.signal;
  }

  watchable(): AbortSignal | undefined {
    return this.parent.watchable();
  }
}

/**
 * A link its stage can abort (a deadline, a lost hedge race, the parent giving up). Until its
 * signal is read, aborting only records the reason; reading it then yields an aborted signal.
 * The stage owning it listens to the parent (see {@link Link.watchable}) and forwards the abort.
 *
 * @internal
 */
export class AbortLink extends LazyAbortController implements Link {
  constructor(public attempt: number) {
    super();
  }

  watchable(): AbortSignal | undefined {
    return this.signal;
  }
}

/** A policy implemented in this module: it runs work under a link instead of a caller signal. @internal */
export interface Stage {
  run<T>(fn: Attempt<T>, link: Link): Promise<T>;
}

/** The link for a top-level `execute(fn, options)`, after checking both. @internal */
export function linkFor(fn: unknown, options: ExecuteOptions | undefined): Link {
  functionArgument(fn, 'fn');
  if (options === undefined) return new RootLink(1);
  if (typeof options !== 'object' || options === null) throw invalidArgument('options', 'an options object', options);
  const signal = options.signal;
  if (signal === undefined) return new RootLink(1);
  if (!(signal instanceof AbortSignal)) throw invalidArgument('options.signal', 'an AbortSignal', signal);
  return new SignalLink(signal, 1);
}

/** A context handed over by a foreign policy, as a link. @internal */
export function asLink(context: ExecuteContext): Link {
  return typeof (context as Partial<Link>).watchable === 'function' ? (context as Link) : new SignalLink(context.signal, context.attempt);
}

/** Runs `fn` under a foreign policy as a stage. @internal */
export function runForeign<T>(policy: Policy<unknown>, fn: Attempt<T>, link: Link): Promise<T> {
  const signal = link.watchable();
  return policy.execute(fn, signal === undefined ? undefined : { signal }) as Promise<T>;
}

/** Calls `fn(link)`, turning a synchronous throw into a rejection and a plain value into a promise. @internal */
export function callAttempt<T>(fn: Attempt<T>, link: Link): PromiseLike<T> {
  try {
    const result = fn(link);
    if (isThenable(result)) return result;
    return Promise.resolve(result);
  } catch (error) {
    return Promise.reject(error);
  }
}

/** True for promises and other thenables. @internal */
export function isThenable<T>(value: PromiseLike<T> | T): value is PromiseLike<T> {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as PromiseLike<T>).then === 'function';
}
