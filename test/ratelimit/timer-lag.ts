/**
 * How late a plain timer fires on this machine right now: the share of a measured delay that is
 * the scheduler's (a loaded machine runs timers late), not the code's under test. A bound such
 * as "answered within storeTimeout + 20 ms" is checked against the code's share.
 */
export function timerLag(ms: number): Promise<number> {
  const started = performance.now();
  return new Promise((resolve) => setTimeout(() => resolve(Math.max(0, performance.now() - started - ms)), ms));
}
