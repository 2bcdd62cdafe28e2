/**
 * Properties of tag invalidation through the public cache API, against a model that knows, for
 * every key, the value last written and when, and for every tag when it was last invalidated:
 * an entry written before an invalidation of one of its tags is never served after it, and one
 * written after every invalidation of its tags always is.
 *
 * In process (L1 only), then across instances over one real Redis: one with an L1 and the bus,
 * one reading L2 with tag times fed by the bus, one reading L2 and asking Redis for tag times.
 * Every value also makes the trip through Redis, for every payload kind.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { cacheJsonSerializer, createCache, type Cache, type CacheSerializer } from '../../src/cache/index.js';
import { busReady, cacheSuite } from './helpers.js';

const suite = cacheSuite('tagprop');

const KEYS = ['k0', 'k1', 'k2'];
const TAGS = ['t0', 't1', 't2', 't3'];

type Op =
  | { kind: 'set'; on: number; key: string; tags: string[] }
  | { kind: 'getOrSet'; on: number; key: string; tags: string[] }
  | { kind: 'invalidate'; on: number; tags: string[] }
  | { kind: 'get'; on: number; key: string };

const key = fc.constantFrom(...KEYS);
const tagList = fc.uniqueArray(fc.constantFrom(...TAGS), { maxLength: 3 });

function opsArb(writers: number, readers: number, withGetOrSet: boolean): fc.Arbitrary<Op[]> {
  const writer = fc.nat(writers - 1);
  const reader = fc.nat(readers - 1);
  const arbs: fc.WeightedArbitrary<Op>[] = [
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('set' as const), on: writer, key, tags: tagList }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('invalidate' as const), on: writer, tags: tagList.filter((t) => t.length > 0) }) },
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('get' as const), on: reader, key }) },
  ];
  if (withGetOrSet) arbs.push({ weight: 3, arbitrary: fc.record({ kind: fc.constant('getOrSet' as const), on: writer, key, tags: tagList }) });
  return fc.array(fc.oneof(...arbs), { minLength: 8, maxLength: 30 });
}

/** What the model knows: writes and invalidations in the order they happened. */
class Model {
  private clock = 0;
  private readonly entries = new Map<string, { value: number; tags: string[]; at: number }>();
  private readonly invalidated = new Map<string, number>();

  write(key: string, value: number, tags: string[]): void {
    this.entries.set(key, { value, tags, at: ++this.clock });
  }

  invalidate(tags: string[]): void {
    const at = ++this.clock;
    for (const tag of tags) this.invalidated.set(tag, at);
  }

  /** The value a read must return, or `undefined` when it must miss. */
  expected(key: string): number | undefined {
    const e = this.entries.get(key);
    if (e === undefined) return undefined;
    return e.tags.some((tag) => (this.invalidated.get(tag) ?? 0) > e.at) ? undefined : e.value;
  }

  /** How many distinct tags were invalidated (a cache tracks `maxTrackedTags` of them). */
  get tagsInvalidated(): number {
    return this.invalidated.size;
  }
}

interface Plan {
  /** Caches that may write (and read). */
  writers: Cache[];
  /** Caches that read; the writers first. */
  readers: Cache[];
  /** Names keys and tags so that runs sharing caches never see each other's. */
  prefix: string;
  /** Whether every read must be exact (no tag was evicted from any cache's memory). */
  exact: (model: Model) => boolean;
  /**
   * Called before each write; what it returns waits until every other instance has applied the
   * bus message of that write (delivery is asynchronous). None in process.
   */
  beforeWrite?: () => () => Promise<void>;
}

async function play(plan: Plan, ops: readonly Op[]): Promise<void> {
  const model = new Model();
  const { writers, readers, prefix } = plan;
  let next = 0;
  for (const op of ops) {
    const delivered = op.kind === 'set' || op.kind === 'invalidate' ? plan.beforeWrite?.() : undefined;
    switch (op.kind) {
      case 'set': {
        const value = ++next;
        await writers[op.on]!.set(prefix + op.key, value, { tags: op.tags.map((t) => prefix + t) });
        model.write(op.key, value, op.tags);
        break;
      }
      case 'invalidate':
        await writers[op.on]!.invalidateTags(op.tags.map((t) => prefix + t));
        model.invalidate(op.tags);
        break;
      case 'get': {
        const got = await readers[op.on]!.get(prefix + op.key);
        const expected = model.expected(op.key);
        const what = `get ${op.key} on cache ${op.on}`;
        if (expected === undefined) expect(got, `${what}: written before an invalidation of its tags`).toBeUndefined();
        else if (plan.exact(model)) expect(got, `${what}: written after every invalidation of its tags`).toBe(expected);
        else expect([expected, undefined], what).toContain(got);
        break;
      }
      case 'getOrSet': {
        const value = next + 1;
        let ran = false;
        const got = await writers[op.on]!.getOrSet(
          prefix + op.key,
          () => {
            ran = true;
            return value;
          },
          { tags: op.tags.map((t) => prefix + t) },
        );
        const expected = model.expected(op.key);
        if (ran) {
          next = value;
          expect(got).toBe(value);
          if (expected !== undefined && plan.exact(model)) expect.fail(`getOrSet ${op.key} ran its factory while ${expected} was valid`);
          model.write(op.key, value, op.tags);
        } else {
          expect(got, `getOrSet ${op.key}: a cached value must be the valid one`).toBe(expected);
        }
        break;
      }
    }
    await delivered?.();
  }
}

