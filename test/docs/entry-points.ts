/** The package's entry points, read from package.json `exports`, for the docs tests. */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** One import path and the source file that declares it. */
export interface EntryPoint {
  /** As users write it: `headroom`, `headroom/cache`. */
  importPath: string;
  /** Relative to the repository root: `src/cache/index.ts`. */
  source: string;
}

/** `"./cache"` with types at `./dist/cache/index.d.ts` is `headroom/cache`, from `src/cache/index.ts`. */
export function entryPoints(): EntryPoint[] {
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
    name: string;
    exports: Record<string, { import?: { types?: string } } | string>;
  };
  return Object.entries(pkg.exports).flatMap(([subpath, target]) => {
    const types = typeof target === 'object' ? target.import?.types : undefined;
    if (!types) return []; // "./package.json"
    return [
      {
        importPath: subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`,
        source: types.replace(/^\.\/dist\//, 'src/').replace(/\.d\.ts$/, '.ts'),
      },
    ];
  });
}
