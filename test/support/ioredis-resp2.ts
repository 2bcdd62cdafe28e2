/**
 * ioredis 6 with RESP2 as the default protocol: what `ioredis` means in the test suite under
 * `HEADROOM_TEST_IOREDIS=6 HEADROOM_TEST_RESP=2` (see ioredis-switch.mjs). A client that names a
 * `protocol` keeps it; every other client, the connections a Cluster opens and `duplicate()`s
 * included (they copy the options), speaks RESP2.
 */
import { Cluster as Cluster6, Redis as Redis6, type RedisOptions } from 'ioredis6';

export type * from 'ioredis6';

/** Returns `args` (ioredis' constructor arguments) with `protocol: 2` in its options object. */
function withResp2(args: unknown[]): unknown[] {
  const at = args.findIndex((arg) => typeof arg === 'object' && arg !== null);
  if (at === -1) return [...args, { protocol: 2 }];
  const options = args[at] as RedisOptions;
  const copy = [...args];
  copy[at] = { protocol: 2, ...options };
  return copy;
}

/** ioredis 6's `Redis`, defaulting to `protocol: 2`. */
export class Redis extends Redis6 {
  constructor(...args: unknown[]) {
    super(...(withResp2(args) as []));
  }
}

type LegacyClusterArgs = ConstructorParameters<typeof Cluster6<'legacy'>>;

/** ioredis 6's `Cluster`, whose node connections default to `protocol: 2`. */
export class Cluster extends Cluster6 {
  constructor(...[startupNodes, options]: LegacyClusterArgs) {
    super(startupNodes, { ...options, redisOptions: { protocol: 2, ...options?.redisOptions } });
  }
}

export default Redis;
