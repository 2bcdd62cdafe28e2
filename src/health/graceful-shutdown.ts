import { constants } from 'node:os';
import { functionArgument, invalidArgument, isArray, objectArgument, optionalDuration, type Duration } from '../core/index.js';

/**
 * What {@link HealthChecker.shutdown} needs of an HTTP server: `close()`, and, when present (as
 * on `node:http` and `node:https` servers), `closeIdleConnections()` and `closeAllConnections()`.
 * Fastify's `app.server`, Koa's and Express's `app.listen()` return value all qualify.
 */
export interface ClosableServer {
  /** Stops accepting connections; calls back once every connection has ended. */
  close(callback?: (err?: Error) => void): unknown;
  /** Closes keep-alive connections that carry no request. */
  closeIdleConnections?(): void;
  /** Closes every connection, busy or not. Used only when the deadline passes. */
  closeAllConnections?(): void;
}

/**
 * What {@link HealthChecker.shutdown} needs of a queue: `close({ drain: true })` refusing new
 * tasks and resolving once the waiting and running ones are done, as `TaskQueue` does.
 */
export interface DrainableQueue {
  /** Refuses new tasks; with `drain: true`, resolves once queued and running tasks are done. */
  close(options?: { drain?: boolean }): unknown;
}

/** What `onShutdown` receives. */
export interface ShutdownContext {
  /** The signal that started the shutdown, or `undefined` when {@link HealthChecker.startShutdown} did. */
  signal: NodeJS.Signals | undefined;
}

/** Options of {@link HealthChecker.shutdown}. */
export interface ShutdownOptions {
  /**
   * The signals that start the shutdown. Default `['SIGTERM', 'SIGINT']`. Pass `[]` to install no
   * listener and start it yourself with {@link HealthChecker.startShutdown} (the process is then
   * never exited for you). A second signal during a shutdown forces it at once.
   */
  signals?: readonly NodeJS.Signals[];
  /**
   * How long readiness answers 503 before the server stops accepting connections, so load
   * balancers and Kubernetes endpoints stop sending traffic first. Requests keep being served
   * meanwhile. Default `'5s'`; must be shorter than `timeout`.
   */
  delay?: Duration;
  /**
   * The hard limit of the whole sequence, counted from the signal. When it passes, every
   * remaining connection is closed and, after a signal, the process exits with code 1.
   * Default `'25s'` (Kubernetes' default grace period is 30 s).
   */
  timeout?: Duration;
  /** The HTTP server(s) to close after `delay`. */
  server?: ClosableServer | readonly ClosableServer[];
  /** Queues (e.g. `TaskQueue`) to drain with `close({ drain: true })` once the server(s) closed. */
  queues?: readonly DrainableQueue[];
  /** Called last, e.g. to close database pools and Redis clients; bounded by `timeout` too. */
  onShutdown?: (context: ShutdownContext) => unknown;
  /**
   * After a shutdown started by one of `signals`, exit the process: code 0 when everything
   * finished in time, 1 when the deadline forced it or a step threw. Default `true`. With
   * `false` the process is left to end on its own.
   */
  exit?: boolean;
}

/** What a shutdown sequence reports once it is over. */
export interface ShutdownResult {
  /** True when the deadline (or a second signal) cut the sequence short. */
  forced: boolean;
  /** Errors thrown by `server.close`, `queue.close` or `onShutdown`. */
  errors: unknown[];
  /** How long the sequence took. */
  durationMs: number;
  /** The signal that started it, if any. */
  signal: NodeJS.Signals | undefined;
}

const DEFAULT_SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];
// Signals a listener cannot catch (or that Node reserves): installing one would throw later.
const UNCATCHABLE = new Set(['SIGKILL', 'SIGSTOP']);
const IDLE_SWEEP_MS = 100;

/** Parsed {@link ShutdownOptions}. */
interface ShutdownPlan {
  signals: readonly NodeJS.Signals[];
  delayMs: number;
  timeoutMs: number;
  servers: readonly ClosableServer[];
  queues: readonly DrainableQueue[];
  onShutdown: ((context: ShutdownContext) => unknown) | undefined;
  exit: boolean;
}

/** Validates {@link ShutdownOptions} once, throwing `INVALID_ARGUMENT` naming the option. */
export function parseShutdownOptions(options: ShutdownOptions | undefined): ShutdownPlan {
  objectArgument(options, 'options');
  const given = options ?? {};
  const signals = given.signals ?? DEFAULT_SIGNALS;
  if (!isArray(signals)) throw invalidArgument('signals', 'an array of signal names', signals);
  for (const signal of signals) {
    if (typeof signal !== 'string' || !(signal in constants.signals) || UNCATCHABLE.has(signal)) {
      throw invalidArgument('signals', 'an array of catchable signal names such as "SIGTERM"', signal);
    }
  }
  const timeoutMs = optionalDuration(given.timeout, 'timeout', 25_000, { positive: true });
  const delayMs = optionalDuration(given.delay, 'delay', Math.min(5_000, Math.floor(timeoutMs / 2)));
  if (delayMs >= timeoutMs) throw invalidArgument('delay', `a duration shorter than timeout (${timeoutMs} ms)`, given.delay);
  const servers = given.server === undefined ? [] : isArray(given.server) ? (given.server as readonly ClosableServer[]) : [given.server as ClosableServer];
  for (const server of servers) {
    if (server === null || typeof server !== 'object' || typeof server.close !== 'function') {
      throw invalidArgument('server', 'an HTTP server (anything with close())', server);
    }
  }
  const queues = given.queues ?? [];
  if (!isArray(queues)) throw invalidArgument('queues', 'an array of queues', queues);
  for (const queue of queues) {
    if (queue === null || typeof queue !== 'object' || typeof queue.close !== 'function') {
      throw invalidArgument('queues', 'an array of queues with close({ drain })', queue);
    }
  }
  if (given.onShutdown !== undefined) functionArgument(given.onShutdown, 'onShutdown');
  if (given.exit !== undefined && typeof given.exit !== 'boolean') throw invalidArgument('exit', 'a boolean', given.exit);
  return {
    signals: [...signals],
    delayMs,
    timeoutMs,
    servers: [...servers],
    queues: [...queues],
    onShutdown: given.onShutdown,
    exit: given.exit ?? true,
  };
}

