import { parseDuration, type Duration, type AbortHandle } from '../core/index.js';
import type { FactoryContext } from './cache.js';
import { resolveTags } from './entry-settings.js';

/** The context a factory receives; records what the factory asked for. */
export class FactoryContextImpl<T> implements FactoryContext<T> {
  ttl: number | undefined;
  tags: readonly string[] | undefined;
  skipped = false;

  constructor(
    readonly key: string,
    /** The run's abort handle: its signal is made only if the factory reads it. */
    private readonly abortHandle: AbortHandle,
    readonly stale: T | undefined,
  ) {}

  get signal(): AbortSignal {
    return this.abortHandle.signal;
  }

  setTtl(ttl: Duration): void {
    this.ttl = parseDuration(ttl, 'ttl', { positive: true });
  }

  setTags(tags: readonly string[]): void {
    this.tags = resolveTags(tags, 'tags') ?? [];
  }

  skip<V>(value?: V): V {
    this.skipped = true;
    return value as V;
  }
}
