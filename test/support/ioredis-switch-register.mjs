// `node --import ./test/support/ioredis-switch-register.mjs`: registers the resolve hook of
// ioredis-switch.mjs, so `ioredis` in this process means what HEADROOM_TEST_IOREDIS asks for.
import { register } from 'node:module';

register('./ioredis-switch.mjs', import.meta.url);
