import { Deadline, settlers, type Settle } from '../core/index.js';
import type { Task, TaskContext } from './queue-types.js';

/** Where a queued task is in its life. */
export const WAITING = 0;
export const RUNNING = 1;
/** Its caller was answered (timeout, cancellation, close) but the task still runs and holds its slot. */
export const OVERRUNNING = 2;
export const SETTLED = 3;

/** The list of one priority level that a waiting task is linked into (`WaitingList` keeps them). */
export interface LevelList {
  head: QueuedTask | null;
  tail: QueuedTask | null;
  size: number;
  readonly priority: number;
}

/** What a task tells the queue that owns it: its deadline passed, or its caller's signal aborted. */
export interface TaskOwner {
  expire(task: QueuedTask): void;
  cancel(task: QueuedTask): void;
}

/**
 * One task from `add()` to settling. It is its own list node (waiting list, then running list),
 * its own deadline node on the shared timer, and its own `abort` listener on the caller's signal
 * (`handleEvent`), so a task costs this object, its context, the caller's promise and two
 * callbacks on the task's promise. Its AbortController is made only if the task reads its signal.
 */
export class QueuedTask extends Deadline {
  prev: QueuedTask | null = null;
  next: QueuedTask | null = null;
  /** The priority level it waits in; `null` once it left the waiting list. */
  level: LevelList | null = null;
  state = WAITING;
  /** Clock reading when it started waiting; 0 when it ran at once. */
  enqueuedAt = 0;
  startedAt = 0;
  /** Made on the first read of the task's signal: most tasks never read it. */
  controller: AbortController | undefined = undefined;
  /** True once the task's signal is aborted (or is to be born aborted, if not read yet). */
  aborted = false;
  abortReason: unknown = undefined;
  readonly resolve: Settle = settlers.resolve;
  readonly reject: Settle = settlers.reject;

  constructor(
    readonly owner: TaskOwner,
    readonly task: Task<unknown>,
    /** The caller's `options.signal`. */
    readonly callerSignal: AbortSignal | undefined,
    readonly timeoutMs: number,
  ) {
    super();
  }

  onDeadline(): void {
    this.owner.expire(this);
  }

  /** The caller's signal's `abort` listener. */
  handleEvent(): void {
    this.owner.cancel(this);
  }

  /** The task's own signal, made on first read (already aborted if the task was). */
  signal(): AbortSignal {
    let controller = this.controller;
    if (controller === undefined) {
      controller = new AbortController();
      this.controller = controller;
      if (this.aborted) controller.abort(this.abortReason);
    }
    return controller.signal;
  }

  /** Aborts the task's signal now, or at its first read if the task has not read it yet. */
  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.abortReason = reason;
    this.controller?.abort(reason);
  }

  /** Stops listening to the caller's signal. */
  unlisten(): void {
    if (this.callerSignal !== undefined) this.callerSignal.removeEventListener('abort', this);
  }
}

/** The {@link TaskContext} a task is called with: only its signal, read lazily, and nothing of the queue. */
export class QueuedTaskContext implements TaskContext {
  readonly #task: QueuedTask;

  constructor(task: QueuedTask) {
    this.#task = task;
  }

  get signal(): AbortSignal {
    return this.#task.signal();
  }
}
