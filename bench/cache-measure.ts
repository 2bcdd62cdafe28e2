/**
 * Measuring loops and table helpers shared by the cache benchmark.
 *
 * Peers run interleaved: every round visits every peer once, in a rotated order, so drift in the
 * machine's load (shared 2-core box) lands on all peers alike. Ratios are taken per round, then
 * the median of those ratios is reported.
 */

/**
 * One timed batch: wall-clock ops/s, and this process's CPU time per op (user + system, in µs).
 * CPU per op is what the client library costs; it moves much less than ops/s when other
 * processes compete for the cores.
 */
export interface Sample {
  opsPerSec: number;
  cpuUsPerOp: number;
}

function sample(n: number, wallMs: number, cpu: NodeJS.CpuUsage): Sample {
  return { opsPerSec: n / (wallMs / 1_000), cpuUsPerOp: (cpu.user + cpu.system) / n };
}

/** Measures a sequential `await op(i)` loop that runs for about `budgetMs`. */
export async function opsSequential(op: (i: number) => Promise<unknown>, budgetMs: number): Promise<Sample> {
  let n = 0;
  const cpu = process.cpuUsage();
  const start = performance.now();
  const deadline = start + budgetMs;
  let now: number;
  do {
    for (let j = 0; j < 1_000; j++) await op(n++);
    now = performance.now();
  } while (now < deadline);
  return sample(n, now - start, process.cpuUsage(cpu));
}

/** Measures a synchronous loop (the floor). */
export function opsSync(op: (i: number) => unknown, budgetMs: number): Sample {
  let n = 0;
  let sink = 0;
  const cpu = process.cpuUsage();
  const start = performance.now();
  const deadline = start + budgetMs;
  let now: number;
  do {
    for (let j = 0; j < 10_000; j++) if (op(n++) !== undefined) sink++;
    now = performance.now();
  } while (now < deadline);
  if (sink === -1) console.log(sink);
  return sample(n, now - start, process.cpuUsage(cpu));
}

/**
 * Counts ops/s with `concurrency` callers, each awaiting one op at a time. Ops draw indices from
 * one shared counter, so at any moment the callers hold `concurrency` different keys (no two
 * callers share a key, so per-key coalescing cannot flatter anyone).
 */
export async function opsConcurrent(op: (i: number) => Promise<unknown>, budgetMs: number, concurrency: number): Promise<Sample> {
  let n = 0;
  const cpu = process.cpuUsage();
  const start = performance.now();
  const deadline = start + budgetMs;
  const caller = async (): Promise<void> => {
    while (performance.now() < deadline) {
      for (let j = 0; j < 20; j++) await op(n++);
    }
  };
  const callers: Promise<void>[] = [];
  for (let c = 0; c < concurrency; c++) callers.push(caller());
  await Promise.all(callers);
  return sample(n, performance.now() - start, process.cpuUsage(cpu));
}

/** Median of a non-empty list. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** `12,345,678`. */
export function fmtOps(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

/** `1.23 µs`. */
export function fmtUs(value: number): string {
  return value >= 10 ? `${value.toFixed(1)} µs` : `${value.toFixed(2)} µs`;
}

/** `12.3x` / `0.97x`. */
export function fmtRatio(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  return value >= 10 ? `${value.toFixed(1)}x` : `${value.toFixed(2)}x`;
}

/** A markdown table. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** Runs `global.gc` when the process was started with --expose-gc. */
export function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
