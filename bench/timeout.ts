/**
 * bench/timeout: the cost withTimeout ADDS over a bare `await` of a resolved promise, against
 * p-timeout, cockatiel's timeout policy and AbortSignal.timeout + Promise.race, in the same run.
 *
 *   node --expose-gc --import tsx bench/timeout.ts
 *
 * Two shapes: one call at a time (`await op` in a loop), and 1000 calls in flight at once
 * (`await Promise.all(...)`), where 1000 deadlines are pending together. Every implementation
 * runs in every round, in a rotating order; the figure is the median over rounds of
 * (ns per call - the same round's bare baseline). The deadline is 1 s and never fires.
 */
import { TimeoutStrategy, timeout as cockatielTimeout } from 'cockatiel';
import pTimeout from 'p-timeout';
import { withTimeout } from '../src/timeout/index.js';

const TIMEOUT_MS = 1000;
const ROUNDS = Number(process.env.ROUNDS ?? 9);
/** Target duration of one case in one round; the call count is calibrated per case. */
const TARGET_MS = Number(process.env.TARGET_MS ?? 60);
const BATCH = 1000;

const resolved = Promise.resolve(1);
const aggressive = cockatielTimeout(TIMEOUT_MS, TimeoutStrategy.Aggressive);
const cooperative = cockatielTimeout(TIMEOUT_MS, TimeoutStrategy.Cooperative);

function abortSignalRace<T>(promise: Promise<T>): Promise<T> {
  const signal = AbortSignal.timeout(TIMEOUT_MS);
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  return Promise.race([promise, aborted]).finally(() => signal.removeEventListener('abort', onAbort!));
}

interface Case {
  name: string;
  call: () => Promise<unknown>;
  /** Creates a timer that cannot be cleared (AbortSignal.timeout): run it last, let it drain. */
  leavesTimers?: boolean;
}

const cases: Case[] = [
  { name: 'bare await (baseline)', call: () => resolved },
  { name: 'headroom withTimeout(promise)', call: () => withTimeout(resolved, TIMEOUT_MS) },
  { name: 'headroom withTimeout(promise, name)', call: () => withTimeout(resolved, TIMEOUT_MS, 'op') },
  { name: 'headroom withTimeout((signal) => ...)', call: () => withTimeout((_signal) => resolved, TIMEOUT_MS) },
  { name: 'p-timeout', call: () => pTimeout(resolved, { milliseconds: TIMEOUT_MS }) },
  { name: 'cockatiel timeout (Aggressive)', call: () => aggressive.execute(() => resolved) },
  { name: 'cockatiel timeout (Cooperative)', call: () => cooperative.execute(() => resolved) },
  { name: 'AbortSignal.timeout + Promise.race', call: () => abortSignalRace(resolved), leavesTimers: true },
];

async function sequential(call: () => Promise<unknown>, n: number): Promise<number> {
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await call();
  return Number(process.hrtime.bigint() - start) / n;
}

async function inFlight(call: () => Promise<unknown>, n: number): Promise<number> {
  const batches = Math.max(1, Math.round(n / BATCH));
  const promises = new Array<Promise<unknown>>(BATCH);
  const start = process.hrtime.bigint();
  for (let b = 0; b < batches; b++) {
    for (let i = 0; i < BATCH; i++) promises[i] = call();
    await Promise.all(promises);
  }
  return Number(process.hrtime.bigint() - start) / (batches * BATCH);
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const gc = (): void => (globalThis as { gc?: () => void }).gc?.();

interface Result {
  total: number;
  added: number;
  vsPromise: number;
  vsFunction: number;
}
const PROMISE = 'headroom withTimeout(promise)';
const FUNCTION = 'headroom withTimeout((signal) => ...)';

async function measure(shape: string, run: (call: () => Promise<unknown>, n: number) => Promise<number>): Promise<Map<string, Result>> {
  // Calibrate: how many calls make ~TARGET_MS for each case (after a warm-up).
  const counts = new Map<string, number>();
  for (const c of cases) {
    await run(c.call, 5_000);
    const ns = await run(c.call, 5_000);
    counts.set(c.name, Math.max(BATCH, Math.round((TARGET_MS * 1e6) / ns / BATCH) * BATCH));
  }
  await sleep(TIMEOUT_MS + 100);
  const totals = new Map<string, number[]>(cases.map((c) => [c.name, []]));
  const added = new Map<string, number[]>(cases.map((c) => [c.name, []]));
  const regular = cases.filter((c) => c.leavesTimers !== true);
  const last = cases.filter((c) => c.leavesTimers === true);
  for (let round = 0; round < ROUNDS; round++) {
    // Rotate the order so that no case always runs right after the same neighbour.
    const order = [...regular.slice(round % regular.length), ...regular.slice(0, round % regular.length), ...last];
    const perCase = new Map<string, number>();
    for (const c of order) {
      gc();
      perCase.set(c.name, await run(c.call, counts.get(c.name) as number));
    }
    const base = perCase.get('bare await (baseline)') as number;
    for (const [name, ns] of perCase) {
      totals.get(name)?.push(ns);
      added.get(name)?.push(ns - base);
    }
    // AbortSignal.timeout's timers cannot be cleared: let them fire before the next round.
    await sleep(TIMEOUT_MS + 100);
    process.stderr.write(`\r${shape}: round ${round + 1}/${ROUNDS}`);
  }
  process.stderr.write('\n');
  // Ratios are taken within each round (same moment, same machine load), then the median.
  const ratio = (name: string, against: string): number => {
    const mine = added.get(name) as number[];
    const theirs = added.get(against) as number[];
    return median(mine.map((value, i) => Math.max(1, value) / Math.max(1, theirs[i] as number)));
  };
  return new Map(
    cases.map((c) => [
      c.name,
      {
        total: median(totals.get(c.name) as number[]),
        added: median(added.get(c.name) as number[]),
        vsPromise: ratio(c.name, PROMISE),
        vsFunction: ratio(c.name, FUNCTION),
      },
    ]),
  );
}

function table(title: string, results: Map<string, Result>): string {
  const lines = [
    `### ${title}`,
    '',
    '| implementation | ns per call | added ns per call | added cost vs headroom (promise) | added cost vs headroom (fn + signal) |',
    '| --- | ---: | ---: | ---: | ---: |',
  ];
  for (const [name, { total, added, vsPromise, vsFunction }] of results) {
    const isBase = name.startsWith('bare');
    lines.push(
      `| ${name} | ${total.toFixed(0)} | ${isBase ? '-' : added.toFixed(0)} | ${isBase ? '-' : `${vsPromise.toFixed(1)}x`} | ${isBase ? '-' : `${vsFunction.toFixed(2)}x`} |`,
    );
  }
  return lines.join('\n');
}

const seq = await measure('one at a time', sequential);
const par = await measure(`${BATCH} in flight`, inFlight);
console.log(`Node ${process.version}, ${ROUNDS} rounds, medians; deadline ${TIMEOUT_MS} ms (never reached).\n`);
console.log(table('One call at a time', seq));
console.log('');
console.log(table(`${BATCH} calls in flight`, par));
const goal = (results: Map<string, Result>): string => `${(results.get('p-timeout') as Result).vsPromise.toFixed(1)}x`;
console.log(`\nGoal (p-timeout added cost / headroom's >= 10x): one at a time ${goal(seq)}, in flight ${goal(par)}.`);
