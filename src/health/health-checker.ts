import { ErrorCode, HeadroomError, invalidArgument, objectArgument, optionalDuration, parseDuration } from '../core/index.js';
import { TimeoutError, withTimeout } from '../timeout/index.js';
import { GracefulShutdown, parseShutdownOptions, type ShutdownHooks, type ShutdownOptions, type ShutdownResult } from './graceful-shutdown.js';
import type { CheckReport, CheckResult, CheckStatus, HealthCheck, HealthCheckerOptions, HealthReport, HealthStatus, RegisterOptions } from './types.js';

/** One registered check and the state of its latest invocation. */
interface Entry {
  readonly name: string;
  readonly check: HealthCheck;
  readonly critical: boolean;
  readonly timeoutMs: number;
  readonly label: string;
  readonly kind: string | undefined;
  readonly measurement: string | undefined;
  readonly componentId: string | undefined;
  /** The promise of an invocation that has not settled yet (it may have outlived its deadline). */
  running: Promise<unknown> | undefined;
  /** When {@link Entry.running} started (epoch ms). */
  runningSince: number;
}

const STATUSES: ReadonlySet<string> = new Set<CheckStatus>(['pass', 'warn', 'fail']);

/**
 * Runs dependency checks under deadlines and folds them into `healthy`, `degraded` or
 * `unhealthy`.
 *
 * - Every check runs in parallel under its own deadline; a check that hangs costs its timeout
 *   and no more, and is not called again while its previous call still hangs (it is reported
 *   failed, `still running since ...`).
 * - Concurrent {@link HealthChecker.check} calls share one run, and a finished report is reused
 *   for `cacheFor`, so a thousand probes cost one run of each check.
 * - {@link HealthChecker.shutdown} wires graceful shutdown: readiness answers 503 at once, then
 *   servers close, queues drain and `onShutdown` runs within a deadline.
 *
 * @example
 * ```ts
 * const health = new HealthChecker({ timeout: '500ms', cacheFor: '1s', version: '1.4.2' });
 * health
 *   .register('redis', redisCheck(redis))
 *   .register('postgres', pgCheck(pool))
 *   .register('jobs', queueCheck(jobs, { degradedAt: 0.5, unhealthyAt: 0.9 }), { critical: false });
 *
 * const report = await health.check();
 * if (!report.healthy) console.error(report.message);
 * ```
 */
export class HealthChecker {
  private readonly timeoutMs: number;
  private readonly cacheMs: number;
  private readonly meta: Pick<HealthReport, 'version' | 'serviceId' | 'description'>;
  private readonly entries: Entry[] = [];
  private inflight: Promise<HealthReport> | undefined;
  private cached: Promise<HealthReport> | undefined;
  private last: HealthReport | undefined;
  private lastAt = -Infinity;
  private graceful: GracefulShutdown | undefined;
  private stopping = false;
  private drainingNow = false;
  private closed = false;

  /**
   * @param options - see {@link HealthCheckerOptions}; validated here (`INVALID_ARGUMENT`).
   */
  constructor(options: HealthCheckerOptions = {}) {
    objectArgument(options, 'options');
    this.timeoutMs = optionalDuration(options.timeout, 'timeout', 500, { positive: true });
    this.cacheMs = optionalDuration(options.cacheFor, 'cacheFor', 1_000);
    this.meta = {};
    for (const field of ['version', 'serviceId', 'description'] as const) {
      const value = options[field];
      if (value === undefined) continue;
      if (typeof value !== 'string' || value.length === 0) throw invalidArgument(field, 'a non-empty string', value);
      this.meta[field] = value;
    }
  }

  /** How long a finished report is reused, in ms (the `cacheFor` option). */
  get cacheForMs(): number {
    return this.cacheMs;
  }

  /** The `version`, `serviceId` and `description` options, as set. */
  get metadata(): Readonly<Pick<HealthReport, 'version' | 'serviceId' | 'description'>> {
    return this.meta;
  }

