import { afterAll, describe, expect, it } from 'vitest';
import { quitWithin } from '../../src/core/index.js';
import { startRedis, stopAllRedis } from '../support/redis.js';
import { useTestClock } from '../support/test-clock.js';

afterAll(stopAllRedis);

describe('quitWithin: a bounded QUIT', () => {
  it('resolves true when Redis answers QUIT, and leaves nothing armed', async () => {
    const server = await startRedis();
    const client = server.client();
    await client.ping();
    const clock = useTestClock();
    expect(await quitWithin(client, 1_000)).toBe(true);
    expect(clock.armed()).toBe(0);
    await server.stop();
  });

  it('resolves false at the bound when Redis does not answer (paused server)', async () => {
    const server = await startRedis();
    const client = server.client();
    await client.ping();
    const clock = useTestClock();
    server.pause();
    let outcome: boolean | undefined;
    const pending = quitWithin(client, 1_000).then((answered) => (outcome = answered));
    await clock.advance(999);
    expect(outcome).toBeUndefined();
    await clock.advance(1);
    await pending;
    expect(outcome).toBe(false);
    client.disconnect();
    server.resume();
    await server.stop();
  });
});
