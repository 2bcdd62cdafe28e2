/**
 * All or nothing over parts that are each atomic on their own (one store, one Cluster slot) but
 * not together: every part takes at once (one round trip of latency), and when one refuses or
 * fails, the parts that took give it back (a second round trip, on that path only).
 *
 * Between the take and the refund, the units are held: a concurrent check of the same keys may be
 * refused for that moment (never allowed beyond the limit). A refund that fails leaves them taken
 * until they refill: stricter, never looser.
 */

function ignore(): void {}

/** One atomic part of a batch. @internal */
export interface AtomicPart {
  /** Takes the part's checks, all or none: resolves true when it took them, false when it refused. */
  take(): Promise<boolean>;
  /**
   * Gives back what a successful {@link AtomicPart.take} took; its answers then read as peeks.
   * Reports its own failures: a rejection here is ignored.
   */
  refund(): Promise<void>;
}

/**
 * Runs every part's take; undoes the ones that took when another refused or failed. Resolves
 * when every part took or the batch was refused; rejects with the first failure (after the
 * refunds).
 *
 * @internal
 */
export async function takeAllOrNothing(parts: readonly AtomicPart[]): Promise<void> {
  if (parts.length === 1) {
    await (parts[0] as AtomicPart).take();
    return;
  }
  const outcomes = await Promise.allSettled(parts.map((part) => part.take()));
  let failure: PromiseRejectedResult | undefined;
  let refused = false;
  for (const outcome of outcomes) {
    if (outcome.status === 'rejected') failure ??= outcome;
    else if (!outcome.value) refused = true;
  }
  if (failure === undefined && !refused) return;
  const refunds: Promise<void>[] = [];
  outcomes.forEach((outcome, i) => {
    if (outcome.status === 'fulfilled' && outcome.value) refunds.push((parts[i] as AtomicPart).refund().catch(ignore));
  });
  await Promise.all(refunds);
  if (failure !== undefined) throw failure.reason;
}
