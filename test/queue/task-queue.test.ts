import { getEventListeners } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { HeadroomError, isHeadroomError } from '../../src/core/index.js';
import { QueueClosedError, QueueFullError, TaskQueue, TimeoutError, type TaskContext } from '../../src/queue/index.js';
import { deadlineTimerState } from '../../src/core/index.js';
import { deferred, flush, sleep, trackUnhandledRejections } from '../support/async.js';
import { useTestClock } from '../support/test-clock.js';

const unhandled = trackUnhandledRejections();
afterEach(async () => {
  await flush();
  expect(unhandled).toEqual([]);
});

describe('TaskQueue: running tasks', () => {
  it('resolves with the task result and passes the task a context with its own AbortSignal', async () => {
    const queue = new TaskQueue();
    const seen: AbortSignal[] = [];
    const value = await queue.add(async ({ signal }) => {
      seen.push(signal);
      return 'ok';
    });
    await queue.add(async ({ signal }) => void seen.push(signal));
    expect(value).toBe('ok');
    expect(seen[0]).toBeInstanceOf(AbortSignal);
    expect(seen[1]).toBeInstanceOf(AbortSignal);
    expect(seen[0]).not.toBe(seen[1]);
  });

  it('gives a task the same signal however often it reads it', async () => {
    const queue = new TaskQueue();
    const [first, second] = await queue.add((context) => [context.signal, context.signal]);
    expect(first).toBeInstanceOf(AbortSignal);
    expect(second).toBe(first);
  });

  it('gives a task declared without a parameter its context too', async () => {
    const queue = new TaskQueue();
    const seen = await queue.add(function (this: unknown, ...args: unknown[]) {
      return Promise.resolve((args[0] as TaskContext).signal);
    });
    expect(seen).toBeInstanceOf(AbortSignal);
  });

  it('accepts a task that returns a plain value', async () => {
    const queue = new TaskQueue();
    await expect(queue.add(() => 5)).resolves.toBe(5);
  });

  it('never runs more than concurrency tasks at once', async () => {
    const queue = new TaskQueue({ concurrency: 3, maxSize: 100 });
    let running = 0;
    let peak = 0;
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        queue.add(async () => {
          running++;
          peak = Math.max(peak, running);
          expect(queue.pending).toBeLessThanOrEqual(3);
          await sleep(1 + (i % 3));
          running--;
          return i;
        }),
      ),
    );
    expect(peak).toBe(3);
    expect(results).toEqual(Array.from({ length: 30 }, (_, i) => i));
  });

  it('runs tasks FIFO within a priority', async () => {
    const queue = new TaskQueue({ concurrency: 1, maxSize: 100 });
    const order: number[] = [];
    await Promise.all(Array.from({ length: 20 }, (_, i) => queue.add(async () => void order.push(i))));
    expect(order).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('runs higher priorities first, FIFO among equals', async () => {
    const queue = new TaskQueue({ concurrency: 1, maxSize: 100 });
    const gate = deferred();
    const order: string[] = [];
    const blocker = queue.add(() => gate.promise);
    const tasks = [
      queue.add(async () => void order.push('0a')),
      queue.add(async () => void order.push('5a'), { priority: 5 }),
      queue.add(async () => void order.push('-1a'), { priority: -1 }),
      queue.add(async () => void order.push('5b'), { priority: 5 }),
      queue.add(async () => void order.push('0b'), { priority: 0 }),
      queue.add(async () => void order.push('9a'), { priority: 9 }),
    ];
    gate.resolve();
    await Promise.all([blocker, ...tasks]);
    expect(order).toEqual(['9a', '5a', '5b', '0a', '0b', '-1a']);
  });

  it('keeps working with many distinct priority levels coming and going', async () => {
    const queue = new TaskQueue({ concurrency: 1, maxSize: 1000 });
    const gate = deferred();
    const order: number[] = [];
    const blocker = queue.add(() => gate.promise);
    const tasks = Array.from({ length: 50 }, (_, i) => queue.add(async () => void order.push(i % 25), { priority: i % 25 }));
    gate.resolve();
    await Promise.all([blocker, ...tasks]);
    const expected = Array.from({ length: 25 }, (_, p) => [24 - p, 24 - p]).flat();
    expect(order).toEqual(expected);
    await Promise.all(Array.from({ length: 30 }, (_, i) => queue.add(async () => i, { priority: 100 + i })));
    expect(queue.size).toBe(0);
  });

  it('does not let a failing task block the ones behind it', async () => {
    const queue = new TaskQueue({ concurrency: 1, maxSize: 10 });
    const boom = new Error('boom');
    const results = await Promise.allSettled([
      queue.add(async () => {
        throw boom;
      }),
      queue.add(() => {
        throw boom;
      }),
      queue.add(async () => 'after'),
    ]);
    expect(results[0]).toEqual({ status: 'rejected', reason: boom });
    expect(results[1]).toEqual({ status: 'rejected', reason: boom });
    expect(results[2]).toEqual({ status: 'fulfilled', value: 'after' });
    expect(queue.stats().failed).toBe(2);
    expect(queue.stats().completed).toBe(1);
  });

  it('drains a long backlog of synchronous tasks without deep recursion', async () => {
    const queue = new TaskQueue({ concurrency: 1, maxSize: Infinity });
    const gate = deferred();
    const blocker = queue.add(() => gate.promise);
    const tasks = Array.from({ length: 20_000 }, (_, i) => queue.add(() => i));
    gate.resolve();
    const values = await Promise.all(tasks);
    await blocker;
    expect(values[19_999]).toBe(19_999);
    expect(queue.pending).toBe(0);
  });
});