/** Waits, a turn of the event loop at a time, until `check` holds (at most 5 s). */
async function until(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for a bus message to arrive');
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('tag invalidation through createCache (properties)', () => {
  it('in process: never serves an entry after an invalidation of its tags, always serves one written since', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 6 }), opsArb(1, 1, true), async (maxTrackedTags, ops) => {
        const cache = createCache({ ttl: '1h', maxTrackedTags });
        try {
          await play({ writers: [cache], readers: [cache], prefix: '', exact: (m) => m.tagsInvalidated <= maxTrackedTags }, ops);
        } finally {
          await cache.close();
        }
      }),
      { numRuns: 50 },
    );
  });

  describe('across instances over Redis', () => {
    let withL1: Cache;
    let l2WithBus: Cache;
    let l2Only: Cache;
    beforeAll(async () => {
      const prefix = suite.nextPrefix();
      const make = (options: Parameters<typeof createCache>[0]): Cache => createCache({ redis: suite.server.client(), prefix, ttl: '1h', ...options });
      withL1 = make({});
      l2WithBus = make({ l1: false });
      l2Only = make({ l1: false, bus: false });
      await busReady(withL1, l2WithBus);
      return () => Promise.all([withL1.close(), l2WithBus.close(), l2Only.close()]);
    });

    it('never serves an entry after an invalidation of its tags, always serves one written since', async () => {
      let run = 0;
      // Each write publishes one message, which the other instance with a bus receives.
      const received = (): number => withL1.stats().bus.messagesIn + l2WithBus.stats().bus.messagesIn;
      await fc.assert(
        fc.asyncProperty(opsArb(2, 3, false), async (ops) => {
          await play(
            {
              writers: [withL1, l2WithBus],
              readers: [withL1, l2WithBus, l2Only],
              prefix: `r${++run}:`,
              exact: () => true,
              beforeWrite: () => {
                const before = received();
                return () => until(() => received() > before);
              },
            },
            ops,
          );
        }),
        { numRuns: 40 },
      );
    });
  });

  describe('values through Redis', () => {
    const text: CacheSerializer = {
      serialize: (value) => JSON.stringify(value),
      deserialize: (data) => JSON.parse(data as string) as unknown,
    };
    const bytes: CacheSerializer = {
      serialize: (value) => Buffer.from(JSON.stringify(value)),
      deserialize: (data) => JSON.parse(Buffer.from(data as Uint8Array).toString('utf8')) as unknown,
    };
    const raw: CacheSerializer = { serialize: (value) => value as string, deserialize: (data) => data };
    const configs = [
      { name: 'JSON', serializer: cacheJsonSerializer },
      { name: 'custom text', serializer: text },
      { name: 'custom bytes', serializer: bytes },
    ].flatMap((c) => [
      { ...c, compressAbove: false as const },
      { ...c, compressAbove: 16 },
    ]);

    it.each(configs)(
      'reads back every value another instance wrote ($name serializer, compressAbove $compressAbove)',
      async ({ serializer, compressAbove }) => {
        const prefix = suite.nextPrefix();
        const writer = createCache({ redis: suite.server.client(), prefix, bus: false, serializer, compressAbove });
        const reader = createCache({ redis: suite.server.client(), prefix, bus: false, l1: false, serializer });
        suite.track(writer, reader);
        let n = 0;
        await fc.assert(
          fc.asyncProperty(
            fc.jsonValue().filter((v) => v !== null),
            fc.option(tagList, { nil: undefined }),
            async (value, tags) => {
              const k = `v${++n}`;
              await writer.set(k, value, { tags });
              expect(await reader.get(k)).toEqual(JSON.parse(JSON.stringify(value)));
            },
          ),
          { numRuns: 20 },
        );
      },
    );

    // Found by the envelope properties: deflate read the text as UTF-8 and lost lone surrogates.
    it('reads back a custom serializer text with lone surrogates, compressed', async () => {
      const prefix = suite.nextPrefix();
      const writer = createCache({ redis: suite.server.client(), prefix, bus: false, serializer: raw, compressAbove: 0 });
      const reader = createCache({ redis: suite.server.client(), prefix, bus: false, l1: false, serializer: raw });
      suite.track(writer, reader);
      await writer.set('k', 'a\ud800b\udc00');
      expect(await reader.get('k')).toBe('a\ud800b\udc00');
    });
  });
});
