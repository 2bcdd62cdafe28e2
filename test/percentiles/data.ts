/** Seeded heavy-tailed samples for accuracy tests (deterministic: mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Lognormal durations in ms (median `medianMs`, shape `sigma`), rounded to the microsecond. */
export function lognormal(n: number, seed: number, medianMs = 20, sigma = 1): number[] {
  const random = rng(seed);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const u1 = random() || 1e-12;
    const u2 = random();
    const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    out.push(Math.round(medianMs * Math.exp(sigma * z) * 1000) / 1000);
  }
  return out;
}

/** Pareto durations in ms (scale `minMs`, tail index `alpha`), rounded to the microsecond. */
export function pareto(n: number, seed: number, minMs = 2, alpha = 1.2): number[] {
  const random = rng(seed);
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(Math.round((minMs / Math.pow(1 - random(), 1 / alpha)) * 1000) / 1000);
  return out;
}

/** The exact percentile by sorting: the value at rank ceil(q * n) (1-based), hdr's definition. */
export function exactQuantile(sorted: readonly number[], q: number): number {
  const rank = Math.max(1, Math.ceil(q * sorted.length - 1e-9));
  return sorted[rank - 1] as number;
}

export function relativeError(actual: number, expected: number): number {
  return Math.abs(actual - expected) / expected;
}
