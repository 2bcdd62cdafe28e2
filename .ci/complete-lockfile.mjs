// Adds lockfile entries for rollup's per-platform optional packages that the registry this
// project is built against does not serve (it answers 404 for other platforms' binaries), so
// `npm install` leaves them out and `npm ci` then refuses the lockfile as out of sync. The
// entries carry os/cpu/libc, so npm skips them on platforms they are not for; on a platform they
// are for, npm fetches them from the registry as usual. Run after any `npm install`:
//   node .ci/complete-lockfile.mjs
import { readFileSync, writeFileSync } from 'node:fs';

const path = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(path, 'utf8'));
const packages = lock.packages;
let added = 0;
for (const [key, meta] of Object.entries(packages)) {
  if (!key.endsWith('node_modules/rollup')) continue;
  for (const [name, version] of Object.entries(meta.optionalDependencies ?? {})) {
    const entryKey = `${key.slice(0, -'rollup'.length)}${name}`;
    if (!name.startsWith('@rollup/rollup-') || packages[entryKey] !== undefined) continue;
    const [os, cpu, abi] = name.slice('@rollup/rollup-'.length).split('-');
    const entry = { version, cpu: [cpu], dev: meta.dev === true, license: 'MIT', optional: true, os: [os] };
    if (os === 'linux' && abi !== undefined) entry.libc = [abi.includes('musl') ? 'musl' : 'glibc'];
    packages[entryKey] = entry;
    added++;
  }
}
lock.packages = Object.fromEntries(Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : a > b ? 1 : 0)));
writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`complete-lockfile: added ${added} entries`);
