/** A promise's resolve or reject function, as the hot paths store them. */
export type Settle = (value: unknown) => void;

type Executor<T> = (resolve: (value: T | PromiseLike<T>) => void, reject: (reason?: unknown) => void) => void;

function noop(): void {}

/**
 * The resolving functions of the promise made by the last {@link closureFreePromise} call. Read
 * them right after that call, before anything else can make another promise.
 *
 * @internal
 */
export const settlers: { resolve: Settle; reject: Settle } = { resolve: noop, reject: noop };

// Runs synchronously inside `new Promise`; being a module-level function, it is no closure.
function capture(resolve: Settle, reject: Settle): void {
  settlers.resolve = resolve;
  settlers.reject = reject;
}

/**
 * Makes a promise without allocating an executor closure: its resolve and reject functions are
 * left in {@link settlers}. The deadline-bound objects of the hot paths (a `withTimeout` call, a
 * queued task, a cache read, a request deadline) keep them as fields, so settling needs no
 * closure either.
 *
 * @internal
 */
export function closureFreePromise<T>(): Promise<T> {
  return new Promise<T>(capture as Executor<T>);
}
