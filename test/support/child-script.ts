/**
 * Runs a TypeScript module source in a fresh Node process (through tsx), for tests that check
 * what a process does on its own: exits when the work is done, survives a signal, and so on.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** What {@link runScript} saw. */
export interface ScriptResult {
  /** The exit code, `null` when a signal ended the process. */
  code: number | null;
  /** Milliseconds from the first `done` on stdout to the exit; `Infinity` without a `done`. */
  afterDoneMs: number;
  /** stdout and stderr, interleaved as they came. */
  output: string;
}

/**
 * Writes `source` to a temporary `.mts` file and runs it with `node --import tsx`, killing it
 * after `killAfterMs`. Print `done` from the script to measure how long the process lingers.
 */
export function runScript(source: string, killAfterMs = 15_000): Promise<ScriptResult> {
  const dir = mkdtempSync(join(tmpdir(), 'headroom-child-'));
  const file = join(dir, 'child.mts');
  writeFileSync(file, source);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let doneAt = 0;
    const killer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
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
      rmSync(dir, { recursive: true, force: true });
      resolve({ code, afterDoneMs: doneAt === 0 ? Infinity : performance.now() - doneAt, output });
    });
  });
}
