// Loads every subpath export of the installed package with require(), and prints what each one
// exports; .ci/consumers.sh compares it with what import() gives (load.mjs).
const { readFileSync } = require('node:fs');
const pkg = JSON.parse(readFileSync(require.resolve('headroom/package.json'), 'utf8'));
const out = {};
for (const subpath of Object.keys(pkg.exports)) {
  if (subpath === './package.json') continue;
  const name = subpath === '.' ? 'headroom' : `headroom/${subpath.slice(2)}`;
  const mod = require(name);
  const names = Object.keys(mod).sort();
  if (names.length === 0) throw new Error(`require('${name}') exports nothing`);
  out[name] = names;
}
process.stdout.write(`${JSON.stringify(out)}\n`);
