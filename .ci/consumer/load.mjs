// Loads every subpath export of the installed package with import(), and prints what each one
// exports; .ci/consumers.sh compares it with what require() gives (load.cjs).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const pkg = JSON.parse(readFileSync(require.resolve('headroom/package.json'), 'utf8'));
const out = {};
for (const subpath of Object.keys(pkg.exports)) {
  if (subpath === './package.json') continue;
  const name = subpath === '.' ? 'headroom' : `headroom/${subpath.slice(2)}`;
  const mod = await import(name);
  const names = Object.keys(mod).filter((key) => key !== 'default').sort();
  if (names.length === 0) throw new Error(`import('${name}') exports nothing`);
  out[name] = names;
}
process.stdout.write(`${JSON.stringify(out)}\n`);
