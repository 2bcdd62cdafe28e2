import type { CacheTime } from './clock.js';
import { randomUUID } from 'node:crypto';
import { Emitter, invalidArgument, type AbortHandle } from '../core/index.js';
import { BusLink } from './bus-link.js';
import { BusOp, keysOf, type BusMessage } from './bus-message.js';
import { cacheClosed } from './cache-errors.js';
import type { CacheEvents } from './cache-events.js';
import type { CacheRedis, CacheSerializer, L1Options, NamespaceOptions } from './cache-options.js';
import type { CacheStats } from './cache-stats.js';
import { CoreCounters, statsOf, type SpaceFigures } from './counters.js';
import { resolveDefaults, resolveL1, type EntrySettings } from './entry-settings.js';
import { KeySpace } from './key-space.js';
import { L2 } from './l2.js';
import type { CacheState, SharedSettings, SpaceContext } from './space-context.js';

const NAMESPACE = /^[A-Za-z0-9_.-]{1,64}$/;
const RESOLVED: Promise<void> = Promise.resolve();

/** Settings read once by `createCache`. */
export interface CoreConfig {
  prefix: string;
  l1: L1Options | false;
  redis: CacheRedis | undefined;
  l2TimeoutMs: number;
  breakerThreshold: number;
  breakerCooldownMs: number;
  directReads: boolean;
  bus: boolean;
  busDownL1Ttl: number;
  busHeartbeatMs: number;
  busLog: number | false;
  serializer: CacheSerializer;
  compressAbove: number;
  namespaces: Record<string, NamespaceOptions>;
  clone: boolean;
  maxKeyLength: number;
  tagRetention: number;
  maxTrackedTags: number;
  defaults: EntrySettings;
  time: CacheTime;
}

/**
 * What the root cache and its namespaces share: L2, the bus, events, cache-wide counters and
 * state. It makes the key spaces, applies what the bus brings to them, adds up their counters
 * and closes everything. Key spaces see it only as a {@link SpaceContext}.
 */
export class CacheCore implements SpaceContext, CacheState {
  readonly emitter = new Emitter<CacheEvents>();
  readonly instanceId = randomUUID();
  readonly settings: SharedSettings;
  readonly l2: L2 | undefined;
  readonly bus: BusLink | undefined;
  readonly hasBus: boolean;
  readonly root: KeySpace;
  readonly counters = new CoreCounters();
  readonly factories = new Set<AbortHandle>();
  /** True while a bus exists and is not connected: L1 entries are trusted for `busDownL1Ttl` only. */
  busDown: boolean;
  closed = false;

  private readonly namespaces = new Map<string, KeySpace>();
  private readonly namespaceDefaults = new Map<string, { defaults: EntrySettings; l1: L1Options | false }>();
  private readonly l1: L1Options | false;
  private readonly l2TimeoutMs: number;
  private closing: Promise<void> | undefined;

  constructor(config: CoreConfig) {
    this.settings = {
      prefix: config.prefix,
      clone: config.clone,
      maxKeyLength: config.maxKeyLength,
      codec: { serializer: config.serializer, compressAbove: config.compressAbove },
      tagRetention: config.tagRetention,
      maxTrackedTags: config.maxTrackedTags,
      busDownL1Ttl: config.busDownL1Ttl,
      time: config.time,
    };
    this.l1 = config.l1;
    this.l2TimeoutMs = config.l2TimeoutMs;
    for (const [name, options] of Object.entries(config.namespaces)) {
      if (!NAMESPACE.test(name) || name === '_') throw invalidArgument(`namespaces.${name}`, 'named with 1-64 of A-Z a-z 0-9 _ . - (not "_")', name);
      if (options === null || typeof options !== 'object') throw invalidArgument(`namespaces.${name}`, 'an options object', options);
      this.namespaceDefaults.set(name, {
        defaults: resolveDefaults(options, `namespaces.${name}.`, config.defaults),
        l1: resolveL1(options.l1, `namespaces.${name}.l1`, config.l1),
      });
    }

    const redis = config.redis;
    if (redis !== undefined) {
      this.l2 = new L2(
        redis,
        {
          timeoutMs: config.l2TimeoutMs,
          breakerThreshold: config.breakerThreshold,
          breakerCooldownMs: config.breakerCooldownMs,
          directReads: config.directReads,
        },
        {
          error: (error, operation, timedOut) => {
            if (timedOut) this.counters.l2Timeouts++;
            else this.counters.l2Errors++;
            if (this.emitter.has('error')) this.emitter.emit('error', { error, operation: `l2-${operation}`, key: undefined, namespace: undefined });
          },
          down: (error) => {
            if (this.emitter.has('l2-down')) this.emitter.emit('l2-down', { error });
          },
          up: () => {
            if (this.emitter.has('l2-up')) this.emitter.emit('l2-up', {});
          },
        },
      );
      if (config.bus) this.bus = this.openBus(redis, this.l2, config);
    }
    this.hasBus = this.bus !== undefined;
    this.busDown = this.hasBus;
    this.root = new KeySpace({ context: this, namespace: undefined, defaults: config.defaults, l1: config.l1 });
  }

