/**
 * Percentile tracker benchmark: the cost of one record() against what a service would use
 * instead, and the accuracy of each against an exact sort, in the same process and run.
 *
 *   node --expose-gc --import tsx bench/percentiles.ts
 *
 * Record cost (ns per call, medians over interleaved rounds; peers in a rotated order):
 * - raw hdr-histogram-js `Int32Histogram.recordValue` (one histogram, integer µs prepared
 *   beforehand: no key lookup, no window, no conversion) = the baseline;
 * - headroom `tracker.record(key, ms)` over 8 keys, windows ['1m', '1h'] (key lookup, µs
 *   conversion, clamping, windowing included; real clock);
 * - prom-client Histogram `observe(labels, s)` (default buckets) and Summary
 *   `observe(labels, s)` with a sliding window (maxAgeSeconds 60, ageBuckets 12), 8 label sets;
 * - Node `perf_hooks.createHistogram().record(ns)` (one histogram);
 * - the array approach: keep the last 1,000 values in an array, sort a copy on each read.
 *
 * Accuracy: 200,000 heavy-tailed values (lognormal, then Pareto) into each; p50/p99/p99.9
 * relative error against an exact sort of all of them.
 *
 * Environment: BENCH_ROUNDS (default 5), BENCH_N (records per peer per round, default 500,000;
 * the windowed Summary does a tenth).
 */
import { cpus } from 'node:os';
import { createHistogram } from 'node:perf_hooks';
import { Int32Histogram } from 'hdr-histogram-js';
import promClient from 'prom-client';
import { PercentileTracker } from '../src/percentiles/index.js';
import { lognormal, pareto } from '../test/percentiles/data.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const N = Number(process.env.BENCH_N ?? 500_000);
const began = performance.now();
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

// Seeded values (the accuracy tests' generators) so every run and every peer sees the same data.

const SAMPLE = 1 << 16;
const MASK = SAMPLE - 1;
const msValues = Float64Array.from(lognormal(SAMPLE, 7, 20, 1).map((v) => Math.min(v, 59_000)));
const usValues = Int32Array.from(msValues, (v) => Math.round(v * 1000));
const nsValues = Float64Array.from(msValues, (v) => Math.max(1, Math.round(v * 1e6)));
const sValues = Float64Array.from(msValues, (v) => v / 1000);
const KEYS = ['GET /users/:id', 'POST /orders', 'GET /search', 'GET /health', 'PUT /users/:id', 'GET /items', 'DELETE /x', 'GET /'];
const LABELS = KEYS.map((route) => ({ route }));
let sink = 0;

interface Peer {
  name: string;
  /** Records `n` values; returns nothing (the timing is done outside). */
  run(n: number): void;
  /** A tenth of N for the slow ones. */
  scale?: number;
}

