/** A promise's resolve or reject function, as the hot paths store them. */
export type Settle = (value: unknown) => void;

type Executor<T> = (resolve: (value: T | PromiseLike<T>) => void, reject: (reason?: unknown) => void) => void;

function noop(): void {}

/**
 * The resolving functions of the promise made by the last {@link promiseWithSettlers} call. Read
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
 * Makes a promise and leaves its resolve and reject functions in {@link settlers}, as
 * `Promise.withResolvers()` would return them, but without allocating an executor closure or a
 * result object. The deadline-bound objects of the hot paths (a `withTimeout` call, a queued
 * task, a cache read, a request deadline) take them into fields at once, so settling needs no
 * closure either.
 *
 * @internal
 */
export function promiseWithSettlers<T>(): Promise<T> {
  return new Promise<T>(capture as Executor<T>);
}
