import { defineConfig } from 'tsup';

/** One entry per subpath export; keep in step with `exports` in package.json. */
export const entries = {
  index: 'src/index.ts',
  'timeout/index': 'src/timeout/index.ts',
  'queue/index': 'src/queue/index.ts',
  'cache/index': 'src/cache/index.ts',
  'percentiles/index': 'src/percentiles/index.ts',
  'idempotency/index': 'src/idempotency/index.ts',
  'health/index': 'src/health/index.ts',
  'resilience/index': 'src/resilience/index.ts',
  'ratelimit/index': 'src/ratelimit/index.ts',
  'http/index': 'src/http/index.ts',
  'dashboard/index': 'src/dashboard/index.ts',
};

export default defineConfig({
  entry: entries,
  format: ['esm', 'cjs'],
  // tsup's declaration build sets baseUrl, which TypeScript 6 flags as deprecated.
  dts: { compilerOptions: { ignoreDeprecations: '6.0', stripInternal: true } },
  sourcemap: true,
  clean: true,
  splitting: true,
  treeshake: true,
  target: 'node20',
  platform: 'node',
  outDir: 'dist',
});
