import type { Emitter } from '../core/index.js';
import type { CacheEvents, CacheLayer } from './cache-events.js';

type StaleReason = CacheEvents['stale']['reason'];

/**
 * The events of one key space: each method builds its payload only when someone listens, so
 * an event nobody listens to costs one property check and no allocation.
 */
export class SpaceEvents {
  constructor(
    private readonly emitter: Emitter<CacheEvents>,
    /** Carried by every payload; `undefined` for the root. */
    private readonly namespace: string | undefined,
  ) {}

  hit(key: string, layer: CacheLayer): void {
    if (this.emitter.has('hit')) this.emitter.emit('hit', { key, namespace: this.namespace, layer });
  }

  miss(key: string): void {
    if (this.emitter.has('miss')) this.emitter.emit('miss', { key, namespace: this.namespace });
  }

  stale(key: string, reason: StaleReason): void {
    if (this.emitter.has('stale')) this.emitter.emit('stale', { key, namespace: this.namespace, reason });
  }

  refresh(key: string): void {
    if (this.emitter.has('refresh')) this.emitter.emit('refresh', { key, namespace: this.namespace });
  }

  error(error: unknown, operation: string, key: string | undefined): void {
    if (this.emitter.has('error')) this.emitter.emit('error', { error, operation, key, namespace: this.namespace });
  }
}