  private openBus(redis: CacheRedis, l2: L2, config: CoreConfig): BusLink {
    return new BusLink(
      {
        client: redis,
        l2,
        prefix: config.prefix,
        instanceId: this.instanceId,
        heartbeatMs: config.busHeartbeatMs,
        logEntries: config.busLog,
        timeoutMs: config.l2TimeoutMs,
      },
      {
        apply: (message) => this.receive(message),
        up: ({ first, caughtUp, resynced }) => {
          this.setBusDown(false);
          if (!first && this.emitter.has('bus-up')) this.emitter.emit('bus-up', { caughtUp, resynced });
        },
        down: (reason) => {
          this.setBusDown(true);
          if (this.emitter.has('bus-down')) this.emitter.emit('bus-down', { reason });
        },
        resync: () => {
          this.dropEverything();
          for (const space of this.spaces()) space.forgetTagTimes();
        },
        error: (error) => {
          if (this.emitter.has('error')) this.emitter.emit('error', { error, operation: 'bus', key: undefined, namespace: undefined });
        },
      },
    );
  }

  /** The view of namespace `name`, created on first use. */
  namespace(name: string): KeySpace {
    if (this.closed) return this.root; // its methods reject with CLOSED
    let space = this.namespaces.get(name);
    if (space !== undefined) return space;
    if (typeof name !== 'string' || !NAMESPACE.test(name) || name === '_') {
      throw invalidArgument('name', 'a namespace name of 1-64 characters among A-Z a-z 0-9 _ . - (not "_")', name);
    }
    const configured = this.namespaceDefaults.get(name);
    space = new KeySpace({ context: this, namespace: name, defaults: configured?.defaults ?? this.root.defaults, l1: configured?.l1 ?? this.l1 });
    this.namespaces.set(name, space);
    return space;
  }

  /** Publishes on the bus (no-op without one); never rejects. */
  publish(message: BusMessage): Promise<void> {
    return this.bus === undefined ? RESOLVED : this.bus.publish(message);
  }

  /** Applies another instance's message (live, or caught up from the log) to the key spaces it names. */
  private receive(message: BusMessage): void {
    if (this.closed) return;
    const space = message.n === null || message.n === undefined ? this.root : this.namespaces.get(message.n);
    if (message.o === BusOp.clear && message.n === null) {
      this.dropEverything();
      return;
    }
    if (space === undefined) return;
    switch (message.o) {
      case BusOp.set:
      case BusOp.delete:
        space.dropKeys(keysOf(message));
        break;
      case BusOp.tags:
        if (typeof message.at === 'number') space.applyTags(keysOf(message), message.at);
        break;
      case BusOp.pattern:
        if (typeof message.p === 'string') space.dropPattern(message.p);
        break;
      case BusOp.lockReleased:
        space.wakeLockWaiters(keysOf(message));
        break;
      case BusOp.clear:
        space.dropAll();
        break;
      default:
        break;
    }
  }

  private setBusDown(down: boolean): void {
    this.busDown = down;
    for (const space of this.spaces()) space.trustChanged();
  }

  private spaces(): KeySpace[] {
    return [this.root, ...this.namespaces.values()];
  }

  /** Empties every key space's L1. */
  dropEverything(): void {
    for (const space of this.spaces()) space.dropAll();
  }

  /** Counters of one key space, or of all (root). */
  stats(only: SpaceFigures | undefined): CacheStats {
    return statsOf(only === undefined ? this.spaces() : [only], this);
  }

  /** Closes the cache: bus connection, timers, running factories' signals. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    this.closed = true;
    for (const space of this.spaces()) space.trustChanged();
    for (const running of this.factories) running.abort(cacheClosed());
    this.factories.clear();
    for (const space of this.spaces()) space.releaseL1();
    this.l2?.close();
    await this.bus?.close(this.l2TimeoutMs);
    this.emitter.clear();
  }

  /** The cache-wide state key spaces read (this object; see {@link CacheState}). */
  get state(): CacheState {
    return this;
  }
}
