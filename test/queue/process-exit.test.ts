import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'headroom-queue-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const entry = resolve(import.meta.dirname, '../../src/queue/index.ts');

describe('TaskQueue: nothing outlives the work', () => {
  it('lets a process exit at once when its queue is idle, even with timeouts and signals in use', async () => {
    const file = join(dir, 'child.mts');
    writeFileSync(
      file,
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
    const result = await new Promise<{ code: number | null; afterDoneMs: number; output: string }>((resolvePromise, reject) => {
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
    expect(result.output).toContain('done');
    expect(result.code).toBe(0);
    // Deadlines were ten minutes away: a prompt exit shows no timer or listener was left behind.
    expect(result.afterDoneMs).toBeLessThan(2_000);
  });
});
