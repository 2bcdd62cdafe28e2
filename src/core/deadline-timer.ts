import { performance } from 'node:perf_hooks';

/**
 * One deadline on headroom's shared timer: an object that is told, through
 * {@link DeadlineNode.onDeadline}, when its time has come. `withTimeout` calls and queued tasks
 * are their own nodes, so arming a deadline allocates nothing.
 *
 * @internal
 */
export interface DeadlineNode {
  /** When it is due, on the `performance.now()` clock. Maintained by the timer. */
  deadlineAt: number;
  /** Previous node of the same list. Maintained by the timer. */
  deadlinePrev: DeadlineNode | null;
  /** Next node of the same list. Maintained by the timer. */
  deadlineNext: DeadlineNode | null;
  /** The list holding it while armed, else `null`. Maintained by the timer. */
  deadlineList: DeadlineList | null;
  /** Called once when the deadline passes while the node is still armed; must not throw. */
  onDeadline(): void;
}

/**
 * The nodes armed with the same timeout (rounded up to the millisecond), oldest first. Since
 * they share a duration, appending keeps them ordered by deadline, as in Node's own timer
 * lists: arming, disarming and expiring are all O(1).
 *
 * @internal
 */
export interface DeadlineList {
  /** The timeout in whole milliseconds that its nodes share; its key in the map. */
  readonly key: number;
  /** Oldest node. */
  head: DeadlineNode | null;
  /** Newest node. */
  tail: DeadlineNode | null;
}

// Lists stay in the map while empty, so a steady workload with a few distinct timeouts never
// churns the map; past this many lists, a list is dropped as soon as it empties, so code that
// computes a different timeout for every call cannot grow the map.
const KEEP_EMPTY_LISTS = 16;
// setTimeout clamps longer delays to 1 ms; longer deadlines re-arm on the way.
const MAX_DELAY = 2_147_483_647;

const lists = new Map<number, DeadlineList>();
let timer: NodeJS.Timeout | undefined;
/** When the armed timer fires, on the performance.now() clock. */
let timerAt = Infinity;
let firing = false;
/** Nodes armed right now; the timer holds the process open only while this is above zero. */
let armedCount = 0;
/** The earliest deadline armed while firing, scheduled once the sweep is over. */
let armedWhileFiring = Infinity;

const performanceNow: () => number = performance.now.bind(performance);
/** The clock read by {@link now}: `performance.now()`, or a test clock's while one drives the timer. */
let readClock: () => number = performanceNow;
/** A test clock drives the timer: no Node timer is set, {@link fireDueDeadlines} sweeps instead. */
let manual = false;

/** The shared timer's clock, in milliseconds (`performance.now()` unless a test drives it). @internal */
export function now(): number {
  return readClock();
}

/**
 * Arms `node` to be told when `timeoutMs` have passed since `from` (default: now, on the
 * {@link now} clock; pass a reading the caller already has). The node must not be armed already.
 *
 * One `setTimeout` serves every armed node: it is set for the earliest deadline and re-armed
 * lazily when it fires, so arming and disarming never create or clear a Node timer in the
 * common case. It holds the process open only while a node is armed (a pending call still gets
 * its answer at its deadline) and is unref'd as soon as none is. Deadlines fire on time or
 * 1-2 ms late (setTimeout's millisecond resolution plus the event loop's own delay), never early.
 *
 * @internal
 */
export function armDeadline(node: DeadlineNode, timeoutMs: number, from: number = now()): void {
  const at = from + timeoutMs;
  node.deadlineAt = at;
  const key = Math.ceil(timeoutMs);
  let list = lists.get(key);
  if (list === undefined) {
    list = { key, head: null, tail: null };
    lists.set(key, list);
  }
  const tail = list.tail;
  node.deadlinePrev = tail;
  node.deadlineNext = null;
  node.deadlineList = list;
  if (tail === null) list.head = node;
  else tail.deadlineNext = node;
  list.tail = node;
  if (++armedCount === 1 && timer !== undefined) timer.ref();
  if (firing) {
    if (at < armedWhileFiring) armedWhileFiring = at;
  } else if (at < timerAt) {
    schedule(at);
  }
}

/**
 * Disarms `node` if it is armed (O(1)). The shared timer is left as it is: if nothing else is
 * armed it is unref'd, so it never holds the process, fires once more, finds nothing, and stops.
 *
 * @internal
 */
