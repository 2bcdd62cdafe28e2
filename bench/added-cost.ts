/**
 * The cost a wrapper ADDS over a bare `await` of a resolved promise, measured for several
 * implementations in the same process and run: the shared loop of the benchmarks whose subject
 * is overhead on the success path (bench/resilience.ts).
 *
 * Two shapes: one call at a time (`await call()` in a loop), and `batch` calls in flight at once
 * (`await Promise.all(...)`). Every case runs in every round, in a rotating order; a case's
 * figure is the median over rounds of (ns per call - the same round's baseline), and a ratio
 * between two cases is the median of their per-round ratios (same moment, same machine load).
 *
 * Each run is timed twice: wall clock, and this process's CPU time (user + system). On a shared
 * machine the wall clock also counts the time the process waited for a core, which can dwarf a
 * sub-microsecond cost; CPU time counts only the work done, and is the steadier of the two.
 */

/** One implementation measured. */
export interface CostCase {
  name: string;
  call: () => Promise<unknown>;
}

/** Per-call figures of one timed run. */
export interface Timing {
  /** Wall-clock ns per call. */
  wall: number;
  /** CPU ns per call. */
  cpu: number;
}

/** What {@link measureAddedCost} found for one case, on one clock. */
export interface CostResult {
  /** Median ns per call. */
  total: number;
  /** Median ns per call above the baseline. */
  added: number;
  /** Added ns of each round, for ratios. */
  rounds: number[];
}

/** A case's figures by wall clock and by CPU time. */
export interface CostResults {
  wall: Map<string, CostResult>;
  cpu: Map<string, CostResult>;
}

/** Options of {@link measureAddedCost}. */
export interface CostOptions {
  /** The case every other is measured against (a bare await). */
  baseline: string;
  /** Rounds. */
  rounds: number;
  /** Target duration of one case in one round, in ms; the call count is calibrated per case. */
  targetMs: number;
  /** Calls in flight in the `inFlight` shape. */
  batch: number;
  /** Shown on stderr while it runs. */
  label: string;
}

export type Shape = (call: () => Promise<unknown>, n: number, batch: number) => Promise<Timing>;

function timing(start: bigint, cpu: NodeJS.CpuUsage, calls: number): Timing {
  const wall = Number(process.hrtime.bigint() - start) / calls;
  const used = process.cpuUsage(cpu);
  return { wall, cpu: ((used.user + used.system) * 1000) / calls };
}

/** ns per call, one call at a time. */
export const sequential: Shape = async (call, n) => {
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await call();
  return timing(start, cpu, n);
};

/** ns per call, `batch` calls in flight together. */
export const inFlight: Shape = async (call, n, batch) => {
  const batches = Math.max(1, Math.round(n / batch));
  const promises = new Array<Promise<unknown>>(batch);
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  for (let b = 0; b < batches; b++) {
    for (let i = 0; i < batch; i++) promises[i] = call();
    await Promise.all(promises);
  }
  return timing(start, cpu, batches * batch);
};

export const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

const gc = (): void => (globalThis as { gc?: () => void }).gc?.();

/** Measures every case in `shape`; see the file comment. */
export async function measureAddedCost(cases: CostCase[], shape: Shape, options: CostOptions): Promise<CostResults> {
  const { baseline, rounds, targetMs, batch, label } = options;
  const counts = new Map<string, number>();
  for (const c of cases) {
    await shape(c.call, 5_000, batch);
    const { wall } = await shape(c.call, 5_000, batch);
    counts.set(c.name, Math.max(batch, Math.round((targetMs * 1e6) / wall / batch) * batch));
  }
  const series = (): Map<string, number[]> => new Map(cases.map((c) => [c.name, []]));
  const totals = { wall: series(), cpu: series() };
  const added = { wall: series(), cpu: series() };
  for (let round = 0; round < rounds; round++) {
    // Rotate the order so that no case always runs right after the same neighbour.
    const order = [...cases.slice(round % cases.length), ...cases.slice(0, round % cases.length)];
    const perCase = new Map<string, Timing>();
    for (const c of order) {
      // A full collection, then a pause for its concurrent sweeping to finish: otherwise the
      // sweeper threads compete with the case (and add to its CPU time).
      gc();
      await new Promise((resolve) => setTimeout(resolve, 20));
      // Warm up again, untimed: full collections flush the bytecode of functions that have not
      // run for a while, and the cases ran by in between; the timed run must not pay for
      // recompiling them.
      await shape(c.call, batch, batch);
      perCase.set(c.name, await shape(c.call, counts.get(c.name) as number, batch));
    }
    const base = perCase.get(baseline) as Timing;
    for (const [name, t] of perCase) {
      for (const clock of ['wall', 'cpu'] as const) {
        totals[clock].get(name)?.push(t[clock]);
        added[clock].get(name)?.push(t[clock] - base[clock]);
      }
    }
    process.stderr.write(`\r${label}: round ${round + 1}/${rounds}`);
  }
  process.stderr.write('\n');
  const results = (clock: 'wall' | 'cpu'): Map<string, CostResult> =>
    new Map(
      cases.map((c) => {
        const rows = added[clock].get(c.name) as number[];
        return [c.name, { total: median(totals[clock].get(c.name) as number[]), added: median(rows), rounds: rows }];
      }),
    );
  return { wall: results('wall'), cpu: results('cpu') };
}

/** Below this, an added cost is lost in the measurement's noise; ratios use it as a floor. */
export const NOISE_NS = 10;

/**
 * How many times more `other` adds than `subject`: the median of per-round ratios, each side
 * floored at {@link NOISE_NS} so that a cost lost in the noise cannot make a ratio explode.
 */
export function costRatio(results: Map<string, CostResult>, other: string, subject: string): number {
  const theirs = (results.get(other) as CostResult).rounds;
  const mine = (results.get(subject) as CostResult).rounds;
  return median(theirs.map((value, i) => Math.max(NOISE_NS, value) / Math.max(NOISE_NS, mine[i] as number)));
}
