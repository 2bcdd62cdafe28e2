import { invalidArgument, type HttpExchange } from '../core/index.js';

/** The media type of health+json documents. */
export const HEALTH_JSON = 'application/health+json';

/** Validates an optional `path` option (an absolute path, no query). */
export function pathOption(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !value.startsWith('/') || value.includes('?')) {
    throw invalidArgument('path', 'an absolute path such as "/ready"', value);
  }
  return value;
}

/**
 * Reads a flag from the request's query string (`?verbose`, `?verbose=1`; `?verbose=0` and
 * `?verbose=false` are off). The neutral exchange exposes the path without its query, so this
 * reads the raw request target an adapter may carry as `url`; without one the flag is off.
 */
export function queryFlag(exchange: HttpExchange, name: string): boolean {
  const url = (exchange as { readonly url?: unknown }).url;
  if (typeof url !== 'string') return false;
  const q = url.indexOf('?');
  if (q === -1) return false;
  const params = new URLSearchParams(url.slice(q + 1));
  const value = params.get(name);
  return value !== null && value !== '0' && value !== 'false';
}

/** Makes a string safe as an HTTP header value (printable ASCII, bounded length). */
export function headerSafe(text: string): string {
  const clean = text.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > 200 ? `${clean.slice(0, 197)}...` : clean;
}
