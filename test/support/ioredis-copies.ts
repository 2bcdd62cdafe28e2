/**
 * Both ioredis majors by name, whatever HEADROOM_TEST_IOREDIS says: the switch replaces only the
 * bare `ioredis` specifier, so the deep path below stays the ioredis 5 copy.
 */
export { Cluster as Cluster5, Redis as Redis5 } from 'ioredis/built/index.js';
export { Cluster as Cluster6, Redis as Redis6 } from 'ioredis6';