  /** True from the moment a graceful shutdown starts: readiness answers 503 from then on. */
  get shuttingDown(): boolean {
    return this.stopping;
  }

  /**
   * True once the shutdown `delay` is over and the server(s) are closing: a request that still
   * arrives came over a kept-alive connection, and {@link degradedHeaders} answers it 503.
   */
  get draining(): boolean {
    return this.drainingNow;
  }

  /** The names of the registered checks, in registration order. */
  get names(): string[] {
    return this.entries.map((entry) => entry.name);
  }

  /**
   * Adds a check. Returns the checker, so registrations chain.
   *
   * @param name - unique, non-empty, without `:` (it becomes the health+json key `name:measurement`).
   * @param check - `(signal) => ...`; see {@link HealthCheck} for what it may return.
   * @param options - see {@link RegisterOptions}.
   * @throws `INVALID_ARGUMENT` for a duplicate or malformed name, a non-function check or a bad option.
   * @example
   * ```ts
   * health.register('search', async (signal) => {
   *   const res = await fetch('http://search.internal/ping', { signal });
   *   return res.ok ? { status: 'pass' } : { status: 'fail', output: `HTTP ${res.status}` };
   * }, { critical: false, timeout: '300ms' });
   * ```
   */
  register(name: string, check: HealthCheck, options: RegisterOptions = {}): this {
    if (typeof name !== 'string' || name.length === 0 || name.includes(':') || name === '__proto__') {
      throw invalidArgument('name', 'a non-empty string without ":"', name);
    }
    if (this.entries.some((entry) => entry.name === name)) {
      throw invalidArgument('name', `a name not registered yet ("${name}" is)`, name);
    }
    if (typeof check !== 'function') throw invalidArgument('check', 'a function (signal) => result', check);
    objectArgument(options, 'options');
    if (options.critical !== undefined && typeof options.critical !== 'boolean') {
      throw invalidArgument('options.critical', 'a boolean', options.critical);
    }
    const timeoutMs = options.timeout === undefined ? this.timeoutMs : parseDuration(options.timeout, 'options.timeout', { positive: true });
    const kind = optionalText(options.kind, 'options.kind') ?? optionalText(check.kind, 'check.kind');
    const measurement = optionalText(options.measurement, 'options.measurement') ?? optionalText(check.measurement, 'check.measurement');
    if (measurement?.includes(':') === true) throw invalidArgument('options.measurement', 'a name without ":"', measurement);
    const componentId = optionalText(options.componentId, 'options.componentId');
    this.entries.push({
      name,
      check,
      critical: options.critical ?? true,
      timeoutMs,
      label: `health check "${name}"`,
      kind,
      measurement,
      componentId,
      running: undefined,
      runningSince: 0,
    });
    return this;
  }

  /**
   * Runs every check (or reuses a report younger than `cacheFor`, or joins a run in progress)
   * and resolves with the {@link HealthReport}. Never rejects because a check failed: failures
   * are in the report. Resolves within the longest check timeout, give or take a few ms.
   *
   * @throws `CLOSED` (as a rejection) after {@link HealthChecker.close}.
   * @example
   * ```ts
   * const { status, message } = await health.check();
   * ```
   */
  check(): Promise<HealthReport> {
    if (this.closed) return Promise.reject(new HeadroomError(ErrorCode.CLOSED, 'headroom: the health checker is closed', { status: 503 }));
    if (this.cached !== undefined && performance.now() - this.lastAt < this.cacheMs) return this.cached;
    if (this.inflight !== undefined) return this.inflight;
    const run = this.run();
    this.inflight = run;
    return run;
  }

  /**
   * The most recent report, without waiting; `undefined` before the first run finished. When
   * that report is older than `cacheFor` (and no run is in progress) a run starts in the
   * background, so the next call sees fresh results. Costs a clock read when the report is fresh:
   * this is what per-request middleware such as {@link degradedHeaders} uses.
   *
   * @example
   * ```ts
   * app.use((req, res, next) => (health.latest()?.status === 'unhealthy' ? res.status(503).end() : next()));
   * ```
   */
  latest(): HealthReport | undefined {
    if (!this.closed && this.inflight === undefined && performance.now() - this.lastAt >= this.cacheMs) {
      void this.check();
    }
    return this.last;
  }

