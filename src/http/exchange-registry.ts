/**
 * Where the exchange of each request is kept: on the request object the adapter registered it
 * under (node `IncomingMessage` or fetch `Request`). Only the first exchange of a request is
 * stored: a second adapter on the same request (two `app.use(toNode(...))`) shares its signal,
 * so `requestSignal(req)` and every middleware see one signal.
 *
 * A symbol-keyed property rather than a WeakMap: the exchange references its request, and a
 * WeakMap entry whose value holds its own key is an ephemeron the garbage collector has to
 * revisit; measured at 10-20 us of GC per request through node:http. The property is invisible
 * to `Object.keys`, `for...in` and `JSON.stringify`. The WeakMap stays as the fallback for a
 * request object that cannot take a property (frozen).
 */
const EXCHANGE: unique symbol = Symbol('headroom.exchange');
const fallback = new WeakMap<object, object>();

type Keyed = { [EXCHANGE]?: object };

/** The exchange registered for `key`, if an adapter has seen it. */
export function registered<T extends object>(key: object): T | undefined {
  return ((key as Keyed)[EXCHANGE] ?? fallback.get(key)) as T | undefined;
}

/** Registers `exchange` as the one of `key`. */
export function register(key: object, exchange: object): void {
  if (Object.isExtensible(key)) (key as Keyed)[EXCHANGE] = exchange;
  else fallback.set(key, exchange);
}

/** The reason the exchange signal carries when the client goes away first. */
export function disconnectReason(): DOMException {
  return new DOMException('headroom: the client closed the connection', 'AbortError');
}
