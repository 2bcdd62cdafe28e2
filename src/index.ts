/**
 * headroom: performance and load-safety primitives for Node.js services. Every module is also
 * available on its own subpath (`headroom/timeout`, `headroom/queue`, `headroom/http`, ...), so a
 * service that needs one piece loads nothing else.
 *
 * @packageDocumentation
 */
export * from './core/index.js';
export * from './timeout/index.js';