describe('TaskQueue: bounded waiting', () => {
  it('rejects with QUEUE_FULL when maxSize tasks are waiting', async () => {
    const queue = new TaskQueue({ concurrency: 1, maxSize: 2, name: 'render' });
    const gate = deferred();
    const running = queue.add(() => gate.promise);
    const waiting = [queue.add(async () => 1), queue.add(async () => 2)];
    expect(queue.size).toBe(2);
    expect(queue.isFull).toBe(true);
    const error = await queue.add(async () => 3).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QueueFullError);
    expect(error).toBeInstanceOf(HeadroomError);
    expect(isHeadroomError(error, 'QUEUE_FULL')).toBe(true);
    const full = error as QueueFullError;
    expect(full.status).toBe(503);
    expect(full.retryAfterMs).toBeGreaterThan(0);
    expect(full.queue).toBe('render');
    expect(full.maxSize).toBe(2);
    expect(full.message).toContain('render');
    expect(queue.stats().rejected).toBe(1);
    gate.resolve();
    await Promise.all([running, ...waiting]);
    expect(queue.isFull).toBe(false);
    await expect(queue.add(async () => 4)).resolves.toBe(4);
  });

  it('defaults maxSize to a finite bound of 1000', async () => {
    const queue = new TaskQueue();
    expect(queue.maxSize).toBe(1000);
    const gate = deferred();
    const all = [queue.add(() => gate.promise)];
    for (let i = 0; i < 1000; i++) all.push(queue.add(async () => undefined));
    await expect(queue.add(async () => undefined)).rejects.toBeInstanceOf(QueueFullError);
    gate.resolve();
    await Promise.all(all);
  });

  it('with maxSize 0 runs a task when a slot is free and refuses one that would wait', async () => {
    const queue = new TaskQueue({ concurrency: 2, maxSize: 0 });
    const gate = deferred();
    const a = queue.add(() => gate.promise);
    expect(queue.isFull).toBe(false);
    const b = queue.add(() => gate.promise);
    expect(queue.isFull).toBe(true);
    await expect(queue.add(async () => 1)).rejects.toBeInstanceOf(QueueFullError);
    gate.resolve();
    await Promise.all([a, b]);
  });

  it('accepts maxSize: Infinity explicitly', async () => {
    const queue = new TaskQueue({ maxSize: Infinity });
    const gate = deferred();
    const all = Array.from({ length: 5000 }, () => queue.add(() => gate.promise));
    expect(queue.size).toBe(4999);
    expect(queue.isFull).toBe(false);
    gate.resolve();
    await Promise.all(all);
  });

  it('estimates retryAfterMs from recent run times, waiting tasks and concurrency', async () => {
    const clock = useTestClock();
    const queue = new TaskQueue({ concurrency: 2, maxSize: 4 });
    const first = Promise.all(Array.from({ length: 6 }, () => queue.add(() => clock.sleep(40))));
    await clock.advance(120); // three rounds of two
    await first;
    const recent = queue.stats().recentRunMs;
    expect(recent).toBe(40);
    const gate = deferred();
    const all = Array.from({ length: 6 }, () => queue.add(() => gate.promise));
    const error = (await queue.add(async () => 0).catch((e: unknown) => e)) as QueueFullError;
    // 4 waiting, 2 at a time, ~40 ms each: about 80 ms.
    expect(error.retryAfterMs).toBe(Math.ceil((recent * 4) / 2));
    gate.resolve();
    await Promise.all(all);
  });

  it('guesses retryAfterMs from the timeout before any task has finished', async () => {
    const queue = new TaskQueue({ concurrency: 1, maxSize: 1, timeout: 300 });
    const gate = deferred();
    const all = [queue.add(() => gate.promise), queue.add(() => gate.promise)];
    const error = (await queue.add(async () => 0).catch((e: unknown) => e)) as QueueFullError;
    expect(error.retryAfterMs).toBe(300);
    gate.resolve();
    await Promise.all(all);
  });

  it('emits full when the waiting list reaches maxSize', async () => {
    const queue = new TaskQueue({ concurrency: 1, maxSize: 2 });
    const events: unknown[] = [];
    const off = queue.on('full', (event) => events.push(event));
    const gate = deferred();
    const all = [queue.add(() => gate.promise), queue.add(() => gate.promise)];
    expect(events).toHaveLength(0);
    all.push(queue.add(() => gate.promise));
    expect(events).toEqual([{ size: 2, maxSize: 2, retryAfterMs: expect.any(Number) }]);
    off();
    gate.resolve();
    await Promise.all(all);
  });
});