  /**
   * Arms graceful shutdown (see {@link ShutdownOptions} for every step and default). On one of
   * `signals`: readiness answers 503 at once; after `delay` the server(s) stop accepting
   * connections and idle keep-alive connections are closed while in-flight requests finish; then
   * the queues drain; then `onShutdown` runs; the process exits with 0, or with 1 when the
   * `timeout` deadline had to force it. Nothing calls `process.exit` unless a signal listed here
   * started the shutdown. {@link HealthChecker.close} removes the signal listeners.
   *
   * @throws `INVALID_ARGUMENT` for a bad option, or when shutdown was already armed.
   * @example
   * ```ts
   * const server = app.listen(3000);
   * health.shutdown({ server, queues: [jobs], delay: '5s', timeout: '25s', onShutdown: () => pool.end() });
   * ```
   */
  shutdown(options: ShutdownOptions = {}): this {
    if (this.graceful !== undefined) throw invalidArgument('shutdown', 'called once per checker', 'a second call');
    const plan = parseShutdownOptions(options);
    if (this.closed) throw new HeadroomError(ErrorCode.CLOSED, 'headroom: the health checker is closed');
    this.graceful = new GracefulShutdown(plan, this.shutdownHooks());
    this.graceful.arm();
    return this;
  }

  /**
   * Starts the shutdown sequence now, as a signal would, but never exits the process: resolves
   * with how it went. Without a prior {@link HealthChecker.shutdown} call it only turns
   * readiness to 503 (default delay 0 here) and closes the checker. Later calls share the run.
   *
   * @example
   * ```ts
   * const { forced } = await health.startShutdown();
   * ```
   */
  startShutdown(): Promise<ShutdownResult> {
    this.graceful ??= new GracefulShutdown(parseShutdownOptions({ signals: [], delay: 0 }), this.shutdownHooks());
    return this.graceful.start();
  }

