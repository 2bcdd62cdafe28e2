/**
 * bench/queue: throughput of trivial async tasks at concurrency 16 against p-queue, p-limit and
 * fastq (promise API), same run; then memory under 10x more offered load than the queue can run.
 *
 *   node --expose-gc --import tsx bench/queue.ts
 *
 * Throughput: each round adds a burst of BURST tasks (`async () => {}`) and awaits them all;
 * every implementation runs in every round, in a rotating order; ratios are taken within a
 * round and the median over rounds is reported.
 *
 * Memory: tasks of 10 ms at concurrency 16 (capacity ~1,600/s) offered at ~16,000/s for
 * MEMORY_SECONDS (default 10) with maxSize 1000; heap after a full GC is sampled every second.
 * p-queue (unbounded) gets the same offered load for a shorter time, as the contrast.
 */
import fastq from 'fastq';
import pLimit from 'p-limit';
import PQueue from 'p-queue';
import { TaskQueue, type TaskContext } from '../src/queue/index.js';

const CONCURRENCY = 16;
const BURST = Number(process.env.BURST ?? 20_000);
const ROUNDS = Number(process.env.ROUNDS ?? 9);
const MEMORY_SECONDS = Number(process.env.MEMORY_SECONDS ?? 10);
const CONTRAST_SECONDS = Number(process.env.CONTRAST_SECONDS ?? 4);
const TASK_MS = 10;
const OFFERED_PER_MS = 16; // 10x capacity: 16 slots / 10 ms = 1.6 tasks per ms.

const gc = (): void => (globalThis as { gc?: () => void }).gc?.();
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};
const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

const trivial = async (): Promise<void> => {};
// Reads its signal, so headroom makes it its own AbortController (made on first read only).
const readsSignal = async ({ signal }: TaskContext): Promise<void> => void signal;

type Burst = () => Promise<unknown>;
const promises = new Array<Promise<unknown>>(BURST);
const implementations: [string, Burst][] = [
  [
    'headroom TaskQueue',
    () => {
      const queue = new TaskQueue({ concurrency: CONCURRENCY, maxSize: Infinity });
      for (let i = 0; i < BURST; i++) promises[i] = queue.add(trivial);
      return Promise.all(promises);
    },
  ],
  [
    'headroom TaskQueue, task reads its signal',
    () => {
      const queue = new TaskQueue({ concurrency: CONCURRENCY, maxSize: Infinity });
      for (let i = 0; i < BURST; i++) promises[i] = queue.add(readsSignal);
      return Promise.all(promises);
    },
  ],
  [
    'p-queue 9',
    () => {
      const queue = new PQueue({ concurrency: CONCURRENCY });
      for (let i = 0; i < BURST; i++) promises[i] = queue.add(trivial);
      return Promise.all(promises);
    },
  ],
  [
    'p-limit 7',
    () => {
      const limit = pLimit(CONCURRENCY);
      for (let i = 0; i < BURST; i++) promises[i] = limit(trivial);
      return Promise.all(promises);
    },
  ],
  [
    'fastq (promise)',
    () => {
      const queue = fastq.promise(trivial, CONCURRENCY);
      for (let i = 0; i < BURST; i++) promises[i] = queue.push(undefined);
      return Promise.all(promises);
    },
  ],
];