describe('TaskQueue: timeouts', () => {
  it('aborts the task signal and rejects the caller with TimeoutError at the deadline', async () => {
    const queue = new TaskQueue({ timeout: 30, name: 'slow' });
    let seen: AbortSignal | undefined;
    const started = performance.now();
    const error = await queue
      .add(
        ({ signal }) =>
          new Promise((_, reject) => {
            seen = signal;
            signal.addEventListener('abort', () => reject(signal.reason));
          }),
      )
      .catch((e: unknown) => e);
    expect(performance.now() - started).toBeGreaterThanOrEqual(29);
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as TimeoutError).timeoutMs).toBe(30);
    expect((error as TimeoutError).operation).toBe('slow');
    expect(seen?.aborted).toBe(true);
    expect(seen?.reason).toBe(error);
    expect(queue.stats().timedOut).toBe(1);
    await queue.onIdle();
    expect(queue.stats().overrunning).toBe(0);
  });

  it('aborts a wrapper task that forwards (...args) on its own timeout', async () => {
    const queue = new TaskQueue({ concurrency: 2, timeout: 20 });
    const seen: AbortSignal[] = [];
    const inner = ({ signal }: TaskContext): Promise<never> =>
      new Promise((_, reject) => {
        seen.push(signal);
        signal.addEventListener('abort', () => reject(signal.reason));
      });
    const wrapper = (...args: [TaskContext]): Promise<never> => inner(...args);
    expect(wrapper.length).toBe(0); // what used to cost it its own signal
    const slow = queue.add(wrapper);
    const other = queue.add(wrapper, { timeout: 10_000 });
    const error = await slow.catch((err: unknown) => err);
    expect(error).toBeInstanceOf(TimeoutError);
    expect(seen[0]?.aborted).toBe(true);
    expect(seen[0]?.reason).toBe(error);
    // The other task's signal is its own: the first one's timeout left it alone.
    expect(seen[1]?.aborted).toBe(false);
    await queue.close({ drain: false });
    await expect(other).rejects.toBeInstanceOf(QueueClosedError);
    expect(seen[1]?.aborted).toBe(true);
  });

  it('gives a task that reads its signal only after its timeout an aborted one', async () => {
    const queue = new TaskQueue({ timeout: 10 });
    const gate = deferred();
    let late: AbortSignal | undefined;
    const error = await queue
      .add(async (context) => {
        await gate.promise;
        late = context.signal;
      })
      .catch((err: unknown) => err);
    expect(error).toBeInstanceOf(TimeoutError);
    gate.resolve();
    await queue.onIdle();
    expect(late?.aborted).toBe(true);
    expect(late?.reason).toBe(error);
  });

  it('frees the slot of a timed-out task only when it really settles', async () => {
    const clock = useTestClock();
    const queue = new TaskQueue({ concurrency: 1, maxSize: 10, timeout: 20 });
    const stubborn = deferred<string>();
    const first = queue.add(() => stubborn.promise).catch((e: unknown) => e); // ignores its signal
    let secondStarted = false;
    const second = queue.add(async () => {
      secondStarted = true;
      return 'second';
    });
    await clock.advance(20);
    expect(await first).toBeInstanceOf(TimeoutError);
    await clock.advance(30);
    expect(secondStarted).toBe(false);
    expect(queue.pending).toBe(1);
    expect(queue.size).toBe(1);
    expect(queue.stats().overrunning).toBe(1);
    stubborn.resolve('too late');
    await expect(second).resolves.toBe('second');
    expect(queue.stats().overrunning).toBe(0);
    expect(queue.stats().completed).toBe(1);
  });

  it('handles a late rejection of a timed-out task', async () => {
    const clock = useTestClock();
    const queue = new TaskQueue({ timeout: 10 });
    const late = deferred();
    const call = queue.add(() => late.promise).catch((e: unknown) => e);
    await clock.advance(10);
    expect(await call).toBeInstanceOf(TimeoutError);
    late.reject(new Error('late failure'));
    await queue.onIdle();
  });

  it('uses the per-task timeout instead of the queue timeout', async () => {
    const clock = useTestClock();
    const queue = new TaskQueue({ timeout: 5_000 });
    const call = queue.add(() => clock.sleep(200), { timeout: '20ms' }).catch((e: unknown) => e);
    await clock.advance(20);
    const error = (await call) as TimeoutError;
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error.timeoutMs).toBe(20);
    await clock.advance(180);
    await queue.onIdle();
  });

  it('counts the timeout from the start of the task, not from add()', async () => {
    const clock = useTestClock();
    const queue = new TaskQueue({ concurrency: 1, maxSize: 10, timeout: 60 });
    const first = queue.add(() => clock.sleep(40));
    const second = queue.add(() => clock.sleep(40));
    // The second waits 40 ms then runs 40 ms: 80 ms after add(), but within its own 60 ms.
    await clock.advance(80);
    await expect(Promise.all([first, second])).resolves.toBeDefined();
    expect(queue.stats().timedOut).toBe(0);
  });

  it('emits timeout events', async () => {
    const clock = useTestClock();
    const queue = new TaskQueue({ timeout: 10 });
    const events: unknown[] = [];
    queue.on('timeout', (event) => events.push(event));
    const call = queue.add(() => clock.sleep(40)).catch(() => undefined);
    await clock.advance(10);
    await call;
    expect(events).toEqual([{ timeoutMs: 10, overrunning: 1 }]);
    await clock.advance(30);
    await queue.onIdle();
  });

  it('leaves no deadline armed and no timer holding the process once idle', async () => {
    const queue = new TaskQueue({ concurrency: 4, maxSize: 100, timeout: 1_000 });
    await Promise.all(Array.from({ length: 50 }, (_, i) => queue.add(() => sleep(i % 5))));
    await queue.add(() => sleep(50), { timeout: 5 }).catch(() => undefined);
    await queue.onIdle();
    const state = deadlineTimerState();
    expect(state.armed).toBe(0);
    expect(state.timerRefed).toBe(false);
  });
});

