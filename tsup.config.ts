import { defineConfig } from 'tsup';

/** One entry per subpath export; keep in step with `exports` in package.json. */
export const entries = {
  index: 'src/index.ts',
  'timeout/index': 'src/timeout/index.ts',
  'queue/index': 'src/queue/index.ts',
  'http/index': 'src/http/index.ts',
};

export default defineConfig({
  entry: entries,
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  splitting: true,
  treeshake: true,
  target: 'node20',
  platform: 'node',
  outDir: 'dist',
});
