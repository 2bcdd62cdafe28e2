import { invalidArgument, type HttpExchange } from '../core/index.js';

/** Options of {@link forwardedClientAddress}. */
export interface ForwardedClientAddressOptions {
  /**
   * How many proxies you run in front of the service (load balancer, ingress...), each appending
   * the address it received the request from to `X-Forwarded-For`. A whole number >= 1.
   */
  trustedProxies: number;
}

/**
 * The client's address as your own proxies saw it: the entry of `X-Forwarded-For` that is
 * `trustedProxies` hops from the right. Entries further left were written by the client (or by
 * proxies you do not run) and can say anything, so a client cannot pick its own rate-limit key by
 * sending a forged header: your outermost proxy appended the address that really connected to it,
 * and that is the entry read. `undefined` when the header has fewer entries than that (the request
 * did not come through all your proxies).
 *
 * This holds only if the service cannot be reached except through those proxies, and each of them
 * appends to the header (nginx `$proxy_add_x_forwarded_for`, most cloud load balancers) rather than
 * passing it through or replacing it.
 *
 * @example
 * ```ts
 * import { toNode, type HttpExchange } from 'headroom/http';
 *
 * // One load balancer in front: the last entry is the address it received the request from.
 * const key = (exchange: HttpExchange) => forwardedClientAddress(exchange, { trustedProxies: 1 }) ?? 'no-proxy';
 * app.use(toNode(rateLimitMiddleware(perIp, { key })));
 * ```
 */
export function forwardedClientAddress(exchange: HttpExchange, options: ForwardedClientAddressOptions): string | undefined {
  const hops = options?.trustedProxies;
  if (typeof hops !== 'number' || !Number.isInteger(hops) || hops < 1) throw invalidArgument('trustedProxies', 'a whole number >= 1', hops);
  const header = exchange.header('x-forwarded-for');
  if (header === undefined) return undefined;
  let end = header.length;
  for (let hop = 1; ; hop++) {
    const start = header.lastIndexOf(',', end - 1);
    if (hop === hops) {
      const address = header.slice(start + 1, end).trim();
      return address.length === 0 ? undefined : address;
    }
    if (start === -1) return undefined;
    end = start;
  }
}
