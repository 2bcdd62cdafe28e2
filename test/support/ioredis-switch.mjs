// Which ioredis the test suite runs against, chosen by the environment:
//   HEADROOM_TEST_IOREDIS=6   ioredis 6 (the `ioredis6` dev dependency) instead of 5
//   HEADROOM_TEST_RESP=2      with ioredis 6, every client defaults to `protocol: 2`
// vitest.config.ts aliases `ioredis` for the suite itself; the resolve hook below, registered by
// ioredis-switch-register.mjs (which vitest.config.ts puts in NODE_OPTIONS), does the same for
// the child processes tests start, so a worker process uses the same client as its test.
/** The specifier `ioredis` is replaced with, or `undefined` to keep ioredis 5. */
export function ioredisTarget(env = process.env) {
  const major = env.HEADROOM_TEST_IOREDIS ?? '5';
  const resp = env.HEADROOM_TEST_RESP;
  if (major !== '5' && major !== '6') throw new Error(`HEADROOM_TEST_IOREDIS must be 5 or 6, not ${JSON.stringify(major)}`);
  if (resp !== undefined && resp !== '2' && resp !== '3') throw new Error(`HEADROOM_TEST_RESP must be 2 or 3, not ${JSON.stringify(resp)}`);
  if (major === '5') {
    if (resp === '3') throw new Error('HEADROOM_TEST_RESP=3 needs HEADROOM_TEST_IOREDIS=6 (ioredis 5 speaks RESP2 only)');
    return undefined;
  }
  return resp === '2' ? new URL('./ioredis-resp2.ts', import.meta.url).href : 'ioredis6';
}

/**
 * Node resolve hook (runs in the hooks thread): the bare `ioredis` goes to the target. Deep paths
 * (`ioredis/built/index.js`) are left alone, so a test can still reach ioredis 5 on purpose.
 */
export async function resolve(specifier, context, next) {
  const target = ioredisTarget();
  if (target !== undefined && specifier === 'ioredis') {
    // Resolved from here, so a script written to a temporary folder finds this project's copy.
    return next(target, { ...context, parentURL: import.meta.url });
  }
  return next(specifier, context);
}
