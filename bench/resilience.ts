/**
 * bench/resilience: the cost headroom's resilience policies ADD on the success path over a bare
 * `await` of a resolved promise, against cockatiel 3 (the composed policy and each part) and
 * opossum (its breaker with its timeout), in the same run.
 *
 *   node --expose-gc --import tsx bench/resilience.ts
 *
 * Two shapes: one call at a time, and 1,000 calls in flight at once. Every case runs in every
 * round in a rotating order (bench/added-cost.ts); figures are medians over rounds of (ns per call
 * - the same round's bare baseline), ratios the medians of per-round ratios. The work never fails
 * and the deadlines (1 s) never fire: this is what every successful call pays. The work does not
 * read its signal, except in the rows that say so.
 *
 * Environment: ROUNDS (default 9), TARGET_MS (time per case per round, default 60).
 */
import { cpus } from 'node:os';
import {
  ConsecutiveBreaker,
  ExponentialBackoff,
  TimeoutStrategy,
  circuitBreaker as cockatielBreaker,
  handleAll,
  retry as cockatielRetry,
  timeout as cockatielTimeout,
  wrap,
} from 'cockatiel';
import Opossum from 'opossum';
import { CircuitBreaker, RetryPolicy, TimeoutPolicy, pipeline, type ExecuteContext } from '../src/resilience/index.js';
import { costRatio, inFlight, measureAddedCost, sequential, type CostCase, type CostResult, type CostResults } from './added-cost.js';

const ROUNDS = Number(process.env.ROUNDS ?? 9);
const TARGET_MS = Number(process.env.TARGET_MS ?? 60);
const BATCH = 1000;
const TIMEOUT_MS = 1000;

const resolved = Promise.resolve(1);
const work = (): Promise<number> => resolved;
/** Work that reads its signal (as work passing it to fetch or a driver does). */
const signalWork = ({ signal }: ExecuteContext): Promise<number> => (signal.aborted ? Promise.reject(signal.reason) : resolved);
const cockatielSignalWork = ({ signal }: { signal: AbortSignal }): Promise<number> => (signal.aborted ? Promise.reject(signal.reason) : resolved);

// headroom, defaults where there are any.
const composed = pipeline(new RetryPolicy(), new CircuitBreaker({ name: 'bench', trip: { consecutive: 5 } }), new TimeoutPolicy(TIMEOUT_MS));
const breaker = new CircuitBreaker({ name: 'bench-alone', trip: { consecutive: 5 } });
const ratioBreaker = new CircuitBreaker({ name: 'bench-ratio', trip: { ratio: 0.5, minThroughput: 20, window: '30s' } });
const retry = new RetryPolicy();
const timeoutPolicy = new TimeoutPolicy(TIMEOUT_MS);

// cockatiel 3: the same three policies, its documented defaults otherwise.
const cRetry = cockatielRetry(handleAll, { maxAttempts: 3, backoff: new ExponentialBackoff() });
const cBreaker = cockatielBreaker(handleAll, { halfOpenAfter: 5_000, breaker: new ConsecutiveBreaker(5) });
const cBreakerAlone = cockatielBreaker(handleAll, { halfOpenAfter: 5_000, breaker: new ConsecutiveBreaker(5) });
const cTimeout = cockatielTimeout(TIMEOUT_MS, TimeoutStrategy.Aggressive);
const cTimeoutAlone = cockatielTimeout(TIMEOUT_MS, TimeoutStrategy.Aggressive);
const cRetryAlone = cockatielRetry(handleAll, { maxAttempts: 3, backoff: new ExponentialBackoff() });
const cComposed = wrap(cRetry, cBreaker, cTimeout);

// opossum: a breaker around the action, with its timeout (opossum's default is 10 s; 1 s here).
const opossum = new Opossum(work, { timeout: TIMEOUT_MS, errorThresholdPercentage: 50, resetTimeout: 5_000 });

const BARE = 'bare await (baseline)';
const H_PIPE = 'headroom pipeline(retry, breaker, timeout)';
const C_PIPE = 'cockatiel wrap(retry, breaker, timeout)';
const H_PIPE_SIGNAL = 'headroom pipeline(...), work reads its signal';
const C_PIPE_SIGNAL = 'cockatiel wrap(...), work reads its signal';
const H_BREAKER = 'headroom CircuitBreaker';
const H_RATIO = 'headroom CircuitBreaker, ratio trip';
const C_BREAKER = 'cockatiel circuitBreaker';
const O_BREAKER = 'opossum (breaker + its timeout)';
const H_RETRY = 'headroom RetryPolicy';
const C_RETRY = 'cockatiel retry';
const H_TIMEOUT = 'headroom TimeoutPolicy';
const C_TIMEOUT = 'cockatiel timeout (Aggressive)';

