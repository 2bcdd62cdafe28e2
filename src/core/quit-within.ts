import { Deadline } from './deadline.js';
import { promiseWithSettlers, settlers, type Settle } from './settlers.js';

/** A client that can be asked to close its connection politely (ioredis' `Redis` and `Cluster`). @internal */
export interface Quittable {
  quit(): Promise<unknown>;
}

/** One QUIT on the shared deadline timer: resolves `true` if it was answered in time, else `false`. */
class QuitCall extends Deadline {
  readonly promise: Promise<boolean>;
  private readonly resolve: Settle;
  private done = false;

  constructor() {
    super();
    this.promise = promiseWithSettlers<boolean>();
    this.resolve = settlers.resolve;
  }

  settle(answered: boolean): void {
    if (this.done) return;
    this.done = true;
    this.disarmDeadline();
    this.resolve(answered);
  }

  onDeadline(): void {
    if (this.done) return;
    this.done = true;
    this.resolve(false);
  }
}

/**
 * Sends QUIT through `client` and waits for the answer at most `timeoutMs` (on the shared deadline
 * timer, which holds the process open that long at most). Resolves `true` when Redis answered in
 * time; `false` when QUIT failed, threw, or the time ran out, in which case the caller drops the
 * connection instead. Never rejects.
 *
 * @internal
 */
export function quitWithin(client: Quittable, timeoutMs: number): Promise<boolean> {
  const call = new QuitCall();
  let quitting: Promise<unknown>;
  try {
    quitting = client.quit();
  } catch {
    // A client that throws synchronously (closed already).
    return Promise.resolve(false);
  }
  call.armDeadline(timeoutMs);
  quitting.then(
    () => call.settle(true),
    () => call.settle(false),
  );
  return call.promise;
}
