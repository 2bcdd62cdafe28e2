/**
 * What the example apps read from the environment, with defaults for a laptop running Redis and
 * PostgreSQL locally. Each app prints the URL it listens on once it is ready.
 */
import type { Duration } from 'headroom';

export const config = {
  /** `PORT`: 0 picks a free port. */
  port: Number(process.env.PORT ?? 3000),
  host: process.env.HOST ?? '127.0.0.1',
  redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  databaseUrl: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
  /** `KEY_PREFIX`: every Redis key the app writes starts with it (cache, idempotency, rate limits). */
  keyPrefix: process.env.KEY_PREFIX ?? 'headroom-example:',
  /** `RATE_LIMIT`: requests a minute per caller. */
  rateLimit: Number(process.env.RATE_LIMIT ?? 120),
  /** `PRICING_URL`: the upstream behind GET /quote/:id; unset, the app starts a flaky stand-in. */
  pricingUrl: process.env.PRICING_URL || undefined,
  /** `DASHBOARD_TOKEN`: the dashboard answers `Authorization: Bearer <token>`; unset, nobody. */
  dashboardToken: process.env.DASHBOARD_TOKEN,
  /** `SHUTDOWN_DELAY`: how long readiness answers 503 before the server closes (see docs/health.md). */
  shutdownDelay: (process.env.SHUTDOWN_DELAY ?? '5s') as Duration, // checked by health.shutdown()
};

/** The line each app prints once it listens (the tests wait for it). */
export function listening(name: string, port: number): void {
  console.log(`${name} listening on http://${config.host}:${port}`);
  if (config.dashboardToken === undefined) console.log('  set DASHBOARD_TOKEN to open /dashboard');
}
