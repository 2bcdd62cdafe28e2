import { randomUUID } from 'node:crypto';
import { Emitter, invalidArgument } from '../core/index.js';
import type { BusMessage } from './bus.js';
import { BusLink } from './bus-link.js';
import { KeySpace } from './key-space.js';
import { L2 } from './l2.js';
import { resolveDefaults, resolveL1, type Resolved } from './options.js';
import type { BreakerState, CacheEvents, CacheRedis, CacheStats, L1Options, NamespaceOptions, CacheSerializer } from './types.js';

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
  defaults: Resolved;
}

/** State shared by the root cache and its namespaces: L2, bus, events, counters. */
export class CacheCore {
  readonly emitter = new Emitter<CacheEvents>();
  readonly instanceId = randomUUID();
  readonly prefix: string;
  readonly clone: boolean;
  readonly maxKeyLength: number;
  readonly serializer: CacheSerializer;
  readonly compressAbove: number;
  readonly tagRetention: number;
  readonly maxTrackedTags: number;
  readonly busDownL1Ttl: number;
  readonly l2: L2 | undefined;
  readonly bus: BusLink | undefined;
  readonly root: KeySpace;
  readonly controllers = new Set<AbortController>();
  /** True while a bus exists and is not connected: L1 entries are trusted for `busDownL1Ttl` only. */
  busDown: boolean;
  closed = false;

  l2Errors = 0;
  l2Timeouts = 0;
  lockAcquired = 0;
  lockWaited = 0;
  lockTimedOut = 0;

  private readonly namespaces = new Map<string, KeySpace>();
  private readonly namespaceOptions: Record<string, NamespaceOptions>;
  private readonly namespaceDefaults = new Map<string, { defaults: Resolved; l1: L1Options | false }>();
  private readonly l1: L1Options | false;
  private readonly l2TimeoutMs: number;
  private closing: Promise<void> | undefined;

