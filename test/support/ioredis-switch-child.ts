// Child process of ioredis-switch.test.ts: prints which ioredis major `ioredis` resolves to here
// and the protocol its connection to 127.0.0.1:<argv[2]> negotiated.
import { Redis } from 'ioredis';
import { Redis as Redis6 } from 'ioredis6';

const client = new Redis({ port: Number(process.argv[2]), host: '127.0.0.1' });
const info = String(await client.call('CLIENT', 'INFO'));
const six = (Redis as unknown) === Redis6 || Redis.prototype instanceof Redis6;
console.log(JSON.stringify({ major: six ? 6 : 5, resp: Number(/ resp=(\d)/.exec(info)?.[1]) }));
client.disconnect();
