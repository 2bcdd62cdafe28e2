import { parseDuration, type Duration } from '../core/index.js';
import { resolveTags } from './options.js';
import type { FactoryContext } from './types.js';

/** The context a factory receives; records what the factory asked for. */
export class FactoryContextImpl<T> implements FactoryContext<T> {
  ttl: number | undefined;
  tags: readonly string[] | undefined;
  skipped = false;

  constructor(
    readonly key: string,
    readonly signal: AbortSignal,
    readonly stale: T | undefined,
  ) {}

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