async function throughput(): Promise<string> {
  for (const [, burst] of implementations) {
    await burst();
    await burst();
  }
  const perSecond = new Map<string, number[]>(implementations.map(([name]) => [name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    const shift = round % implementations.length;
    for (const [name, burst] of [...implementations.slice(shift), ...implementations.slice(0, shift)]) {
      gc();
      const start = process.hrtime.bigint();
      await burst();
      perSecond.get(name)?.push(BURST / (Number(process.hrtime.bigint() - start) / 1e9));
    }
    process.stderr.write(`\rthroughput: round ${round + 1}/${ROUNDS}`);
  }
  process.stderr.write('\n');
  const ours = perSecond.get('headroom TaskQueue') as number[];
  const lines = [
    `### Throughput: ${BURST.toLocaleString('en')} trivial async tasks per burst, concurrency ${CONCURRENCY}`,
    '',
    '| implementation | tasks/s (median) | headroom TaskQueue is ... x faster |',
    '| --- | ---: | ---: |',
  ];
  for (const [name, values] of perSecond) {
    const ratio = median(ours.map((value, i) => value / (values[i] as number)));
    lines.push(`| ${name} | ${Math.round(median(values)).toLocaleString('en')} | ${name === 'headroom TaskQueue' ? '-' : `${ratio.toFixed(2)}x`} |`);
  }
  return lines.join('\n');
}

interface Offered {
  add(task: () => Promise<void>): Promise<unknown>;
  waiting(): number;
}

/** Offers OFFERED_PER_MS tasks per millisecond for `seconds`; samples heap after GC each second. */
async function overload(
  target: Offered,
  seconds: number,
): Promise<{ samples: number[]; offered: number; rejected: number; completed: number; maxWaiting: number }> {
  gc();
  const samples = [process.memoryUsage().heapUsed];
  let offered = 0;
  let rejected = 0;
  let completed = 0;
  let maxWaiting = 0;
  const work = (): Promise<void> => sleep(TASK_MS);
  const onDone = (): void => void completed++;
  const onRefused = (): void => void rejected++;
  const started = performance.now();
  let last = started;
  let nextSample = started + 1000;
  while (performance.now() - started < seconds * 1000) {
    await sleep(1);
    const now = performance.now();
    // Add by elapsed time, so a late timer tick does not lower the offered rate.
    const due = Math.round((now - last) * OFFERED_PER_MS);
    last = now;
    for (let i = 0; i < due; i++) {
      offered++;
      target.add(work).then(onDone, onRefused);
    }
    maxWaiting = Math.max(maxWaiting, target.waiting());
    if (now >= nextSample) {
      gc();
      samples.push(process.memoryUsage().heapUsed);
      nextSample += 1000;
    }
  }
  gc();
  samples.push(process.memoryUsage().heapUsed);
  return { samples, offered, rejected, completed, maxWaiting };
}

async function memory(): Promise<string> {
  const queue = new TaskQueue({ concurrency: CONCURRENCY, maxSize: 1000, name: 'overload' });
  const ours = await overload({ add: (task) => queue.add(task), waiting: () => queue.size }, MEMORY_SECONDS);
  await queue.close({ drain: false });
  await sleep(100);

  const pQueue = new PQueue({ concurrency: CONCURRENCY });
  const theirs = await overload({ add: (task) => pQueue.add(task), waiting: () => pQueue.size }, CONTRAST_SECONDS);
  pQueue.clear();
  await pQueue.onIdle();

  const row = (name: string, seconds: number, r: Awaited<ReturnType<typeof overload>>): string => {
    const base = r.samples[0] as number;
    const afterOne = r.samples[1] ?? base;
    const end = r.samples[r.samples.length - 1] as number;
    return `| ${name} | ${seconds} s | ${Math.round(r.offered / seconds).toLocaleString('en')}/s | ${r.completed.toLocaleString('en')} | ${r.rejected.toLocaleString('en')} | ${r.maxWaiting.toLocaleString('en')} | ${mb(base)} | ${mb(afterOne)} | ${mb(end)} | ${mb(end - afterOne)} |`;
  };
  return [
    `### Memory: ${TASK_MS} ms tasks at concurrency ${CONCURRENCY} (capacity ~${Math.round((CONCURRENCY * 1000) / TASK_MS).toLocaleString('en')}/s), ~10x offered`,
    '',
    '| queue | duration | offered | completed | refused | max waiting | heap before | heap at 1 s | heap at end | growth after 1 s |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    row('headroom TaskQueue, maxSize 1000', MEMORY_SECONDS, ours),
    row('p-queue 9 (unbounded), contrast', CONTRAST_SECONDS, theirs),
    '',
    `headroom heap samples (MB, after GC, one per second): ${ours.samples.map((b) => (b / 1024 / 1024).toFixed(1)).join(', ')}`,
  ].join('\n');
}

if ((globalThis as { gc?: unknown }).gc === undefined) console.warn('run with --expose-gc for the memory figures');
console.log(`Node ${process.version}, ${ROUNDS} rounds.\n`);
console.log(await throughput());
console.log('');
console.log(await memory());
