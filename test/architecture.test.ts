/**
 * The layout rules of GUIDE.md, checked on every run: no import cycles in src/ (type-only
 * imports included: a cycle of types is still two files that cannot be read apart), and a module
 * uses another only through that module's index.ts, so that modules depend on each other's public
 * surface and point one way.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const src = join(dirname(fileURLToPath(import.meta.url)), '..', 'src');

interface Import {
  /** The importing file, relative to src/ with forward slashes. */
  from: string;
  /** The imported file, likewise. */
  to: string;
}

/** Every .ts file below `dir`, relative to src/. */
function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [relative(src, path).split(sep).join('/')] : [];
  });
}

// `import ... from './x.js'`, `export ... from './x.js'`, `import './x.js'`, `import('./x.js')`:
// relative specifiers only (packages are not ours to order).
const SPECIFIER = /(?:\b(?:import|export)\b[^'";]*?\bfrom\s*|\bimport\s*\(?\s*)['"](\.{1,2}\/[^'"]+)['"]/g;

/** The relative imports of `file` (comments stripped first, so examples in TSDoc do not count). */
function importsOf(file: string, text: string): Import[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  return [...code.matchAll(SPECIFIER)].map((match) => {
    const target = resolve(dirname(join(src, file)), match[1] as string).replace(/\.js$/, '.ts');
    return { from: file, to: relative(src, target).split(sep).join('/') };
  });
}

/** The module a file belongs to: its first folder under src/, or '' for src/index.ts. */
function moduleOf(file: string): string {
  const slash = file.indexOf('/');
  return slash === -1 ? '' : file.slice(0, slash);
}

/** The cycles of a directed graph, each once, as the path that closes it. */
function cyclesOf(edges: ReadonlyMap<string, readonly string[]>): string[][] {
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const cycles: string[][] = [];
  const visit = (node: string): void => {
    state.set(node, 'open');
    path.push(node);
    for (const next of edges.get(node) ?? []) {
      if (state.get(next) === 'open') cycles.push([...path.slice(path.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    path.pop();
    state.set(node, 'done');
  };
  for (const node of [...edges.keys()].sort()) if (!state.has(node)) visit(node);
  return cycles;
}

const files = sourceFiles(src);
const imports = files.flatMap((file) => importsOf(file, readFileSync(join(src, file), 'utf8')));

describe('the layout of src/', () => {
  it('finds the imports it checks', () => {
    expect(files.length).toBeGreaterThan(50);
    expect(imports).toContainEqual({ from: 'queue/queue-core.ts', to: 'timeout/index.ts' });
    expect(imports.every(({ to }) => files.includes(to))).toBe(true);
  });

  it('has no import cycle between files', () => {
    const edges = new Map<string, string[]>(files.map((file) => [file, []]));
    for (const { from, to } of imports) edges.get(from)?.push(to);
    expect(cyclesOf(edges).map((cycle) => cycle.join(' -> '))).toEqual([]);
  });

  it('has no cycle between modules', () => {
    const edges = new Map<string, string[]>();
    for (const { from, to } of imports) {
      const [a, b] = [moduleOf(from), moduleOf(to)];
      if (a === b || a === '') continue;
      edges.set(a, [...new Set([...(edges.get(a) ?? []), b])]);
    }
    expect(cyclesOf(edges).map((cycle) => cycle.join(' -> '))).toEqual([]);
  });

  it("reaches another module only through that module's index.ts", () => {
    const around = imports.filter(({ from, to }) => moduleOf(from) !== moduleOf(to) && moduleOf(to) !== '' && to !== `${moduleOf(to)}/index.ts`);
    expect(around.map(({ from, to }) => `${from} -> ${to}`)).toEqual([]);
  });

  it('would see a cycle and a side door', () => {
    const cycle = new Map([
      ['a/x.ts', ['a/y.ts']],
      ['a/y.ts', ['b/index.ts']],
      ['b/index.ts', ['a/x.ts']],
    ]);
    expect(cyclesOf(cycle)).toEqual([['a/x.ts', 'a/y.ts', 'b/index.ts', 'a/x.ts']]);
    const parsed = importsOf('queue/example.ts', "import type { X } from '../cache/l2.js';\nexport { Y } from './y.js';\n// import { Z } from './z.js';");
    expect(parsed).toEqual([
      { from: 'queue/example.ts', to: 'cache/l2.ts' },
      { from: 'queue/example.ts', to: 'queue/y.ts' },
    ]);
  });
});
