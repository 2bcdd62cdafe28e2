/**
 * Runs every benchmark in bench/ one after another, each in its own process so that one
 * module's garbage and JIT state do not colour the next. `npm run bench -- cache queue` runs a
 * subset. Each file prints its own markdown tables: ratios against peers measured in the same run.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const ALL = ['timeout', 'queue', 'cache', 'percentiles', 'idempotency', 'resilience', 'ratelimit', 'http'];
const here = dirname(fileURLToPath(import.meta.url));
const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = wanted.filter((name) => !ALL.includes(name));
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; choose from ${ALL.join(', ')}`);
  process.exit(2);
}

const selected = wanted.length > 0 ? wanted : ALL;
let failed = 0;
if (selected.includes('idempotency')) {
  // bench/idempotency.ts measures the built package (what users run): build it first.
  const build = spawnSync('npm', ['run', 'build'], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (build.status !== 0) {
    console.error('npm run build failed; bench/idempotency.ts needs dist/');
    failed++;
  }
}
for (const name of selected) {
  console.log(`\n## bench/${name}.ts\n`);
  const result = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', join(here, `${name}.ts`)], {
    stdio: 'inherit',
  });
  if (result.status !== 0) {
    failed++;
    console.error(`bench/${name}.ts exited with ${result.status ?? result.signal}`);
  }
}
process.exit(failed === 0 ? 0 : 1);
