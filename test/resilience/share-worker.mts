/**
 * One instance of a service for the shared-breaker test: a `CircuitBreaker` shared over Redis
 * pub/sub, driven by its parent over IPC. It reports each opening with the wall-clock time, and
 * exits on its own after `close()`.
 */
import { Redis } from 'ioredis';
import { CircuitBreaker } from '../../src/resilience/index.js';

/** What the parent asks. */
export type ShareCommand = { type: 'trip' } | { type: 'alone' } | { type: 'exit' };
/** What the worker tells. */
export type ShareReport =
  { type: 'ready' } | { type: 'open'; remote: boolean; at: number } | { type: 'alone'; steps: string[] } | { type: 'error'; message: string };

const [port, channel] = process.argv.slice(2) as [string, string];
const send = (report: ShareReport): void => {
  process.send?.(report);
};
const redis = new Redis({ host: '127.0.0.1', port: Number(port), maxRetriesPerRequest: 1 });
redis.on('error', () => {});
const COOLDOWN_MS = 1_000;
const breaker = new CircuitBreaker({ name: 'payments', trip: { consecutive: 3 }, cooldown: COOLDOWN_MS, share: { redis, channel } });
breaker.on('open', ({ remote }) => send({ type: 'open', remote, at: Date.now() }));

const failing = (): Promise<never> => Promise.reject(new Error('payments down'));
const outcome = (promise: Promise<unknown>): Promise<string> =>
  promise.then(
    (value) => `ok:${String(value)}`,
    (error: { code?: string; message?: string }) => `err:${error.code ?? error.message}`,
  );

/** With Redis gone: the breaker still works, decides and recovers on its own. */
async function alone(): Promise<string[]> {
  const steps: string[] = [];
  breaker.reset();
  steps.push(await outcome(breaker.execute(() => 'fine')));
  for (let i = 0; i < 3; i++) steps.push(await outcome(breaker.execute(failing)));
  steps.push(breaker.state);
  steps.push(await outcome(breaker.execute(() => 'refused?')));
  await new Promise((resolve) => setTimeout(resolve, COOLDOWN_MS + 50));
  steps.push(await outcome(breaker.execute(() => 'probe')));
  steps.push(breaker.state);
  return steps;
}

process.on('message', (command: ShareCommand) => {
  if (command.type === 'trip') {
    void (async () => {
      for (let i = 0; i < 3; i++) await breaker.execute(failing).catch(() => undefined);
    })();
  } else if (command.type === 'alone') {
    alone().then(
      (steps) => send({ type: 'alone', steps }),
      (error: Error) => send({ type: 'error', message: error.message }),
    );
  } else if (command.type === 'exit') {
    process.removeAllListeners('message');
    process.disconnect?.();
    void breaker.close().then(() => redis.disconnect());
  }
});

// Ready once the subscription is up, so that the parent measures delivery, not connection time.
const started = Date.now();
while (breaker.stats().shared?.connected !== true) {
  if (Date.now() - started > 10_000) {
    send({ type: 'error', message: 'subscription not up after 10 s' });
    break;
  }
  await new Promise((resolve) => setTimeout(resolve, 10));
}
send({ type: 'ready' });
