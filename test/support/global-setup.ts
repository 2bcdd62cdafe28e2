import { assertRedisInstalled } from './redis.js';

/** Fails the whole run early, with the install command, when redis-server is missing. */
export default function setup(): void {
  assertRedisInstalled();
}
