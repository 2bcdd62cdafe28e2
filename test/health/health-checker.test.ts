import { afterEach, describe, expect, it } from 'vitest';
import { HealthChecker, isHeadroomError, type HealthCheck } from '../../src/health/index.js';

const never = (): Promise<void> => new Promise(() => {});
const checkers: HealthChecker[] = [];
function checker(options: ConstructorParameters<typeof HealthChecker>[0] = {}): HealthChecker {
  const health = new HealthChecker(options);
  checkers.push(health);
  return health;
}
afterEach(() => {
  for (const health of checkers.splice(0)) health.close();
});

function expectInvalid(fn: () => unknown, argument?: string): void {
  try {
    fn();
  } catch (err) {
    expect(isHeadroomError(err, 'INVALID_ARGUMENT')).toBe(true);
    if (argument !== undefined) expect((err as { argument: string }).argument).toBe(argument);
    return;
  }
  throw new Error('expected INVALID_ARGUMENT, nothing was thrown');
}

describe('HealthChecker: results and statuses', () => {
  it('reports healthy when every check passes, with each way of passing', async () => {
    const health = checker({ version: '1.2.3', serviceId: 'svc' })
      .register('void', async () => {})
      .register('true', () => true)
      .register('object', async () => ({ status: 'pass', observedValue: 3, observedUnit: 'ms' }));
    const report = await health.check();
    expect(report.status).toBe('healthy');
    expect(report.healthy).toBe(true);
    expect(report.degraded).toBe(false);
    expect(report.message).toBe('healthy: all checks pass');
    expect(Object.keys(report.checks)).toEqual(['void', 'true', 'object']);
    expect(report.checks.object).toMatchObject({ status: 'pass', observedValue: 3, observedUnit: 'ms', critical: true });
    expect(report.checks.void?.output).toBeUndefined();
    expect(report.version).toBe('1.2.3');
    expect(report.serviceId).toBe('svc');
    expect(Number.isNaN(Date.parse(report.timestamp))).toBe(false);
    expect(report.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('is unhealthy when a critical check fails, by false, by throwing, or by a fail result', async () => {
    for (const check of [
      () => false,
      async () => {
        throw new Error('connection refused');
      },
      () => {
        throw new Error('sync boom');
      },
      async () => ({ status: 'fail' as const, output: 'disk full' }),
    ] satisfies HealthCheck[]) {
      const health = checker()
        .register('ok', () => true)
        .register('db', check);
      const report = await health.check();
      expect(report.status).toBe('unhealthy');
      expect(report.healthy).toBe(false);
      expect(report.degraded).toBe(false);
      expect(report.checks.db?.status).toBe('fail');
      expect(report.checks.db?.output).toMatch(/false|connection refused|sync boom|disk full/);
      expect(report.message).toBe('unhealthy: db failed (critical)');
    }
  });

  it('is degraded when a non-critical check fails or any check warns', async () => {
    const failing = await checker()
      .register('db', () => true)
      .register('cache', () => false, { critical: false })
      .check();
    expect(failing.status).toBe('degraded');
    expect(failing.healthy).toBe(true);
    expect(failing.degraded).toBe(true);
    expect(failing.message).toBe('degraded: cache failed');

    const warning = await checker()
      .register('db', async () => ({ status: 'warn', output: 'replica lag 3 s' }))
      .check();
    expect(warning.status).toBe('degraded');
    expect(warning.checks.db).toMatchObject({ status: 'warn', output: 'replica lag 3 s', critical: true });
  });

  it('lets a critical failure win over degradations', async () => {
    const report = await checker()
      .register('queue', () => ({ status: 'warn' }))
      .register('cache', () => false, { critical: false })
      .register('db', () => false)
      .check();
    expect(report.status).toBe('unhealthy');
    expect(report.message).toBe('unhealthy: queue warned, cache failed, db failed (critical)');
  });

  it('treats any other resolved value as a pass and an unknown status string as a fail', async () => {
    const report = await checker()
      .register('rows', (async () => ({ rows: [{ '?column?': 1 }] })) as unknown as HealthCheck)
      .register('response', (async () => ({ status: 200 })) as unknown as HealthCheck)
      .register('typo', (async () => ({ status: 'warning' })) as unknown as HealthCheck)
      .check();
    expect(report.checks.rows?.status).toBe('pass');
    expect(report.checks.response?.status).toBe('pass');
    expect(report.checks.typo).toMatchObject({ status: 'fail', output: 'check returned an unknown status "warning"' });
  });

  it('reports healthy with no checks registered', async () => {
    const report = await checker().check();
    expect(report).toMatchObject({ status: 'healthy', checks: {}, message: 'healthy: no checks registered' });
  });

  it('carries kind, measurement and componentId from the check and the options', async () => {
    const check: HealthCheck = () => ({ status: 'pass', observedValue: 1, observedUnit: 'ms' });
    check.kind = 'datastore';
    check.measurement = 'responseTime';
    const report = await checker()
      .register('a', check)
      .register('b', check, { kind: 'system', measurement: 'uptime', componentId: 'node-1', critical: false })
      .check();
    expect(report.checks.a).toMatchObject({ kind: 'datastore', measurement: 'responseTime', critical: true });
    expect(report.checks.b).toMatchObject({ kind: 'system', measurement: 'uptime', componentId: 'node-1', critical: false });
  });
});

describe('HealthChecker: deadlines', () => {
  // The bound is tight for a shared 2-core machine; a retry absorbs a rare late timer.
  it('reports a never-resolving check as failed within its timeout + 20 ms', { retry: 2 }, async () => {
    const health = checker({ timeout: 100, cacheFor: 0 })
      .register('hang', never)
      .register('ok', () => true);
    const started = performance.now();
    const report = await health.check();
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(95);
    expect(elapsed).toBeLessThan(120);
    expect(report.status).toBe('unhealthy');
    expect(report.checks.hang).toMatchObject({ status: 'fail', output: 'timed out after 100 ms' });
    expect(report.checks.ok?.status).toBe('pass');
  });

  it('uses a per-check timeout over the checker default', async () => {
    const health = checker({ timeout: '5s' }).register('hang', never, { timeout: '50ms', critical: false });
    const started = performance.now();
    const report = await health.check();
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(report.checks.hang?.output).toBe('timed out after 50 ms');
    expect(report.status).toBe('degraded');
  });

  it('aborts the signal it gave the check when the deadline passes', async () => {
    let seen: AbortSignal | undefined;
    const health = checker({ timeout: 30 }).register('hang', (signal) => {
      seen = signal;
      return never();
    });
    await health.check();
    expect(seen?.aborted).toBe(true);
    expect(isHeadroomError(seen?.reason, 'OPERATION_TIMEOUT')).toBe(true);
  });

  it('does not call a hanging check again while its previous call is pending, and resumes once it settles', async () => {
    let calls = 0;
    let release: (() => void) | undefined;
    const health = checker({ timeout: 30, cacheFor: 0 }).register('stuck', () => {
      calls++;
      return new Promise<void>((resolve) => {
        release = resolve;
      });
    });
    const first = await health.check();
    expect(first.checks.stuck?.output).toBe('timed out after 30 ms');
    const second = await health.check();
    const third = await health.check();
    expect(calls).toBe(1);
    expect(second.checks.stuck?.status).toBe('fail');
    expect(second.checks.stuck?.output).toMatch(/^still running since \d{4}-\d\d-\d\dT.*\(timeout 30 ms\)$/);
    expect(second.checks.stuck?.durationMs).toBe(0);
    expect(third.checks.stuck?.output).toMatch(/^still running since/);

    release?.();
    await new Promise((resolve) => setImmediate(resolve));
    const fourth = health.check();
    release?.(); // the new call is a new promise; let it pass at once
    const report = await fourth;
    expect(calls).toBe(2);
    expect(report.checks.stuck?.status).toBe('pass');
  });
});

describe('HealthChecker: coalescing and caching', () => {
  it('shares one run among concurrent calls', async () => {
    let calls = 0;
    const health = checker({ cacheFor: 0 }).register('slow', async () => {
      calls++;
      await new Promise((resolve) => setTimeout(resolve, 20));
    });
    const reports = await Promise.all(Array.from({ length: 100 }, () => health.check()));
    expect(calls).toBe(1);
    expect(new Set(reports).size).toBe(1);
  });

  it('reuses a report for cacheFor, then runs the checks again', async () => {
    let calls = 0;
    const health = checker({ cacheFor: 150 }).register('count', () => {
      calls++;
    });
    const a = await health.check();
    const b = await health.check();
    expect(b).toBe(a);
    expect(calls).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const c = await health.check();
    expect(c).not.toBe(a);
    expect(calls).toBe(2);
  });

  it('latest() returns the last report without waiting and refreshes a stale one in the background', async () => {
    let calls = 0;
    const health = checker({ cacheFor: 50 }).register('count', async () => {
      calls++;
      await new Promise((resolve) => setTimeout(resolve, 10));
    });
    expect(health.latest()).toBeUndefined(); // starts the first run
    expect(calls).toBe(1);
    const first = await health.check(); // joins it
    expect(calls).toBe(1);
    expect(health.latest()).toBe(first);
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(health.latest()).toBe(first); // stale: returned as is, a run started
    expect(calls).toBe(2);
    const second = await health.check();
    expect(second).not.toBe(first);
    expect(health.latest()).toBe(second);
  });
});

describe('HealthChecker: bad input', () => {
  it('rejects bad constructor options with INVALID_ARGUMENT naming the option', () => {
    expectInvalid(() => new HealthChecker({ timeout: '5 minutes' as never }), 'timeout');
    expectInvalid(() => new HealthChecker({ timeout: 0 }), 'timeout');
    expectInvalid(() => new HealthChecker({ cacheFor: -1 }), 'cacheFor');
    expectInvalid(() => new HealthChecker({ version: 3 as never }), 'version');
    expectInvalid(() => new HealthChecker('fast' as never), 'options');
  });

  it('rejects duplicate names, malformed names, non-function checks and bad register options', () => {
    const health = checker().register('db', () => true);
    expectInvalid(() => health.register('db', () => true), 'name');
    expectInvalid(() => health.register('', () => true), 'name');
    expectInvalid(() => health.register('a:b', () => true), 'name');
    expectInvalid(() => health.register(42 as never, () => true), 'name');
    expectInvalid(() => health.register('x', 'SELECT 1' as never), 'check');
    expectInvalid(() => health.register('x', undefined as never), 'check');
    expectInvalid(() => health.register('x', () => true, { timeout: 'soon' as never }), 'options.timeout');
    expectInvalid(() => health.register('x', () => true, { timeout: 0 }), 'options.timeout');
    expectInvalid(() => health.register('x', () => true, { critical: 'yes' as never }), 'options.critical');
    expectInvalid(() => health.register('x', () => true, { kind: '' }), 'options.kind');
    expectInvalid(() => health.register('x', () => true, { measurement: 'a:b' }), 'options.measurement');
    expect(health.names).toEqual(['db']);
  });

  it('rejects check() with CLOSED after close()', async () => {
    const health = checker().register('db', () => true);
    health.close();
    await expect(health.check()).rejects.toMatchObject({ code: 'CLOSED' });
    expect(health.latest()).toBeUndefined();
  });
});