describe('TaskQueue: cancellation', () => {
  it('removes a waiting task whose signal aborts, at once, rejecting with the reason', async () => {
    const queue = new TaskQueue({ concurrency: 1, maxSize: 10 });
    const gate = deferred();
    const blocker = queue.add(() => gate.promise);
    const controller = new AbortController();
    let ran = false;
    const cancelled = queue.add(
      async () => {
        ran = true;
      },
      { signal: controller.signal },
    );
    const after = queue.add(async () => 'after');
    expect(queue.size).toBe(2);
    controller.abort(new Error('client left'));
    expect(queue.size).toBe(1);
    await expect(cancelled).rejects.toThrow('client left');
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    gate.resolve();
    await expect(after).resolves.toBe('after');
    await blocker;
    expect(ran).toBe(false);
    expect(queue.stats().cancelled).toBe(1);
  });

  it('keeps FIFO order when tasks in the middle of a long queue are cancelled', async () => {
    const queue = new TaskQueue({ concurrency: 1, maxSize: 20_000 });
    const gate = deferred();
    const blocker = queue.add(() => gate.promise);
    const order: number[] = [];
    const controllers: AbortController[] = [];
    const tasks: Promise<unknown>[] = [];
    for (let i = 0; i < 10_000; i++) {
      const controller = new AbortController();
      controllers.push(controller);
      tasks.push(queue.add(async () => void order.push(i), { signal: controller.signal }).catch(() => 'cancelled'));
    }
    for (let i = 0; i < 10_000; i += 2) controllers[i]?.abort();
    expect(queue.size).toBe(5_000);
    gate.resolve();
    await Promise.all([blocker, ...tasks]);
    expect(order).toEqual(Array.from({ length: 5_000 }, (_, i) => i * 2 + 1));
  });

  it('rejects at once with the reason of an already aborted signal, without running the task', async () => {
    const queue = new TaskQueue();
    let ran = false;
    await expect(
      queue.add(
        async () => {
          ran = true;
        },
        { signal: AbortSignal.abort('nope') },
      ),
    ).rejects.toBe('nope');
    expect(ran).toBe(false);
    expect(queue.pending).toBe(0);
  });

  it('aborts a running task whose signal aborts and rejects its caller with the reason', async () => {
    const queue = new TaskQueue({ concurrency: 1, maxSize: 10 });
    const controller = new AbortController();
    let taskSignal: AbortSignal | undefined;
    const settled = deferred();
    const running = queue.add(
      ({ signal }) => {
        taskSignal = signal;
        return settled.promise;
      },
      { signal: controller.signal },
    );
    const next = queue.add(async () => 'next');
    await flush();
    controller.abort('stop');
    await expect(running).rejects.toBe('stop');
    expect(taskSignal?.aborted).toBe(true);
    expect(taskSignal?.reason).toBe('stop');
    expect(queue.pending).toBe(1);
    expect(queue.stats().overrunning).toBe(1);
    settled.resolve();
    await expect(next).resolves.toBe('next');
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('removes its listener from the caller signal whichever way the task ends', async () => {
    const queue = new TaskQueue({ concurrency: 1, maxSize: 10, timeout: 20 });
    const { signal } = new AbortController();
    await queue.add(async () => 1, { signal });
    await queue.add(async () => Promise.reject(new Error('x')), { signal }).catch(() => undefined);
    await queue.add(() => sleep(40), { signal }).catch(() => undefined);
    await queue.onIdle();
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
  });
});

describe('TaskQueue: idle and close', () => {
  it('onIdle resolves at once when idle, and when the last task finishes', async () => {
    const queue = new TaskQueue({ concurrency: 2, maxSize: 10 });
    await queue.onIdle();
    let done = 0;
    for (let i = 0; i < 5; i++) void queue.add(() => sleep(5).then(() => void done++));
    await queue.onIdle();
    expect(done).toBe(5);
  });

  it('emits idle when the last task finishes', async () => {
    const queue = new TaskQueue({ concurrency: 2 });
    const events: unknown[] = [];
    queue.on('idle', (event) => events.push(event));
    await Promise.all([queue.add(() => sleep(1)), queue.add(() => sleep(2))]);
    expect(events).toEqual([{ completed: 2, failed: 0 }]);
  });

  it('close({ drain: true }) refuses new tasks with QUEUE_CLOSED and lets the rest finish', async () => {
    const queue = new TaskQueue({ concurrency: 1, maxSize: 10, name: 'jobs' });
    const results: number[] = [];
    const tasks = [1, 2, 3].map((n) => queue.add(() => sleep(5).then(() => void results.push(n))));
    const closed = queue.close({ drain: true });
    expect(queue.closed).toBe(true);
    const error = await queue.add(async () => 0).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QueueClosedError);
    expect(isHeadroomError(error, 'QUEUE_CLOSED')).toBe(true);
    expect((error as QueueClosedError).status).toBe(503);
    await closed;
    await Promise.all(tasks);
    expect(results).toEqual([1, 2, 3]);
    expect(queue.stats().rejected).toBe(1);
  });

  it('close() drains by default', async () => {
    const queue = new TaskQueue();
    const task = queue.add(() => sleep(5).then(() => 'done'));
    await queue.close();
    await expect(task).resolves.toBe('done');
  });

  it('close({ drain: false }) rejects waiting tasks, aborts running ones, and resolves when they settle', async () => {
    const queue = new TaskQueue({ concurrency: 2, maxSize: 10 });
    const signals: AbortSignal[] = [];
    const stubborn = deferred();
    const running = [
      queue.add(
        ({ signal }) =>
          new Promise((_, reject) => {
            signals.push(signal);
            signal.addEventListener('abort', () => reject(signal.reason));
          }),
      ),
      queue.add(({ signal }) => {
        signals.push(signal);
        return stubborn.promise; // ignores its signal
      }),
    ];
    let waitingRan = false;
    const waiting = queue.add(async () => {
      waitingRan = true;
    });
    await flush();
    let closeResolved = false;
    const closing = queue.close({ drain: false }).then(() => {
      closeResolved = true;
    });
    for (const task of [...running, waiting]) await expect(task).rejects.toBeInstanceOf(QueueClosedError);
    expect(signals.every((s) => s.aborted)).toBe(true);
    expect(queue.size).toBe(0);
    await flush();
    expect(closeResolved).toBe(false); // the stubborn task still holds its slot
    expect(queue.pending).toBe(1);
    stubborn.resolve();
    await closing;
    expect(waitingRan).toBe(false);
    expect(queue.stats().rejected).toBe(3);
  });

  it('aborts the signal of a forwarding wrapper on close({ drain: false })', async () => {
    const queue = new TaskQueue({ concurrency: 1 });
    let seen: AbortSignal | undefined;
    const inner = ({ signal }: TaskContext): Promise<void> => {
      seen = signal;
      return sleep(20);
    };
    const task = queue.add((...args: [TaskContext]) => inner(...args));
    const outcome = task.catch((err: unknown) => err);
    await queue.close({ drain: false });
    expect(await outcome).toBeInstanceOf(QueueClosedError);
    expect(seen?.aborted).toBe(true);
  });

  it('gives a task that reads its signal only after close({ drain: false }) an aborted one', async () => {
    const queue = new TaskQueue({ concurrency: 1 });
    const gate = deferred();
    let late: AbortSignal | undefined;
    const task = queue.add(async (context) => {
      await gate.promise;
      late = context.signal;
    });
    const outcome = task.catch((err: unknown) => err);
    await flush();
    const closing = queue.close({ drain: false });
    const closedWith = await outcome;
    expect(closedWith).toBeInstanceOf(QueueClosedError);
    gate.resolve();
    await closing;
    expect(late?.aborted).toBe(true);
    expect(late?.reason).toBe(closedWith);
  });

  it('escalates from drain to abort when closed twice', async () => {
    const queue = new TaskQueue({ concurrency: 1, maxSize: 10 });
    const gate = deferred();
    const running = queue.add(({ signal }) => {
      signal.addEventListener('abort', () => gate.resolve());
      return gate.promise;
    });
    const waiting = queue.add(async () => 'never');
    const drained = queue.close();
    await queue.close({ drain: false });
    await drained;
    await expect(running).rejects.toBeInstanceOf(QueueClosedError);
    await expect(waiting).rejects.toBeInstanceOf(QueueClosedError);
  });
});

describe('TaskQueue: fire and forget', () => {
  it('raises no unhandled rejection with queue.add(task).catch(...)', async () => {
    const queue = new TaskQueue({ concurrency: 1, maxSize: 1, timeout: 10 });
    const caught: unknown[] = [];
    const log = (err: unknown): void => void caught.push(err);
    queue.add(() => Promise.reject(new Error('task failed'))).catch(log);
    queue.add(() => sleep(30)).catch(log); // waits, then times out
    queue.add(async () => 1).catch(log); // full
    await queue.close();
    queue.add(async () => 1).catch(log); // closed
    await flush();
    expect(caught.map((e) => (e as { code?: string }).code ?? (e as Error).message)).toEqual([
      'QUEUE_FULL',
      'task failed',
      'OPERATION_TIMEOUT',
      'QUEUE_CLOSED',
    ]);
  });
});

describe('TaskQueue: stats', () => {
  it('counts outcomes and measures wait and run times', async () => {
    const clock = useTestClock();
    const queue = new TaskQueue({ concurrency: 1, maxSize: 2, timeout: 100 });
    const settled = Promise.allSettled([
      queue.add(() => clock.sleep(30).then(() => 'a')),
      queue.add(() => Promise.reject(new Error('b'))),
      queue.add(() => clock.sleep(150)),
      queue.add(async () => 'refused'),
    ]);
    await clock.advance(180); // 30 ms, then the third runs 150 ms (its caller gives up at 100)
    const outcomes = await settled;
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'rejected']);
    await queue.onIdle();
    const stats = queue.stats();
    expect(stats).toMatchObject({
      size: 0,
      pending: 0,
      added: 3,
      completed: 1,
      failed: 1,
      rejected: 1,
      cancelled: 0,
      timedOut: 1,
      overrunning: 0,
    });
    expect(stats.maxRunMs).toBe(150);
    expect(stats.maxWaitMs).toBe(30);
    expect(stats.avgWaitMs).toBeGreaterThan(0);
    expect(stats.avgRunMs).toBeGreaterThan(0);
    expect(stats.recentRunMs).toBeGreaterThan(0);
  });

  it('exposes its configuration', () => {
    const queue = new TaskQueue({ concurrency: 4, maxSize: 50, name: 'q' });
    expect([queue.concurrency, queue.maxSize, queue.name, queue.size, queue.pending, queue.closed]).toEqual([4, 50, 'q', 0, 0, false]);
    expect(queue.stats().name).toBe('q');
  });
});

