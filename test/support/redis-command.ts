/**
 * One Redis command over a raw socket, with a deadline: for the fault helpers, which must probe
 * servers that may be paused or dead without blocking the event loop (as `redis-cli` through
 * `spawnSync` would) and without leaving an ioredis client behind.
 */
import { createConnection } from 'node:net';

/** A RESP2 reply: simple and bulk strings, integers, arrays, `null`, or an `Error` for `-ERR`. */
export type RespReply = string | number | null | Error | RespReply[];

function encode(args: readonly string[]): string {
  let out = `*${args.length}\r\n`;
  for (const arg of args) out += `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`;
  return out;
}

/** Parses one reply from `buffer` at `offset`; `undefined` when it is not complete yet. */
function parse(buffer: Buffer, offset: number): { value: RespReply; next: number } | undefined {
  const lineEnd = buffer.indexOf('\r\n', offset);
  if (lineEnd < 0) return undefined;
  const type = String.fromCharCode(buffer[offset] as number);
  const line = buffer.toString('utf8', offset + 1, lineEnd);
  const next = lineEnd + 2;
  switch (type) {
    case '+':
      return { value: line, next };
    case '-':
      return { value: new Error(line), next };
    case ':':
      return { value: Number(line), next };
    case '$': {
      const length = Number(line);
      if (length < 0) return { value: null, next };
      if (buffer.length < next + length + 2) return undefined;
      return { value: buffer.toString('utf8', next, next + length), next: next + length + 2 };
    }
    case '*': {
      const count = Number(line);
      if (count < 0) return { value: null, next };
      const items: RespReply[] = [];
      let at = next;
      for (let i = 0; i < count; i++) {
        const item = parse(buffer, at);
        if (item === undefined) return undefined;
        items.push(item.value);
        at = item.next;
      }
      return { value: items, next: at };
    }
    default:
      throw new Error(`test support: unexpected RESP type ${JSON.stringify(type)}`);
  }
}

/**
 * Sends `args` to the Redis server on `port` and resolves with its reply, or rejects after
 * `timeoutMs` (a paused server) or on a connection error (a dead one). A `-ERR` reply resolves
 * as an `Error` value.
 */
export function redisCommand(port: number, args: readonly string[], timeoutMs = 1_000, host = '127.0.0.1'): Promise<RespReply> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host, port });
    let received = Buffer.alloc(0);
    const fail = (error: Error): void => {
      socket.destroy();
      reject(error);
    };
    socket.setTimeout(timeoutMs, () => fail(new Error(`test support: ${args.join(' ')} on port ${port} timed out after ${timeoutMs} ms`)));
    socket.on('error', fail);
    socket.on('connect', () => socket.write(encode(args)));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      let reply: ReturnType<typeof parse>;
      try {
        reply = parse(received, 0);
      } catch (error) {
        fail(error as Error);
        return;
      }
      if (reply === undefined) return;
      socket.destroy();
      resolve(reply.value);
    });
  });
}

/** Like {@link redisCommand} but resolves `undefined` instead of rejecting (for polling). */
export function tryRedisCommand(port: number, args: readonly string[], timeoutMs = 500): Promise<RespReply | undefined> {
  return redisCommand(port, args, timeoutMs).catch(() => undefined);
}
