import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { ioredisTarget } from './test/support/ioredis-switch.mjs';

// HEADROOM_TEST_IOREDIS=6 runs the suite (src and tests) on ioredis 6, HEADROOM_TEST_RESP=2
// additionally on RESP2; see test/support/ioredis-switch.mjs.
const ioredis = ioredisTarget();
if (ioredis !== undefined) {
  // Child processes started by tests resolve `ioredis` the same way.
  const hook = fileURLToPath(new URL('./test/support/ioredis-switch-register.mjs', import.meta.url));
  process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --import ${JSON.stringify(hook)}`.trim();
}

export default defineConfig({
  resolve: {
    // Only the bare specifier: `ioredis/built/index.js` stays ioredis 5 (test/support/ioredis-copies.ts).
    alias: ioredis === undefined ? [] : [{ find: /^ioredis$/, replacement: ioredis.startsWith('file:') ? fileURLToPath(ioredis) : ioredis }],
  },
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 20_000,
    hookTimeout: 60_000,
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2,
  },
});
