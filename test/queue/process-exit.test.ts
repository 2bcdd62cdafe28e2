import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runScript } from '../support/child-script.js';

const entry = resolve(import.meta.dirname, '../../src/queue/index.ts');

describe('TaskQueue: nothing outlives the work', () => {
  it('lets a process exit at once when its queue is idle, even with timeouts and signals in use', async () => {
    const result = await runScript(
      `import { TaskQueue } from ${JSON.stringify(entry)};
const queue = new TaskQueue({ concurrency: 4, maxSize: 100, timeout: '10m' });
const parent = new AbortController();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
await Promise.all(Array.from({ length: 40 }, (_, i) => queue.add((signal) => sleep(i % 3), { signal: parent.signal })));
await queue.add(() => sleep(30), { timeout: 5 }).catch(() => undefined);
await queue.onIdle();
console.log('done');
`,
    );
    expect(result.output).toContain('done');
    expect(result.code).toBe(0);
    // Deadlines were ten minutes away: a prompt exit shows no timer or listener was left behind.
    expect(result.afterDoneMs).toBeLessThan(2_000);
  });
});