function peers(): Peer[] {
  const hdr = new Int32Histogram(1, 60_000_000, 3);
  const tracker = new PercentileTracker({ windows: ['1m', '1h'] });
  const registry = new promClient.Registry();
  const histogram = new promClient.Histogram({ name: 'h_seconds', help: 'h', labelNames: ['route'], registers: [registry] });
  const summary = new promClient.Summary({
    name: 's_seconds',
    help: 's',
    labelNames: ['route'],
    percentiles: [0.5, 0.9, 0.95, 0.99, 0.999],
    maxAgeSeconds: 60,
    ageBuckets: 12,
    registers: [registry],
  });
  const perf = createHistogram();
  const ring: number[] = [];
  let at = 0;
  let i = 0;
  return [
    {
      name: 'hdr-histogram-js recordValue (raw)',
      run: (n) => {
        for (let k = 0; k < n; k++) hdr.recordValue(usValues[i++ & MASK] as number);
      },
    },
    {
      name: 'headroom record(key, ms)',
      run: (n) => {
        for (let k = 0; k < n; k++) tracker.record(KEYS[k & 7] as string, msValues[i++ & MASK] as number);
      },
    },
    {
      name: 'prom-client Histogram observe',
      run: (n) => {
        for (let k = 0; k < n; k++) histogram.observe(LABELS[k & 7] as { route: string }, sValues[i++ & MASK] as number);
      },
    },
    {
      name: 'prom-client Summary observe (60 s window)',
      scale: 0.1,
      run: (n) => {
        for (let k = 0; k < n; k++) summary.observe(LABELS[k & 7] as { route: string }, sValues[i++ & MASK] as number);
      },
    },
    {
      name: 'perf_hooks createHistogram record',
      run: (n) => {
        for (let k = 0; k < n; k++) perf.record(nsValues[i++ & MASK] as number);
      },
    },
    {
      name: 'array, last 1,000 (push)',
      run: (n) => {
        for (let k = 0; k < n; k++) {
          ring[at] = msValues[i++ & MASK] as number;
          at = at === 999 ? 0 : at + 1;
        }
        sink += ring.length;
      },
    },
  ];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

console.log('# Percentile tracker benchmark\n');
console.log(
  `${new Date().toISOString().slice(0, 10)} · Node ${process.version} · ${cpus().length} x ${cpus()[0]?.model.trim() ?? 'cpu'} · ${ROUNDS} rounds of ${N.toLocaleString('en')} records, peers interleaved in rotated order, medians\n`,
);

const list = peers();
// Warm-up, so that every peer runs optimised code from the first timed round.
for (const p of list) p.run(Math.round(200_000 * (p.scale ?? 1)));
const samples = new Map<string, number[]>(list.map((p) => [p.name, []]));
const ratios = new Map<string, number[]>(list.map((p) => [p.name, []]));
for (let round = 0; round < ROUNDS; round++) {
  const order = list.map((_, k) => list[(k + round) % list.length] as Peer);
  const perRound = new Map<string, number>();
  for (const p of order) {
    const n = Math.round(N * (p.scale ?? 1));
    gc();
    const t = process.hrtime.bigint();
    p.run(n);
    const ns = Number(process.hrtime.bigint() - t) / n;
    perRound.set(p.name, ns);
    samples.get(p.name)?.push(ns);
  }
  const base = perRound.get(list[0]?.name as string) as number;
  for (const p of list) ratios.get(p.name)?.push((perRound.get(p.name) as number) / base);
}

const headroomName = 'headroom record(key, ms)';
const headroomNs = median(samples.get(headroomName) as number[]);
console.log('## Cost of one record\n');
console.log('| Recorder | ns / record | ops/s | vs raw hdr-histogram-js | headroom is faster by |');
console.log('|---|---:|---:|---:|---:|');
for (const p of list) {
  const ns = median(samples.get(p.name) as number[]);
  const ratio = median(ratios.get(p.name) as number[]);
  const faster = p.name === headroomName ? '-' : `${(ns / headroomNs).toFixed(1)}x`;
  console.log(`| ${p.name} | ${ns.toFixed(1)} | ${Math.round(1e9 / ns).toLocaleString('en')} | ${ratio.toFixed(2)}x | ${faster} |`);
}
const goalHdr = median(ratios.get(headroomName) as number[]);
const goalSummary = median(samples.get('prom-client Summary observe (60 s window)') as number[]) / headroomNs;
console.log(`\nGoal 1 (<= 1.3x raw hdr-histogram-js): ${goalHdr.toFixed(2)}x -> ${goalHdr <= 1.3 ? 'met' : 'NOT met'}`);
console.log(`Goal 2 (>= 30x faster than prom-client windowed Summary): ${goalSummary.toFixed(1)}x -> ${goalSummary >= 30 ? 'met' : 'NOT met'}\n`);

// ---- Read cost: one key's p50..p99.9 after 100,000 records ----
async function readCost(): Promise<void> {
  const tracker = new PercentileTracker({ windows: ['1m', '1h'] });
  const hdr = new Int32Histogram(1, 60_000_000, 3);
  const registry = new promClient.Registry();
  const summary = new promClient.Summary({
    name: 'r_seconds',
    help: 'r',
    percentiles: [0.5, 0.9, 0.95, 0.99, 0.999],
    maxAgeSeconds: 60,
    ageBuckets: 12,
    registers: [registry],
  });
  const last: number[] = [];
  for (let k = 0; k < 100_000; k++) {
    const v = msValues[k & MASK] as number;
    tracker.record('k', v);
    hdr.recordValue(usValues[k & MASK] as number);
    summary.observe(v / 1000);
    last[k % 1000] = v;
  }
  const readers: [string, () => unknown][] = [
    ['headroom stats(key) (all figures)', () => tracker.stats('k')],
    ['hdr-histogram-js 5 x getValueAtPercentile', () => [50, 90, 95, 99, 99.9].map((p) => hdr.getValueAtPercentile(p))],
    ['prom-client Summary get() (windowed)', () => summary.get()],
    [
      'array, last 1,000: copy + sort + 5 picks',
      () => {
        const s = [...last].sort((a, b) => a - b);
        return [0.5, 0.9, 0.95, 0.99, 0.999].map((q) => s[Math.ceil(q * s.length) - 1]);
      },
    ],
  ];
  const times = new Map<string, number[]>(readers.map(([n]) => [n, []]));
  for (let round = 0; round < 3; round++) {
    for (const [name, read] of readers) {
      const t = process.hrtime.bigint();
      for (let k = 0; k < 200; k++) await read();
      times.get(name)?.push(Number(process.hrtime.bigint() - t) / 200 / 1000);
    }
  }
  tracker.close();
  console.log('## Cost of one read (one key, 100,000 values recorded; 3 rounds of 200 reads, medians)\n');
  console.log('| Reader | µs / read |');
  console.log('|---|---:|');
  for (const [name] of readers) console.log(`| ${name} | ${median(times.get(name) as number[]).toFixed(1)} |`);
  console.log('');
}
await readCost();

// ---- Accuracy ----
async function accuracy(): Promise<void> {
  const data = [...lognormal(100_000, 21, 20, 1.2), ...pareto(100_000, 22, 2, 1.3)].map((v) => Math.min(v, 59_000));
  const sorted = [...data].sort((a, b) => a - b);
  const exact = (q: number) => sorted[Math.max(1, Math.ceil(q * sorted.length - 1e-9)) - 1] as number;
  const qs = [0.5, 0.99, 0.999];

  const hdr = new Int32Histogram(1, 60_000_000, 3);
  // Windows far longer than this loop, so that no window slides while the data goes in.
  const tracker = new PercentileTracker({ windows: ['1h'] });
  const registry = new promClient.Registry();
  const histogram = new promClient.Histogram({ name: 'h_seconds', help: 'h', registers: [registry] });
  const summary = new promClient.Summary({ name: 's_seconds', help: 's', percentiles: qs, maxAgeSeconds: 3600, ageBuckets: 12, registers: [registry] });
  const perf = createHistogram();
  const last: number[] = [];
  for (const v of data) {
    hdr.recordValue(Math.round(v * 1000));
    tracker.record('k', v);
    histogram.observe(v / 1000);
    summary.observe(v / 1000);
    perf.record(Math.max(1, Math.round(v * 1e6)));
    last.push(v);
    if (last.length > 1000) last.shift();
  }
  const stats = tracker.stats('k');
  tracker.close();
  // histogram_quantile(): linear interpolation inside the bucket, as PromQL does it.
  const h = (await histogram.get()).values.filter((v) => v.metricName === 'h_seconds_bucket');
  const buckets = h.map((v) => ({ le: Number(v.labels.le), count: v.value }));
  const total = buckets[buckets.length - 1]?.count ?? 0;
  const promHistogram = (q: number): number => {
    const rank = q * total;
    let prevLe = 0;
    let prevCount = 0;
    for (const b of buckets) {
      if (b.count >= rank) {
        if (b.le === Infinity) return prevLe * 1000;
        return (prevLe + ((b.le - prevLe) * (rank - prevCount)) / (b.count - prevCount)) * 1000;
      }
      prevLe = b.le;
      prevCount = b.count;
    }
    return prevLe * 1000;
  };
  const s = (await summary.get()).values;
  const promSummary = (q: number) => (s.find((v) => v.labels.quantile === q)?.value ?? NaN) * 1000;
  const lastSorted = [...last].sort((a, b) => a - b);
  const rows: [string, (q: number) => number][] = [
    ['headroom PercentileTracker (3 digits)', (q) => (q === 0.5 ? stats.p50 : q === 0.99 ? stats.p99 : stats.p999)],
    ['hdr-histogram-js Int32 (3 digits)', (q) => hdr.getValueAtPercentile(q * 100) / 1000],
    ['prom-client Histogram (default buckets, histogram_quantile)', promHistogram],
    ['prom-client Summary (t-digest, windowed)', promSummary],
    ['perf_hooks createHistogram', (q) => perf.percentile(q * 100) / 1e6],
    ['array, last 1,000 values, sorted', (q) => lastSorted[Math.max(1, Math.ceil(q * lastSorted.length - 1e-9)) - 1] as number],
  ];
  console.log(`## Accuracy against an exact sort (${data.length.toLocaleString('en')} values: lognormal then Pareto)\n`);
  console.log(`Exact: p50 ${exact(0.5)} ms, p99 ${exact(0.99)} ms, p99.9 ${exact(0.999)} ms.\n`);
  console.log('| Method | p50 error | p99 error | p99.9 error |');
  console.log('|---|---:|---:|---:|');
  for (const [name, at] of rows) {
    const cells = qs.map((q) => `${((Math.abs(at(q) - exact(q)) / exact(q)) * 100).toFixed(3)}%`);
    console.log(`| ${name} | ${cells.join(' | ')} |`);
  }
}
await accuracy();

console.log(`\n(total ${((performance.now() - began) / 1000).toFixed(1)} s; sink ${sink > -1 ? 'ok' : ''})`);
process.exit(0);