  constructor(config: CoreConfig) {
    this.prefix = config.prefix;
    this.clone = config.clone;
    this.maxKeyLength = config.maxKeyLength;
    this.serializer = config.serializer;
    this.compressAbove = config.compressAbove;
    this.tagRetention = config.tagRetention;
    this.maxTrackedTags = config.maxTrackedTags;
    this.busDownL1Ttl = config.busDownL1Ttl;
    this.l1 = config.l1;
    this.l2TimeoutMs = config.l2TimeoutMs;
    this.namespaceOptions = config.namespaces;
    for (const [name, options] of Object.entries(config.namespaces)) {
      if (!NAMESPACE.test(name) || name === '_') throw invalidArgument(`namespaces.${name}`, 'named with 1-64 of A-Z a-z 0-9 _ . - (not "_")', name);
      if (options === null || typeof options !== 'object') throw invalidArgument(`namespaces.${name}`, 'an options object', options);
      this.namespaceDefaults.set(name, {
        defaults: resolveDefaults(options, `namespaces.${name}.`, config.defaults),
        l1: resolveL1(options.l1, `namespaces.${name}.l1`, config.l1),
      });
    }
    this.root = new KeySpace(this, undefined, config.defaults, config.l1);

    const redis = config.redis;
    if (redis !== undefined) {
      this.l2 = new L2(redis, config.l2TimeoutMs, config.breakerThreshold, config.breakerCooldownMs, {
        error: (error, operation, timedOut) => {
          if (timedOut) this.l2Timeouts++;
          else this.l2Errors++;
          if (this.emitter.has('error')) this.emitter.emit('error', { error, operation: `l2-${operation}`, key: undefined, namespace: undefined });
        },
        down: (error) => {
          if (this.emitter.has('l2-down')) this.emitter.emit('l2-down', { error });
        },
        up: () => {
          if (this.emitter.has('l2-up')) this.emitter.emit('l2-up', {});
        },
      });
      if (config.bus) {
        this.bus = new BusLink(
          {
            client: redis,
            l2: this.l2,
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
              for (const space of this.spaces()) space.tags.clear();
            },
            error: (error) => {
              if (this.emitter.has('error')) this.emitter.emit('error', { error, operation: 'bus', key: undefined, namespace: undefined });
            },
          },
        );
      }
    }
    this.busDown = this.bus !== undefined;
    this.root.updateFast();
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
    space = new KeySpace(this, name, configured?.defaults ?? this.root.defaults, configured?.l1 ?? this.l1);
    this.namespaces.set(name, space);
    return space;
  }

  /** Publishes on the bus (no-op without one); never rejects. */
  publish(message: BusMessage): Promise<void> {
    return this.bus === undefined ? RESOLVED : this.bus.publish(message);
  }

  private spacesOf(namespace: string | null | undefined): KeySpace[] {
    if (namespace === null || namespace === undefined) return [this.root];
    const space = this.namespaces.get(namespace);
    return space === undefined ? [] : [space];
  }

  private receive(message: BusMessage): void {
    if (this.closed) return;
    const keys = Array.isArray(message.k) ? message.k.filter((k): k is string => typeof k === 'string') : [];
    switch (message.o) {
      case 's':
      case 'd':
        for (const space of this.spacesOf(message.n)) space.dropLocal(keys);
        break;
      case 't':
        if (typeof message.at === 'number') for (const space of this.spacesOf(message.n)) space.applyTags(keys, message.at);
        break;
      case 'p':
        if (typeof message.p === 'string') for (const space of this.spacesOf(message.n)) space.dropPattern(message.p);
        break;
      case 'r':
        for (const space of this.spacesOf(message.n)) space.wakeLockWaiters(keys);
        break;
      case 'c':
        if (message.n === null) this.dropEverything();
        else for (const space of this.spacesOf(message.n)) space.dropAll();
        break;
      default:
        break;
    }
  }

  private setBusDown(down: boolean): void {
    this.busDown = down;
    for (const space of this.spaces()) space.updateFast();
  }

  private spaces(): KeySpace[] {
    return [this.root, ...this.namespaces.values()];
  }

  /** Empties every key space's L1. */
  dropEverything(): void {
    for (const space of this.spaces()) space.dropAll();
  }

  /** Counters of one key space, or of all (root). */
  stats(only: KeySpace | undefined): CacheStats {
    const spaces = only === undefined ? this.spaces() : [only];
    let l1Hits = 0;
    let l1Misses = 0;
    let size = 0;
    let l2Hits = 0;
    let l2Misses = 0;
    let staleServed = 0;
    let calls = 0;
    let errors = 0;
    let timeouts = 0;
    let coalesced = 0;
    let refreshes = 0;
    for (const s of spaces) {
      l1Hits += s.l1Hits;
      l1Misses += s.l1Misses;
      size += s.l1?.size ?? 0;
      l2Hits += s.l2Hits;
      l2Misses += s.l2Misses;
      staleServed += s.staleServed;
      calls += s.factoryCalls;
      errors += s.factoryErrors;
      timeouts += s.factoryTimeouts;
      coalesced += s.coalesced;
      refreshes += s.refreshes;
    }
    const lookups = l1Hits + l1Misses;
    return {
      l1: { hits: l1Hits, misses: l1Misses, size },
      l2: { hits: l2Hits, misses: l2Misses, errors: this.l2Errors, timeouts: this.l2Timeouts },
      hitRate: lookups === 0 ? 0 : (l1Hits + l2Hits) / lookups,
      staleServed,
      factory: { calls, errors, timeouts, coalesced },
      refreshes,
      // The cache never isolates its L2 breaker, so its state is one of BreakerState's three.
      breaker: { state: (this.l2?.breaker.state ?? 'closed') as BreakerState, opened: this.l2?.breaker.stats().opened ?? 0 },
      bus: {
        enabled: this.bus !== undefined,
        connected: this.bus !== undefined && !this.busDown,
        messagesIn: this.bus?.messagesIn ?? 0,
        messagesOut: this.bus?.messagesOut ?? 0,
        caughtUp: this.bus?.caughtUp ?? 0,
        resyncs: this.bus?.resyncs ?? 0,
        pending: this.bus?.pending ?? 0,
      },
      lock: { acquired: this.lockAcquired, waited: this.lockWaited, timedOut: this.lockTimedOut },
    };
  }

  /** Closes the cache: bus connection, timers, running factories' signals. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    this.closed = true;
    for (const space of this.spaces()) space.updateFast();
    for (const controller of this.controllers) controller.abort(new Error('headroom cache: closed'));
    this.controllers.clear();
    for (const space of this.spaces()) space.l1?.clear();
    this.l2?.close();
    await this.bus?.close(this.l2TimeoutMs);
    this.emitter.clear();
  }
}
