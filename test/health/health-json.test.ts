import { describe, expect, it } from 'vitest';
import { HealthChecker, healthJsonStatus, toHealthJson, type HealthCheck } from '../../src/health/index.js';

function timed(value: number, status: 'pass' | 'warn' | 'fail', output?: string): HealthCheck {
  const check: HealthCheck = () => ({ status, observedValue: value, observedUnit: 'ms', ...(output === undefined ? {} : { output }) });
  check.kind = 'datastore';
  check.measurement = 'responseTime';
  return check;
}

describe('toHealthJson', () => {
  it('writes the draft-inadarei-api-health-check document with checks keyed name:measurement', async () => {
    const health = new HealthChecker({ version: '2.0.1', serviceId: 'orders', description: 'order service' })
      .register('redis', timed(0.4, 'pass'), { componentId: 'redis-0' })
      .register('replica', timed(900, 'warn', 'replica lag'), { critical: false })
      .register('plain', () => true);
    const report = await health.check();
    health.close();
    const doc = toHealthJson(report);
    expect(doc).toEqual({
      status: 'warn',
      version: '2.0.1',
      serviceId: 'orders',
      description: 'order service',
      output: 'degraded: replica warned',
      checks: {
        'redis:responseTime': [
          { componentId: 'redis-0', componentType: 'datastore', observedValue: 0.4, observedUnit: 'ms', status: 'pass', time: report.checks.redis!.time },
        ],
        'replica:responseTime': [
          { componentType: 'datastore', observedValue: 900, observedUnit: 'ms', status: 'warn', time: report.checks.replica!.time, output: 'replica lag' },
        ],
        plain: [{ componentType: 'component', status: 'pass', time: report.checks.plain!.time }],
      },
    });
    // Field order follows the draft's examples.
    expect(Object.keys(doc.checks!['redis:responseTime']![0]!)).toEqual(['componentId', 'componentType', 'observedValue', 'observedUnit', 'status', 'time']);
  });

  it('omits output on pass, even when the check gave one', async () => {
    const health = new HealthChecker().register('db', () => ({ status: 'pass', output: 'all good, host db-7.internal' }));
    const doc = toHealthJson(await health.check());
    health.close();
    expect(doc.status).toBe('pass');
    expect(doc.output).toBeUndefined();
    expect(doc.checks?.db?.[0]?.output).toBeUndefined();
  });

  it('drops outputs, observed values and component ids in public detail', async () => {
    const health = new HealthChecker().register('db', timed(3, 'fail', 'connect ECONNREFUSED 10.0.0.7:5432'), { componentId: 'db-primary' });
    const doc = toHealthJson(await health.check(), { detail: 'public' });
    health.close();
    expect(doc).toEqual({ status: 'fail', checks: { 'db:responseTime': [{ componentType: 'datastore', status: 'fail', time: expect.any(String) }] } });
    expect(JSON.stringify(doc)).not.toMatch(/10\.0\.0\.7|db-primary|ECONNREFUSED/);
  });

  it('maps healthy, degraded and unhealthy to pass, warn and fail', () => {
    expect(healthJsonStatus('healthy')).toBe('pass');
    expect(healthJsonStatus('degraded')).toBe('warn');
    expect(healthJsonStatus('unhealthy')).toBe('fail');
  });
});