  /**
   * Releases everything the checker holds: removes the shutdown signal listeners and calls
   * `close()` on checks that have one (the event-loop histogram of {@link eventLoopCheck} is
   * disabled). Later {@link HealthChecker.check} calls reject with `CLOSED`. Idempotent; it does
   * not stop a shutdown in progress.
   *
   * @example
   * ```ts
   * process.once('SIGTERM', () => health.close()); // or in a test's afterAll
   * ```
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.graceful?.disarm();
    for (const entry of this.entries) {
      try {
        entry.check.close?.();
      } catch {
        // Releasing one check's resources must not keep the others from being released.
      }
    }
  }

  private shutdownHooks(): ShutdownHooks {
    return {
      begin: () => {
        this.stopping = true;
      },
      drain: () => {
        this.drainingNow = true;
      },
      end: () => this.close(),
    };
  }

  private async run(): Promise<HealthReport> {
    const started = performance.now();
    const entries = this.entries.slice();
    let reports: CheckReport[];
    try {
      reports = await Promise.all(entries.map((entry) => this.runOne(entry)));
    } finally {
      this.inflight = undefined;
    }
    const checks: Record<string, CheckReport> = {};
    let criticalFail = false;
    let degraded = false;
    const problems: string[] = [];
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i] as Entry;
      const report = reports[i] as CheckReport;
      checks[entry.name] = report;
      if (report.status === 'pass') continue;
      if (report.status === 'fail' && entry.critical) criticalFail = true;
      else degraded = true;
      problems.push(`${entry.name} ${report.status === 'fail' ? 'failed' : 'warned'}${report.status === 'fail' && entry.critical ? ' (critical)' : ''}`);
    }
    const status: HealthStatus = criticalFail ? 'unhealthy' : degraded ? 'degraded' : 'healthy';
    const report: HealthReport = {
      status,
      healthy: status !== 'unhealthy',
      degraded: status === 'degraded',
      message:
        problems.length === 0 ? (entries.length === 0 ? 'healthy: no checks registered' : 'healthy: all checks pass') : `${status}: ${problems.join(', ')}`,
      checks,
      durationMs: round(performance.now() - started),
      timestamp: new Date().toISOString(),
      ...this.meta,
    };
    this.last = report;
    this.lastAt = performance.now();
    this.cached = Promise.resolve(report);
    return report;
  }

  private runOne(entry: Entry): Promise<CheckReport> {
    if (entry.running !== undefined) {
      // Calling it again would pile a second hanging call on the first (another connection,
      // another socket): report the hang instead until the first call settles.
      return Promise.resolve(
        this.entryReport(
          entry,
          { status: 'fail', output: `still running since ${new Date(entry.runningSince).toISOString()} (timeout ${entry.timeoutMs} ms)` },
          0,
        ),
      );
    }
    const started = performance.now();
    return withTimeout((signal) => this.invoke(entry, signal), entry.timeoutMs, { name: entry.label }).then(
      (value) => this.entryReport(entry, normalize(value), performance.now() - started),
      (err: unknown) => this.entryReport(entry, failure(err, entry), performance.now() - started),
    );
  }

  private invoke(entry: Entry, signal: AbortSignal): unknown {
    const out: unknown = entry.check(signal);
    if ((typeof out === 'object' && out !== null) || typeof out === 'function') {
      if (typeof (out as PromiseLike<unknown>).then === 'function') {
        const pending = Promise.resolve(out as PromiseLike<unknown>);
        entry.running = pending;
        entry.runningSince = Date.now();
        const settle = (): void => {
          if (entry.running === pending) entry.running = undefined;
        };
        pending.then(settle, settle);
        return pending;
      }
    }
    return out;
  }

  private entryReport(entry: Entry, result: CheckResult, durationMs: number): CheckReport {
    const report: CheckReport = { status: result.status, durationMs: round(durationMs), critical: entry.critical, time: new Date().toISOString() };
    if (result.output !== undefined && result.status !== 'pass') report.output = result.output;
    if (result.observedValue !== undefined) report.observedValue = result.observedValue;
    if (result.observedUnit !== undefined) report.observedUnit = result.observedUnit;
    if (entry.kind !== undefined) report.kind = entry.kind;
    if (entry.measurement !== undefined) report.measurement = entry.measurement;
    if (entry.componentId !== undefined) report.componentId = entry.componentId;
    return report;
  }
}

function optionalText(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0) throw invalidArgument(name, 'a non-empty string', value);
  return value;
}

/**
 * Turns what a check resolved with into a {@link CheckResult}: nothing or `true` pass, `false`
 * fails, a `{ status }` object is taken as is, and any other value (a query result, a PONG)
 * means the check resolved, hence passed.
 */
function normalize(value: unknown): CheckResult {
  if (value === false) return { status: 'fail', output: 'check returned false' };
  if (typeof value !== 'object' || value === null) return { status: 'pass' };
  const status = (value as { status?: unknown }).status;
  if (typeof status !== 'string') return { status: 'pass' };
  if (!STATUSES.has(status)) return { status: 'fail', output: `check returned an unknown status ${JSON.stringify(status).slice(0, 40)}` };
  const raw = value as CheckResult;
  const result: CheckResult = { status: status as CheckStatus };
  const observed = raw.observedValue;
  if (typeof observed === 'number' || typeof observed === 'string' || typeof observed === 'boolean') result.observedValue = observed;
  if (typeof raw.observedUnit === 'string') result.observedUnit = raw.observedUnit;
  if (raw.output !== undefined) result.output = String(raw.output);
  return result;
}

function failure(err: unknown, entry: Entry): CheckResult {
  if (err instanceof TimeoutError && err.operation === entry.label) return { status: 'fail', output: `timed out after ${entry.timeoutMs} ms` };
  const message = err instanceof Error ? err.message || err.name : String(err);
  return { status: 'fail', output: message.startsWith('headroom: ') ? message.slice(10) : message };
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
