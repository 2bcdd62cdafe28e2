import { describe, expect, it } from 'vitest';
import { HealthChecker, queueCheck } from '../../src/health/index.js';
import { TaskQueue } from '../../src/queue/index.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('with a real TaskQueue', () => {
  it('queueCheck follows the queue depth as a fraction of maxSize', async () => {
    const queue = new TaskQueue({ concurrency: 1, maxSize: 4 });
    const health = new HealthChecker({ cacheFor: 0 }).register('jobs', queueCheck(queue, { degradedAt: 0.5, unhealthyAt: 1 }));
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const tasks = [queue.add(() => gate)]; // running, not waiting
    expect((await health.check()).checks.jobs?.status).toBe('pass');
    tasks.push(
      queue.add(async () => {}),
      queue.add(async () => {}),
    );
    expect((await health.check()).checks.jobs).toMatchObject({ status: 'warn', observedValue: 50 });
    tasks.push(
      queue.add(async () => {}),
      queue.add(async () => {}),
    );
    const full = await health.check();
    expect(full.checks.jobs).toMatchObject({ status: 'fail', observedValue: 100 });
    expect(full.status).toBe('unhealthy');
    release();
    await Promise.all(tasks);
    expect((await health.check()).status).toBe('healthy');
    health.close();
    await queue.close();
  });

  it('shutdown drains the queue: waiting and running tasks finish before onShutdown', async () => {
    const queue = new TaskQueue({ concurrency: 1, maxSize: 10 });
    const done: number[] = [];
    const tasks = [1, 2, 3].map((n) =>
      queue.add(async () => {
        await sleep(40);
        done.push(n);
      }),
    );
    let seenAtShutdown: number[] = [];
    const health = new HealthChecker().shutdown({
      signals: [],
      delay: 0,
      timeout: '3s',
      queues: [queue],
      onShutdown: () => {
        seenAtShutdown = [...done];
      },
    });
    const outcome = await health.startShutdown();
    await Promise.all(tasks);
    expect(outcome).toMatchObject({ forced: false, errors: [] });
    expect(seenAtShutdown).toEqual([1, 2, 3]);
    await expect(queue.add(async () => {})).rejects.toMatchObject({ code: 'QUEUE_CLOSED' });
  });
});
