import { integerOption, invalidArgument, objectArgument, parseDuration } from '../core/index.js';
import { TaskQueue } from '../queue/index.js';
import { withTimeout } from '../timeout/index.js';
import type { Alert, AlertWebhookOptions } from './alert-types.js';

/** One message to post. */
export interface WebhookMessage {
  status: 'firing' | 'resolved';
  alert: Alert;
}

/** Counters of the webhook. */
export interface WebhookStats {
  /** Messages posted (a 2xx answer). */
  delivered: number;
  /** Messages given up after their retries, or dropped because the queue was full or closed. */
  failed: number;
  /** Messages waiting or being posted now. */
  pending: number;
}

/**
 * Posts alert messages one at a time through a bounded {@link TaskQueue}: sending never waits
 * (a full queue drops the message and says so), each POST is bounded by `timeout`, a failed one
 * is retried `retries` times with a doubling pause. Nothing here runs on a request's path.
 *
 * @internal
 */
export class AlertWebhook {
  private readonly url: string;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly backoffMs: number;
  private readonly queue: TaskQueue;
  private delivered = 0;
  private failed = 0;

  constructor(
    options: AlertWebhookOptions,
    private readonly onFailure: (error: unknown, message: WebhookMessage) => void,
  ) {
    objectArgument(options, 'webhook');
    const url = options.url;
    if (!(url instanceof URL) && (typeof url !== 'string' || !URL.canParse(url))) {
      throw invalidArgument('webhook.url', 'an absolute http(s) URL', url);
    }
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw invalidArgument('webhook.url', 'an absolute http(s) URL', String(url));
    this.url = parsed.href;
    objectArgument(options.headers, 'webhook.headers');
    this.headers = { 'content-type': 'application/json', ...options.headers };
    this.timeoutMs = options.timeout === undefined ? 2_000 : parseDuration(options.timeout, 'webhook.timeout', { positive: true });
    this.retries = integerOption(options.retries, 'webhook.retries', 2, { max: 10 });
    this.backoffMs = options.backoff === undefined ? 500 : parseDuration(options.backoff, 'webhook.backoff');
    const maxQueued = integerOption(options.maxQueued, 'webhook.maxQueued', 100, { min: 1, max: 100_000 });
    this.queue = new TaskQueue({ concurrency: 1, maxSize: maxQueued, name: 'alert webhook' });
  }

  /** Queues `message`; returns at once. */
  send(message: WebhookMessage): void {
    const body = JSON.stringify(message);
    this.queue
      .add(({ signal }) => this.deliver(body, signal))
      .then(
        () => {
          this.delivered++;
        },
        (error: unknown) => {
          this.failed++;
          this.onFailure(error, message);
        },
      );
  }

  stats(): WebhookStats {
    return { delivered: this.delivered, failed: this.failed, pending: this.queue.size + this.queue.pending };
  }

  /** Drops the waiting messages and aborts the one being posted. */
  close(): Promise<void> {
    return this.queue.close({ drain: false });
  }

  private async deliver(body: string, signal: AbortSignal): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await withTimeout((bound) => this.post(body, bound), this.timeoutMs, { name: 'alert webhook POST', signal });
        return;
      } catch (error) {
        if (attempt >= this.retries || signal.aborted) throw error;
      }
      await pause(this.backoffMs * 2 ** attempt, signal);
    }
  }

  private async post(body: string, signal: AbortSignal): Promise<void> {
    const response = await fetch(this.url, { method: 'POST', headers: this.headers, body, signal, redirect: 'error' });
    // Read the answer to its end so the connection can be reused (bounded by the same deadline).
    await response.arrayBuffer();
    if (!response.ok) throw new Error(`headroom: alert webhook answered ${response.status}`);
  }
}

/** Waits `ms` (an unref'd timer), or rejects at once when `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    timer.unref();
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
}
