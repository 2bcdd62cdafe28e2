/**
 * The invalidation bus's wire format, and the one place that builds and reads it. Messages are
 * JSON objects with one-letter fields (they go to every instance, and into the catch-up log):
 * instances of different versions must keep reading each other's, so the letters stay.
 */

/** What a message asks the other instances to do (field `o`). */
export const BusOp = {
  /** Keys were set: drop their L1 copies. */
  set: 's',
  /** Keys were deleted: drop their L1 copies. */
  delete: 'd',
  /** Tags were invalidated at `at`. */
  tags: 't',
  /** Keys matching the glob `p` were deleted. */
  pattern: 'p',
  /** The namespace (or, with `n: null`, everything) was cleared. */
  clear: 'c',
  /** A lock holder finished these keys: wake its waiters (never logged). */
  lockReleased: 'r',
} as const;

/** One of the {@link BusOp} values. */
export type BusOp = (typeof BusOp)[keyof typeof BusOp];

/**
 * One message. Messages carry keys, never values. Build them with the functions below, never
 * by hand.
 */
export interface BusMessage {
  /** The publishing instance's id (each instance ignores its own). */
  i: string;
  /** The operation, see {@link BusOp}. */
  o: BusOp;
  /** Namespace, `null` for the root. */
  n: string | null;
  /** Keys (`s`, `d`, `r`) or tags (`t`). */
  k?: string[];
  /** Invalidation time of the tags (`t`), a µs stamp. */
  at?: number;
  /** Glob (`p`). */
  p?: string;
  /** The publisher's message counter (invalidations sent through the catch-up log). */
  u?: number;
  /** The message's number in the catch-up log, added by Redis when it is published. */
  q?: number;
}

/** Who publishes: an instance, for one key space. */
export interface MessageSender {
  readonly instanceId: string;
  /** The key space's namespace, `null` for the root. */
  readonly namespace: string | null;
}

/** A key space's link to the bus: who it is (for the messages it builds) and how it publishes. */
export interface SpacePublisher extends MessageSender {
  /** Publishes on the bus (a no-op without one); never rejects. */
  publish(message: BusMessage): Promise<void>;
}

/** `keys` were set, deleted, or released by a lock holder. */
export function keysMessage(from: MessageSender, op: typeof BusOp.set | typeof BusOp.delete | typeof BusOp.lockReleased, keys: string[]): BusMessage {
  return { i: from.instanceId, o: op, n: from.namespace, k: keys };
}

/** `tags` were invalidated at `at` (a µs stamp). */
export function tagsMessage(from: MessageSender, tags: string[], at: number): BusMessage {
  return { i: from.instanceId, o: BusOp.tags, n: from.namespace, k: tags, at };
}

/** Keys matching `pattern` were deleted. */
export function patternMessage(from: MessageSender, pattern: string): BusMessage {
  return { i: from.instanceId, o: BusOp.pattern, n: from.namespace, p: pattern };
}

/** The sender's namespace was cleared; from the root (`namespace: null`), every namespace. */
export function clearMessage(from: MessageSender): BusMessage {
  return { i: from.instanceId, o: BusOp.clear, n: from.namespace };
}

/** A message text as a {@link BusMessage}, or `undefined` when it is not a JSON object with an `i`. */
export function parseMessage(text: string): BusMessage | undefined {
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (message === null || typeof message !== 'object' || typeof (message as BusMessage).i !== 'string') return undefined;
  return message as BusMessage;
}

/** The keys of a received message, keeping only strings (it came from another process). */
export function keysOf(message: BusMessage): string[] {
  return Array.isArray(message.k) ? message.k.filter((k): k is string => typeof k === 'string') : [];
}
