/** The specifier `ioredis` is replaced with under the test environment, or `undefined` for ioredis 5. */
export function ioredisTarget(env?: NodeJS.ProcessEnv): string | undefined;
