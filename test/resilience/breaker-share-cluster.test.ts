import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../../src/resilience/index.js';
import { eventually } from '../support/async.js';
import { startCluster, type RedisCluster } from '../support/redis.js';

let cluster: RedisCluster;
beforeAll(async () => {
  cluster = await startCluster();
});
afterAll(async () => {
  await cluster.stop();
});

describe('CircuitBreaker share (Redis Cluster)', () => {
  it('tells the breakers on other Cluster clients when one opens', async () => {
    const channel = 'test:cluster-breakers';
    const a = new CircuitBreaker({ name: 'ledger', trip: { consecutive: 2 }, share: { redis: cluster.client(), channel } });
    const b = new CircuitBreaker({ name: 'ledger', trip: { consecutive: 2 }, share: { redis: cluster.client(), channel } });
    try {
      await eventually(() => {
        expect(a.stats().shared?.connected).toBe(true);
        expect(b.stats().shared?.connected).toBe(true);
      }, 10_000);
      for (let i = 0; i < 2; i++) await a.execute(() => Promise.reject(new Error('ledger down'))).catch(() => undefined);
      expect(a.state).toBe('open');
      await eventually(() => expect(b.state).toBe('open'));
      expect(b.stats().opened).toBe(1);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
