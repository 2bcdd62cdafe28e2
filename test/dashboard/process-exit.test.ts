import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runScript } from '../support/child-script.js';

const dashboard = resolve(import.meta.dirname, '../../src/dashboard/index.ts');
const percentiles = resolve(import.meta.dirname, '../../src/percentiles/index.ts');

describe('dashboard: nothing outlives the work', () => {
  it('lets a process exit by itself with alert rules evaluating and a dashboard built, none closed', async () => {
    const result = await runScript(
      `import { alertRules, dashboardHandler } from ${JSON.stringify(dashboard)};
import { PercentileTracker } from ${JSON.stringify(percentiles)};
const tracker = new PercentileTracker();
tracker.record('GET /x', 50);
const alerts = alertRules({
  percentiles: tracker,
  rules: [{ name: 'slow', severity: 'warning', p99Above: 10, for: '1h' }],
  webhook: { url: 'http://127.0.0.1:9/hook' },
  interval: '10ms',
});
dashboardHandler({ percentiles: tracker, alerts });
await new Promise((r) => setTimeout(r, 50));
console.log(alerts.evaluate().length === 0 ? 'done' : 'unexpected');
`,
    );
    expect(result.output).toContain('done');
    expect(result.code).toBe(0);
    // The rule was pending for an hour and evaluated every 10 ms: a prompt exit shows its timer is unref'd.
    expect(result.afterDoneMs).toBeLessThan(2_000);
  });
});
