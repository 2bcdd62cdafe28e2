import { afterAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { startRedis, stopAllRedis } from './redis.js';
import { startProxy } from './tcp-proxy.js';

afterAll(stopAllRedis);

describe('test support: TCP proxy', () => {
  it('forwards, names connections by the commands they sent, and black-holes one without closing it', async () => {
    const server = await startRedis();
    const proxy = await startProxy({ host: server.host, port: server.port });
    const plain = new Redis({ host: proxy.host, port: proxy.port, maxRetriesPerRequest: 1, commandTimeout: 300 });
    const sub = new Redis({ host: proxy.host, port: proxy.port, maxRetriesPerRequest: 1 });
    plain.on('error', () => {});
    sub.on('error', () => {});
    const events: string[] = [];
    sub.on('close', () => events.push('close'));
    sub.on('end', () => events.push('end'));
    try {
      await plain.set('k', 'v');
      expect(await plain.get('k')).toBe('v');
      const received: string[] = [];
      sub.on('message', (_channel: string, message: string) => received.push(message));
      await sub.subscribe('ch');
      expect(proxy.connections).toHaveLength(2);

      expect(proxy.blackhole((c) => c.sent('SUBSCRIBE'))).toBe(1);
      await plain.publish('ch', 'lost');
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(received).toEqual([]); // nothing comes back
      expect(events).toEqual([]); // and nothing tells the client
      expect(await plain.get('k')).toBe('v'); // the other connection still works

      // A FIN from the client is never answered either: end() alone would wait forever.
      sub.stream.end();
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(events).toEqual([]);
    } finally {
      plain.disconnect();
      sub.disconnect();
      await proxy.close();
    }
  });

  it('black-holes new connections while blackholeNew is set', async () => {
    const server = await startRedis();
    const proxy = await startProxy({ host: server.host, port: server.port });
    proxy.blackholeNew = true;
    const client = new Redis({ host: proxy.host, port: proxy.port, maxRetriesPerRequest: 1, commandTimeout: 200 });
    client.on('error', () => {});
    try {
      await expect(client.ping()).rejects.toThrow(/timed out/i);
      proxy.blackholeNew = false;
      proxy.resetAll();
      await expect.poll(() => client.ping().catch(() => 'no'), { timeout: 3_000 }).toBe('PONG');
    } finally {
      client.disconnect();
      await proxy.close();
    }
  });
});