const allCases: CostCase[] = [
  { name: BARE, call: work },
  { name: H_PIPE, call: () => composed.execute(work) },
  { name: C_PIPE, call: () => cComposed.execute(work) },
  { name: H_PIPE_SIGNAL, call: () => composed.execute(signalWork) },
  { name: C_PIPE_SIGNAL, call: () => cComposed.execute(cockatielSignalWork) },
  { name: H_BREAKER, call: () => breaker.execute(work) },
  { name: H_RATIO, call: () => ratioBreaker.execute(work) },
  { name: C_BREAKER, call: () => cBreakerAlone.execute(work) },
  { name: O_BREAKER, call: () => opossum.fire() },
  { name: H_RETRY, call: () => retry.execute(work) },
  { name: C_RETRY, call: () => cRetryAlone.execute(work) },
  { name: H_TIMEOUT, call: () => timeoutPolicy.execute(work) },
  { name: C_TIMEOUT, call: () => cTimeoutAlone.execute(work) },
];

// ONLY=substring,substring keeps the matching cases (and the baseline), for a quick look.
const only = process.env.ONLY?.split(',');
const cases = only === undefined ? allCases : allCases.filter((c) => c.name === BARE || only.some((part) => c.name.includes(part)));

/** Against which headroom case each row is compared. */
const COUNTERPART: Record<string, string> = {
  [C_PIPE]: H_PIPE,
  [C_PIPE_SIGNAL]: H_PIPE_SIGNAL,
  [C_BREAKER]: H_BREAKER,
  [O_BREAKER]: H_BREAKER,
  [C_RETRY]: H_RETRY,
  [C_TIMEOUT]: H_TIMEOUT,
};

function table(title: string, { wall, cpu }: CostResults): string {
  const lines = [
    `### ${title}`,
    '',
    "| implementation | ns per call (wall) | added ns (wall) | added ns (CPU) | its added cost / headroom counterpart's (wall / CPU) |",
    '| --- | ---: | ---: | ---: | --- |',
  ];
  for (const [name, { total, added }] of wall) {
    const counterpart = COUNTERPART[name];
    const ratio =
      counterpart === undefined || !wall.has(counterpart)
        ? ''
        : `${costRatio(wall, name, counterpart).toFixed(1)}x / ${costRatio(cpu, name, counterpart).toFixed(1)}x vs ${counterpart}`;
    const cpuAdded = (cpu.get(name) as CostResult).added;
    lines.push(`| ${name} | ${total.toFixed(0)} | ${name === BARE ? '-' : added.toFixed(0)} | ${name === BARE ? '-' : cpuAdded.toFixed(0)} | ${ratio} |`);
  }
  return lines.join('\n');
}

function goals(shape: string, { wall, cpu }: CostResults): string[] {
  if (cases !== allCases) return [];
  const line = (what: string, other: string, subject: string, target: number): string => {
    const byWall = costRatio(wall, other, subject);
    const byCpu = costRatio(cpu, other, subject);
    const verdict = byWall >= target && byCpu >= target ? 'MET' : byWall >= target || byCpu >= target ? 'MET on one measure only' : 'NOT MET';
    return `- ${shape}: ${what}: ${byWall.toFixed(2)}x by wall clock, ${byCpu.toFixed(2)}x by CPU (goal >= ${target}x): ${verdict}`;
  };
  return [
    line("cockatiel's composed policy adds / headroom's pipeline adds", C_PIPE, H_PIPE, 5),
    line("cockatiel's breaker adds / headroom's breaker adds", C_BREAKER, H_BREAKER, 1),
    line("opossum adds / headroom's breaker adds", O_BREAKER, H_BREAKER, 3),
  ];
}

const options = { baseline: BARE, rounds: ROUNDS, targetMs: TARGET_MS, batch: BATCH };
const seq = await measureAddedCost(cases, sequential, { ...options, label: 'one at a time' });
const par = await measureAddedCost(cases, inFlight, { ...options, label: `${BATCH} in flight` });
opossum.shutdown();

console.log(
  `${new Date().toISOString().slice(0, 10)} · Node ${process.version} · ${cpus().length} x ${cpus()[0]?.model.trim() ?? 'cpu'} · ` +
    `${ROUNDS} rounds, rotated, medians; deadlines ${TIMEOUT_MS} ms (never reached).\n`,
);
console.log(table('One call at a time', seq));
console.log('');
console.log(table(`${BATCH} calls in flight`, par));
console.log('');
for (const line of [...goals('one at a time', seq), ...goals(`${BATCH} in flight`, par)]) console.log(line);
