/**
 * `instanceof` across copies of headroom: a service that both `import`s and `require`s headroom
 * holds the ESM and the CommonJS build, each with its own error classes. The package is built
 * (the real tsup config, without declarations) into a folder of this repository, and a plain
 * Node process loads both builds and compares their errors.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Options } from 'tsup';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import config from '../../tsup.config.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
let outDir = '';

beforeAll(async () => {
  // Inside the repository, so the builds find their dependencies in its node_modules.
  outDir = mkdtempSync(join(root, 'node_modules', '.headroom-brand-'));
  await build({ ...(config as Options), outDir, dts: false, sourcemap: false, clean: false, silent: true });
}, 120_000);

afterAll(() => {
  if (outDir !== '') rmSync(outDir, { recursive: true, force: true });
});

/** Runs `source` (an ES module) with plain Node next to the builds; returns what it printed as JSON. */
function run(source: string): unknown {
  const file = join(outDir, 'check.mjs');
  writeFileSync(file, source);
  const child = spawnSync(process.execPath, [file], { encoding: 'utf8', timeout: 30_000 });
  if (child.status !== 0) throw new Error(`check failed (${child.status}): ${child.stderr}`);
  return JSON.parse(child.stdout);
}

const PRELUDE = `
import { createRequire } from 'node:module';
import * as esm from './index.js';
import * as esmTimeout from './timeout/index.js';
const cjs = createRequire(import.meta.url)('./index.cjs');
const isErrorClass = (value) => typeof value === 'function' && (value === esm.HeadroomError || value.prototype instanceof esm.HeadroomError);
`;

describe('headroom errors across the ESM and CommonJS builds', () => {
  it("every error class accepts the other build's instances with instanceof, both ways", () => {
    const results = run(`${PRELUDE}
      const results = {};
      for (const [name, value] of Object.entries(esm)) {
        if (!isErrorClass(value)) continue;
        const fromCjs = Object.create(cjs[name].prototype);
        const fromEsm = Object.create(value.prototype);
        results[name] = {
          twoClasses: cjs[name] !== value,
          esmAcceptsCjs: fromCjs instanceof value && fromCjs instanceof esm.HeadroomError,
          cjsAcceptsEsm: fromEsm instanceof cjs[name] && fromEsm instanceof cjs.HeadroomError,
        };
      }
      console.log(JSON.stringify(results));
    `) as Record<string, { twoClasses: boolean; esmAcceptsCjs: boolean; cjsAcceptsEsm: boolean }>;
    const names = Object.keys(results).sort();
    expect(names).toEqual(
      expect.arrayContaining([
        'BrokenCircuitError',
        'HeadroomError',
        'IdempotencyBodyTooLargeError',
        'IdempotencyInProgressError',
        'IdempotencyKeyReusedError',
        'IdempotencyLeaseLostError',
        'IdempotencyNotStoredError',
        'InvalidArgumentError',
        'QueueClosedError',
        'QueueFullError',
        'RateLimitedError',
        'TimeoutError',
      ]),
    );
    for (const name of names) expect({ name, ...results[name] }).toEqual({ name, twoClasses: true, esmAcceptsCjs: true, cjsAcceptsEsm: true });
  });

  it('a TimeoutError thrown by the CommonJS build is an ESM TimeoutError (root and subpath), and nothing else', () => {
    const result = run(`${PRELUDE}
      const error = await cjs.withTimeout(new Promise(() => {}), 5).catch((e) => e);
      const mismatch = Object.entries(esm).filter(([name, value]) => isErrorClass(value) && name !== 'TimeoutError' && name !== 'HeadroomError' && error instanceof value).map(([name]) => name);
      console.log(JSON.stringify({
        timeout: error instanceof esm.TimeoutError,
        subpath: error instanceof esmTimeout.TimeoutError,
        base: error instanceof esm.HeadroomError,
        isHeadroomError: esm.isHeadroomError(error, 'OPERATION_TIMEOUT'),
        timeoutMs: error.timeoutMs,
        mismatch,
      }));
    `);
    expect(result).toEqual({ timeout: true, subpath: true, base: true, isHeadroomError: true, timeoutMs: 5, mismatch: [] });
  });

  it('is not fooled by look-alikes, and checks your own subclasses by prototype', () => {
    const result = run(`${PRELUDE}
      class MyError extends esm.HeadroomError {}
      const mine = new MyError('CLOSED', 'mine');
      const lookalike = Object.assign(new Error('x'), { code: 'OPERATION_TIMEOUT', status: 504, name: 'TimeoutError' });
      console.log(JSON.stringify({
        plainError: new Error('x') instanceof esm.HeadroomError,
        lookalike: lookalike instanceof esm.TimeoutError || lookalike instanceof cjs.TimeoutError,
        primitive: 'TimeoutError' instanceof esm.TimeoutError,
        nullish: null instanceof esm.HeadroomError,
        mineIsMine: mine instanceof MyError,
        mineIsBase: mine instanceof esm.HeadroomError && mine instanceof cjs.HeadroomError,
        baseIsNotMine: new esm.HeadroomError('CLOSED', 'x') instanceof MyError,
        timeoutIsNotQueueFull: new cjs.TimeoutError(1) instanceof esm.QueueFullError,
      }));
    `);
    expect(result).toEqual({
      plainError: false,
      lookalike: false,
      primitive: false,
      nullish: false,
      mineIsMine: true,
      mineIsBase: true,
      baseIsNotMine: false,
      timeoutIsNotQueueFull: false,
    });
  });
});