describe('TaskQueue: bad arguments', () => {
  const constructorCases: [string, unknown, string][] = [
    ['concurrency 0', { concurrency: 0 }, 'concurrency'],
    ['a fractional concurrency', { concurrency: 1.5 }, 'concurrency'],
    ['a string concurrency', { concurrency: '4' }, 'concurrency'],
    ['a negative maxSize', { maxSize: -1 }, 'maxSize'],
    ['a fractional maxSize', { maxSize: 2.5 }, 'maxSize'],
    ['a malformed timeout', { timeout: 'soon' }, 'timeout'],
    ['a zero timeout', { timeout: 0 }, 'timeout'],
    ['an empty name', { name: '' }, 'name'],
    ['a numeric name', { name: 5 }, 'name'],
    ['options that are not an object', 5, 'options'],
  ];
  for (const [what, options, argument] of constructorCases) {
    it(`throws INVALID_ARGUMENT naming ${argument} for ${what}`, () => {
      expect(() => new TaskQueue(options as never)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', argument }));
    });
  }

  const addCases: [string, unknown, unknown, string][] = [
    ['a task that is not a function', 'task', undefined, 'task'],
    ['a fractional priority', async () => 1, { priority: 1.5 }, 'options.priority'],
    ['a string priority', async () => 1, { priority: 'high' }, 'options.priority'],
    ['a malformed timeout', async () => 1, { timeout: '5 minutes' }, 'options.timeout'],
    ['a signal that is not an AbortSignal', async () => 1, { signal: {} }, 'options.signal'],
    ['options that are not an object', async () => 1, 'fast', 'options'],
  ];
  for (const [what, task, options, argument] of addCases) {
    it(`add() throws INVALID_ARGUMENT naming ${argument} for ${what}`, () => {
      const queue = new TaskQueue();
      expect(() => queue.add(task as never, options as never)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', argument }));
      expect(queue.stats().added).toBe(0);
    });
  }

  it('close() throws INVALID_ARGUMENT for a drain that is not a boolean', () => {
    const queue = new TaskQueue();
    expect(() => queue.close({ drain: 'yes' as never })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});
