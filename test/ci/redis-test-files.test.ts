/**
 * The ioredis 6 legs of CI run the test files that .ci/redis-test-files.mjs selects. A file it
 * missed would never run on ioredis 6, silently: check the selection against another sign of a
 * Redis test, a call that starts a throwaway server or Cluster, or a client built in the file.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../docs/entry-points.js';

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return testFiles(path);
    return entry.name.endsWith('.test.ts') ? [relative(repoRoot, path)] : [];
  });
}

describe('the test files the ioredis legs of CI run', () => {
  const selected = execFileSync(process.execPath, ['.ci/redis-test-files.mjs'], { cwd: repoRoot, encoding: 'utf8' }).trim().split('\n');

  it('include every test file that starts a Redis server or builds a client', () => {
    const talksToRedis = testFiles(join(repoRoot, 'test')).filter((file) =>
      /\b(startRedis|startCluster)\(|new (Redis|Cluster)\(|\.client\(/.test(readFileSync(join(repoRoot, file), 'utf8')),
    );
    expect(talksToRedis.length).toBeGreaterThan(10);
    expect(talksToRedis.filter((file) => !selected.includes(file))).toEqual([]);
  });

  it('leave out the files that never load ioredis', () => {
    expect(selected).toContain('test/cache/basics.test.ts'); // through test/cache/helpers.ts
    expect(selected).not.toContain('test/core/duration.test.ts');
    expect(selected).not.toContain('test/timeout/with-timeout.test.ts');
  });
});
