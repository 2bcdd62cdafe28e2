// Prints the test files that talk to Redis, one per line: those whose own imports, followed
// through the test folder, reach a file that loads an ioredis client (a value import of
// `ioredis`, not `import type`). The ioredis legs of .ci/run run these files: the other test
// files never load ioredis, so they would only repeat the main leg's run.
//
//   node .ci/redis-test-files.mjs          the files, relative to the repository
//   node .ci/redis-test-files.mjs --why    each file with the chain of imports that reaches ioredis
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const testDir = join(root, 'test');

/** Every .ts/.mts file under a folder. */
function sources(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return /\.m?ts$/.test(entry.name) ? [path] : [];
  });
}

// `import ... from '...'`, `export ... from '...'` and `import('...')`, with `import type` apart.
const IMPORT = /(?:^|[\s;])(import|export)(\s+type)?\s[^'";]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
/** A module name that means "an ioredis client": ioredis itself or an aliased major (ioredis6). */
const IOREDIS = /^ioredis\d*$/;

/** @type {Map<string, { loadsIoredis: boolean, imports: string[] }>} */
const graph = new Map();
for (const file of sources(testDir)) {
  const text = readFileSync(file, 'utf8');
  let loadsIoredis = false;
  const imports = [];
  for (const match of text.matchAll(IMPORT)) {
    const typeOnly = match[2] !== undefined;
    const specifier = match[3] ?? match[4];
    if (IOREDIS.test(specifier)) {
      if (!typeOnly) loadsIoredis = true;
    } else if (specifier.startsWith('.')) {
      // TypeScript sources are imported with .js names; the file on disk is .ts (or .mts).
      const target = resolve(dirname(file), specifier).replace(/\.js$/, '.ts').replace(/\.mjs$/, '.mts');
      imports.push(target);
    }
  }
  graph.set(file, { loadsIoredis, imports });
}

/** The chain of imports from `file` to a file that loads ioredis, or undefined. */
function chainToIoredis(file, seen = new Set()) {
  const node = graph.get(file);
  if (node === undefined || seen.has(file)) return undefined;
  seen.add(file);
  if (node.loadsIoredis) return [file];
  for (const target of node.imports) {
    const rest = chainToIoredis(target, seen);
    if (rest !== undefined) return [file, ...rest];
  }
  return undefined;
}

const why = process.argv.includes('--why');
const selected = [...graph.keys()]
  .filter((file) => file.endsWith('.test.ts'))
  .sort()
  .flatMap((file) => {
    const chain = chainToIoredis(file);
    return chain === undefined ? [] : [why ? chain.map((f) => relative(root, f)).join(' -> ') : relative(root, file)];
  });
if (selected.length === 0) {
  console.error('redis-test-files: no test file loads ioredis; the selection is broken');
  process.exit(1);
}
console.log(selected.join('\n'));
