import type { LevelList, QueuedTask } from './queued-task.js';

/** Distinct priority levels kept while empty, so alternating levels do not churn. */
const KEEP_EMPTY_LEVELS = 8;

/** The waiting tasks of one priority, oldest first (a list through the tasks' `prev`/`next`). */
export class PriorityLevel implements LevelList {
  head: QueuedTask | null = null;
  tail: QueuedTask | null = null;
  size = 0;
  constructor(readonly priority: number) {}
}

/**
 * The tasks waiting for a slot: one FIFO list per priority level, levels highest first. Adding,
 * taking the next and removing a cancelled task are O(1) (finding a new level's place is
 * O(levels), once per level).
 */
export class WaitingList {
  /** Tasks waiting, over every level. */
  size = 0;
  /** Priority 0, always present: the common case needs no lookup. */
  readonly defaultLevel = new PriorityLevel(0);
  /** Priority levels, highest first. */
  private readonly levels: PriorityLevel[] = [this.defaultLevel];

  /** The level of `priority`, made if there is none yet. */
  levelFor(priority: number): PriorityLevel {
    const levels = this.levels;
    let at = 0;
    for (; at < levels.length; at++) {
      const level = levels[at] as PriorityLevel;
      if (level.priority === priority) return level;
      if (level.priority < priority) break;
    }
    const level = new PriorityLevel(priority);
    levels.splice(at, 0, level);
    return level;
  }

  /** Appends `task` to `level`. */
  push(task: QueuedTask, level: PriorityLevel): void {
    task.level = level;
    const tail = level.tail;
    task.prev = tail;
    if (tail === null) level.head = task;
    else tail.next = task;
    level.tail = task;
    level.size++;
    this.size++;
  }

  /** Removes and returns the oldest task of the highest level that has one; only when `size > 0`. */
  shift(): QueuedTask {
    let level = this.defaultLevel;
    if (this.levels.length > 1) {
      for (const candidate of this.levels) {
        if (candidate.size > 0) {
          level = candidate;
          break;
        }
      }
    }
    const task = level.head as QueuedTask;
    this.remove(task);
    return task;
  }

  /** Removes a waiting `task` from its level. */
  remove(task: QueuedTask): void {
    const level = task.level as LevelList;
    const prev = task.prev;
    const next = task.next;
    if (prev === null) level.head = next;
    else prev.next = next;
    if (next === null) level.tail = prev;
    else next.prev = prev;
    task.prev = null;
    task.next = null;
    task.level = null;
    this.size--;
    if (--level.size === 0 && level !== this.defaultLevel && this.levels.length > KEEP_EMPTY_LEVELS) {
      this.levels.splice(this.levels.indexOf(level), 1);
    }
  }

  /** Removes every waiting task and returns them, in the order they would have run. */
  removeAll(): QueuedTask[] {
    const all: QueuedTask[] = [];
    while (this.size > 0) all.push(this.shift());
    return all;
  }
}
