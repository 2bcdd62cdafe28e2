import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runScript, type ScriptResult } from '../support/child-script.js';

const entry = resolve(import.meta.dirname, '../../src/timeout/index.ts');

/** Runs `body` in a fresh Node process with `withTimeout` imported; prints `done` at the end. */
function runChild(body: string): Promise<ScriptResult> {
  return runScript(`import { withTimeout } from ${JSON.stringify(entry)};\n${body}\nconsole.log('done');\n`);
}

describe('withTimeout: nothing outlives the call', () => {
  it('lets a process whose only work was settled withTimeout calls exit at once', async () => {
    const result = await runChild(`
const parent = new AbortController();
await withTimeout(Promise.resolve(1), 600_000);
await withTimeout(async (signal) => signal.aborted, '10m', { signal: parent.signal });
await withTimeout(Promise.reject(new Error('x')), 600_000, 'failing').catch(() => undefined);
await withTimeout(new Promise((r) => setTimeout(r, 20)), 600_000, { signal: parent.signal, fallback: 0 });
`);
    expect(result.output).toContain('done');
    expect(result.code).toBe(0);
    // The deadlines were ten minutes away; exiting within a couple of seconds proves no timer
    // or listener kept the event loop alive.
    expect(result.afterDoneMs).toBeLessThan(2_000);
  });

  it('keeps the process alive for a pending call until its deadline, then exits at once', async () => {
    const result = await runChild(`
const outcome = await withTimeout(new Promise(() => {}), 30, { fallback: 'fallback' });
if (outcome !== 'fallback') throw new Error('expected the fallback');
await withTimeout(new Promise((r) => setTimeout(r, 50)), 10).catch(() => undefined);
`);
    expect(result.output).toContain('done');
    expect(result.code).toBe(0);
    expect(result.afterDoneMs).toBeLessThan(2_000);
  });
});