export function disarmDeadline(node: DeadlineNode): void {
  const list = node.deadlineList;
  if (list === null) return;
  const prev = node.deadlinePrev;
  const next = node.deadlineNext;
  if (prev === null) list.head = next;
  else prev.deadlineNext = next;
  if (next === null) list.tail = prev;
  else next.deadlinePrev = prev;
  node.deadlinePrev = null;
  node.deadlineNext = null;
  node.deadlineList = null;
  if (--armedCount === 0 && timer !== undefined) timer.unref();
  if (list.head === null && lists.size > KEEP_EMPTY_LISTS) lists.delete(list.key);
}

function schedule(at: number): void {
  if (timer !== undefined) clearTimeout(timer);
  if (manual) {
    timer = undefined;
    timerAt = at;
    return;
  }
  // Node's timers count whole milliseconds from a loop time that may lag performance.now() by up
  // to 1 ms; the extra millisecond saves a second, empty wake-up just before the deadline.
  const delay = Math.min(MAX_DELAY, Math.max(1, Math.ceil(at - now()) + 1));
  timer = setTimeout(onTimer, delay);
  if (armedCount === 0) timer.unref();
  timerAt = at;
}

function onTimer(): void {
  timer = undefined;
  timerAt = Infinity;
  firing = true;
  armedWhileFiring = Infinity;
  const t = now();
  let next = Infinity;
  try {
    for (const list of lists.values()) {
      let node = list.head;
      while (node !== null && node.deadlineAt <= t) {
        const after = node.deadlineNext;
        list.head = after;
        if (after === null) list.tail = null;
        else after.deadlinePrev = null;
        node.deadlineNext = null;
        node.deadlineList = null;
        armedCount--;
        try {
          node.onDeadline();
        } catch (err) {
          // A node's contract is not to throw; if one does, the sweep goes on and the error
          // surfaces as an uncaught exception, as it would have from its own setTimeout.
          queueMicrotask(() => {
            throw err;
          });
        }
        node = list.head;
      }
      if (node === null) {
        if (lists.size > KEEP_EMPTY_LISTS) lists.delete(list.key);
      } else if (node.deadlineAt < next) {
        next = node.deadlineAt;
      }
    }
  } finally {
    firing = false;
    if (armedWhileFiring < next) next = armedWhileFiring;
    // Nothing schedules while firing, so the timer is still unset here.
    if (next !== Infinity) schedule(next);
  }
}

/**
 * Hands the shared timer to `clock` (a test's), or gives it back to `performance.now()` when
 * `clock` is `undefined`. While a clock drives it, the timer sets no Node timer: deadlines fire
 * only when the test calls {@link fireDueDeadlines} after moving its clock. Deadlines armed at the
 * switch keep the time they had left, counted on the new clock.
 *
 * @internal
 */
export function driveDeadlinesWith(clock: { now(): number } | undefined): void {
  const before = now();
  if (timer !== undefined) clearTimeout(timer);
  timer = undefined;
  timerAt = Infinity;
  manual = clock !== undefined;
  readClock = clock === undefined ? performanceNow : () => clock.now();
  const shift = now() - before;
  let next = Infinity;
  for (const list of lists.values()) {
    for (let node = list.head; node !== null; node = node.deadlineNext) {
      node.deadlineAt += shift;
      if (node.deadlineAt < next) next = node.deadlineAt;
    }
  }
  if (next !== Infinity) schedule(next);
}

/**
 * While a test clock drives the timer ({@link driveDeadlinesWith}): if a deadline is due at the
 * clock's current time, makes one sweep, as the Node timer would, and returns `true`. The caller
 * then lets the promises run and calls again (a deadline may have been armed already due).
 *
 * @internal
 */
export function fireDueDeadlines(): boolean {
  if (!manual) throw new Error('headroom: fireDueDeadlines() needs a test clock driving the timer');
  if (timerAt > now()) return false;
  onTimer();
  return true;
}

/**
 * How many deadline lists and nodes, whether the shared timer is armed, and when it next sweeps
 * (`Infinity`: never); for tests.
 *
 * @internal
 */
export function deadlineTimerState(): { lists: number; armed: number; timerArmed: boolean; timerRefed: boolean; nextDueAt: number } {
  let armed = 0;
  for (const list of lists.values()) {
    for (let node = list.head; node !== null; node = node.deadlineNext) armed++;
  }
  if (armed !== armedCount) throw new Error(`headroom: deadline count drifted (${armed} listed, ${armedCount} counted)`);
  return { lists: lists.size, armed, timerArmed: timer !== undefined, timerRefed: timer?.hasRef() === true, nextDueAt: timerAt };
}
