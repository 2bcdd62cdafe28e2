/**
 * Properties of the bounded memory of tag invalidation times, against a model that remembers
 * every time. Times arrive from this instance (increasing), from other instances over the bus
 * (in any order: two instances publish concurrently) and from Redis; the memory keeps at most
 * `max` tags and folds the rest into a horizon.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TagTimes } from '../../src/cache/tag-times.js';

type Op = { kind: 'set'; tag: string; time: number } | { kind: 'clear' };

const TAGS = ['a', 'b', 'c', 'd', 'e', 'f'];
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 12, arbitrary: fc.record({ kind: fc.constant('set' as const), tag: fc.constantFrom(...TAGS), time: fc.nat({ max: 50 }) }) },
  { weight: 1, arbitrary: fc.constant<Op>({ kind: 'clear' }) },
);

/**
 * Runs `ops` and checks, after each one, what the cache relies on:
 * - L2 checks: `get` is either unknown (the caller then reads Redis) or not below the tag's
 *   latest time;
 * - L1 checks and the L1 hot path: an L1 entry checked at any moment of an epoch (against
 *   `timeOrHorizon`) is served unchecked until the epoch moves, so no tag's latest time may exceed
 *   the lowest `timeOrHorizon` it had since the epoch began;
 * - precision: while no more than `max` tags were seen, `get` is exactly the latest time.
 */
function check(max: number, ops: readonly Op[]): void {
  const times = new TagTimes(max);
  let latest = new Map<string, number>();
  const lowest = new Map<string, number>(TAGS.map((tag) => [tag, times.timeOrHorizon(tag)]));
  for (const o of ops) {
    const epoch = times.epoch;
    if (o.kind === 'clear') {
      times.clear();
      latest = new Map();
    } else {
      times.set(o.tag, o.time);
      latest.set(o.tag, Math.max(o.time, latest.get(o.tag) ?? 0));
    }
    for (const tag of TAGS) {
      const truth = latest.get(tag) ?? 0;
      const now = times.timeOrHorizon(tag);
      const seen = times.epoch === epoch ? Math.min(lowest.get(tag)!, now) : now;
      lowest.set(tag, seen);
      const known = times.get(tag);
      // Plain comparisons first: this runs for every tag after every operation.
      if (seen < truth) expect.fail(`${tag}, invalidated at ${truth}: an L1 check in this epoch saw ${seen}`);
      if (known !== undefined && known < truth) expect.fail(`get(${tag}) is ${known}, below ${truth}`);
      if (latest.size <= max && (known ?? 0) !== truth) expect.fail(`get(${tag}) is ${known} with ${latest.size} tags seen, not ${truth}`);
    }
  }
}

describe('TagTimes (properties)', () => {
  it('never forgets a tag invalidation, however many tags come and in whatever order their times arrive', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 7 }), fc.array(op, { maxLength: 60 }), check), { numRuns: 500 });
  });

  it('never forgets one with times that only grow (a single instance)', () => {
    const increasing = fc.array(fc.oneof({ weight: 12, arbitrary: fc.constantFrom(...TAGS) }, { weight: 1, arbitrary: fc.constant(undefined) }), {
      maxLength: 60,
    });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 7 }), increasing, (max, tags) => {
        const ops = tags.map((tag, i): Op => (tag === undefined ? { kind: 'clear' } : { kind: 'set', tag, time: i + 1 }));
        check(max, ops);
      }),
      { numRuns: 200 },
    );
  });

  // The counterexample the first property found, replayed in a cache's words.
  it('keeps a tag evicted with a later time at least at the horizon when an older time arrives late', () => {
    const times = new TagTimes(1);
    times.set('product:1', 20); // instance B's invalidation arrives first
    times.set('product:2', 5); // evicts product:1: the horizon is now 20
    times.set('product:1', 10); // instance A's earlier invalidation arrives late
    expect(times.timeOrHorizon('product:1')).toBeGreaterThanOrEqual(20);
    expect(times.get('product:1')).toBeGreaterThanOrEqual(20);
  });
});
