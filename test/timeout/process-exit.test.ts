import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'headroom-timeout-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const entry = resolve(import.meta.dirname, '../../src/timeout/index.ts');

/** Runs `body` in a fresh Node process; resolves with its exit code and the ms from "done" to exit. */
function runChild(body: string): Promise<{ code: number | null; afterDoneMs: number; output: string }> {
  const file = join(dir, `child-${Math.random().toString(36).slice(2)}.mts`);
  writeFileSync(file, `import { withTimeout } from ${JSON.stringify(entry)};\n${body}\nconsole.log('done');\n`);
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let doneAt = 0;
    const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (doneAt === 0 && output.includes('done')) doneAt = performance.now();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(killer);
      resolvePromise({ code, afterDoneMs: doneAt === 0 ? Infinity : performance.now() - doneAt, output });
    });
  });
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