/** Hooks the sequence calls on the checker that owns it. */
export interface ShutdownHooks {
  /** Readiness turns to 503. */
  begin(): void;
  /** `delay` is over: the server(s) stop accepting connections. */
  drain(): void;
  /** The sequence is over: release the checker's resources. */
  end(): void;
}

/**
 * Runs the graceful-shutdown sequence: 503 on readiness at once, `delay`, close the servers,
 * drain the queues, `onShutdown`, all bounded by `timeout`. Internal to {@link HealthChecker}.
 */
export class GracefulShutdown {
  private running: Promise<ShutdownResult> | undefined;
  private forceNow: (() => void) | undefined;
  private readonly listeners = new Map<NodeJS.Signals, () => void>();

  constructor(
    private readonly plan: ShutdownPlan,
    private readonly hooks: ShutdownHooks,
  ) {}

  /** Installs one listener per signal. */
  arm(): void {
    for (const signal of this.plan.signals) {
      if (this.listeners.has(signal)) continue;
      const listener = (): void => this.onSignal(signal);
      this.listeners.set(signal, listener);
      process.on(signal, listener);
    }
  }

  /** Removes every listener {@link GracefulShutdown.arm} installed. */
  disarm(): void {
    for (const [signal, listener] of this.listeners) process.removeListener(signal, listener);
    this.listeners.clear();
  }

  /** Starts the sequence (once; later calls share it). */
  start(signal?: NodeJS.Signals): Promise<ShutdownResult> {
    this.running ??= this.sequence(signal);
    return this.running;
  }

  private onSignal(signal: NodeJS.Signals): void {
    if (this.running !== undefined) {
      // A second signal: the operator is impatient (Ctrl-C twice); stop waiting.
      this.forceNow?.();
      return;
    }
    const exit = this.plan.exit;
    this.start(signal).then(
      (result) => {
        if (exit) process.exit(result.forced || result.errors.length > 0 ? 1 : 0);
      },
      () => {
        if (exit) process.exit(1);
      },
    );
  }

  private async sequence(signal: NodeJS.Signals | undefined): Promise<ShutdownResult> {
    const startedAt = performance.now();
    const { plan } = this;
    const errors: unknown[] = [];
    this.hooks.begin();

    let deadlineTimer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'forced'>((resolve) => {
      this.forceNow = () => resolve('forced');
      deadlineTimer = setTimeout(this.forceNow, plan.timeoutMs);
      // Started by a signal, this timer is the promise to exit in time: it must hold the process.
      // Started by hand, it only guards the work and must not keep a finished process alive.
      if (signal === undefined) deadlineTimer.unref();
    });
    let sweeper: NodeJS.Timeout | undefined;
    // Once forced, the steps still awaiting must not start the next one (onShutdown after the deadline).
    let forcedAlready = false;
    let closing = false;

    const steps = async (): Promise<'done'> => {
      if (plan.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, plan.delayMs));
      if (forcedAlready) return 'done';
      this.hooks.drain();
      closing = true;
      if (plan.servers.length > 0) {
        // Connections that were busy at close() become idle later and would otherwise linger
        // until keepAliveTimeout: sweep them as they go idle.
        sweeper = setInterval(() => {
          for (const server of plan.servers) server.closeIdleConnections?.();
        }, IDLE_SWEEP_MS);
        sweeper.unref();
        await Promise.all(plan.servers.map((server) => closeServer(server, errors)));
      }
      if (forcedAlready) return 'done';
      // Queues after servers: in-flight requests may still add tasks until their server closed.
      await Promise.all(
        plan.queues.map(async (queue) => {
          try {
            await queue.close({ drain: true });
          } catch (err) {
            errors.push(err);
          }
        }),
      );
      if (plan.onShutdown !== undefined && !forcedAlready) {
        try {
          await plan.onShutdown({ signal });
        } catch (err) {
          errors.push(err);
        }
      }
      return 'done';
    };

    const outcome = await Promise.race([steps(), deadline]);
    clearTimeout(deadlineTimer);
    if (sweeper !== undefined) clearInterval(sweeper);
    const forced = outcome === 'forced';
    forcedAlready = forced;
    if (forced) {
      this.hooks.drain();
      for (const server of plan.servers) {
        // Forced during the delay (a second signal): the server still listens.
        if (!closing) void closeServer(server, []);
        server.closeAllConnections?.();
      }
    }
    this.disarm();
    this.hooks.end();
    return { forced, errors, durationMs: performance.now() - startedAt, signal };
  }
}

function closeServer(server: ClosableServer, errors: unknown[]): Promise<void> {
  return new Promise<void>((resolve) => {
    try {
      server.close((err?: Error) => {
        // A server that was not listening is as closed as we need it.
        if (err !== undefined && err !== null && (err as NodeJS.ErrnoException).code !== 'ERR_SERVER_NOT_RUNNING') errors.push(err);
        resolve();
      });
      server.closeIdleConnections?.();
    } catch (err) {
      errors.push(err);
      resolve();
    }
  });
}
