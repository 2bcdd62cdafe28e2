/** A listener of one event; its return value is ignored. */
export type Listener<T> = (payload: T) => void;

/** Removes the listener it was returned for. Calling it twice is harmless. */
export type Disposer = () => void;

/**
 * A small typed event emitter whose `on()` returns a disposer.
 *
 * Built for hot paths: check {@link Emitter.has} before building a payload, so an event nobody
 * listens to costs one property read and no allocation. A listener that throws does not break
 * the operation that emitted: the error is reported with `process.emitWarning`.
 *
 * @typeParam Events - maps each event name to its payload type.
 * @example
 * ```ts
 * const events = new Emitter<{ hit: { key: string } }>();
 * const off = events.on('hit', ({ key }) => console.log('hit', key));
 * if (events.has('hit')) events.emit('hit', { key: 'user:1' });
 * off();
 * ```
 */
export class Emitter<Events extends object> {
  private readonly listeners: { [K in keyof Events]?: Listener<Events[K]>[] } = {};

  /**
   * Adds `listener` for `event` and returns a function that removes it.
   *
   * @example
   * ```ts
   * const off = cache.on('error', (e) => log.warn(e));
   * ```
   */
  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): Disposer {
    if (typeof listener !== 'function') {
      throw new TypeError(`headroom: listener for "${String(event)}" must be a function`);
    }
    const list = this.listeners[event];
    // Copy-on-write, so an emit in progress keeps iterating the list it started with.
    this.listeners[event] = list === undefined ? [listener] : [...list, listener];
    let active = true;
    return () => {
      if (!active) return;
      active = false;
      this.off(event, listener);
    };
  }

  /**
   * Removes `listener` from `event` (one registration of it).
   *
   * @example
   * ```ts
   * events.off('hit', onHit);
   * ```
   */
  off<K extends keyof Events>(event: K, listener: Listener<Events[K]>): void {
    const list = this.listeners[event];
    if (list === undefined) return;
    const index = list.indexOf(listener);
    if (index === -1) return;
    if (list.length === 1) delete this.listeners[event];
    else this.listeners[event] = [...list.slice(0, index), ...list.slice(index + 1)];
  }

  /**
   * True when at least one listener waits for `event`. Check it before building a payload.
   *
   * @example
   * ```ts
   * if (events.has('slow')) events.emit('slow', { key, ms: 1200 });
   * ```
   */
  has(event: keyof Events): boolean {
    return this.listeners[event] !== undefined;
  }

  /**
   * Calls every listener of `event` with `payload`, synchronously, in the order they were added.
   *
   * @example
   * ```ts
   * events.emit('hit', { key });
   * ```
   */
  emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    const list = this.listeners[event];
    if (list === undefined) return;
    for (let i = 0; i < list.length; i++) {
      try {
        (list[i] as Listener<Events[K]>)(payload);
      } catch (err) {
        process.emitWarning(`headroom: a listener of "${String(event)}" threw: ${err instanceof Error ? err.message : String(err)}`, {
          code: 'HEADROOM_LISTENER_ERROR',
          detail: err instanceof Error ? err.stack : undefined,
        });
      }
    }
  }

  /**
   * Removes every listener, of one event or of all.
   *
   * @example
   * ```ts
   * events.clear(); // on close()
   * ```
   */
  clear(event?: keyof Events): void {
    if (event === undefined) {
      for (const key of Object.keys(this.listeners)) delete this.listeners[key as keyof Events];
    } else {
      delete this.listeners[event];
    }
  }
}
