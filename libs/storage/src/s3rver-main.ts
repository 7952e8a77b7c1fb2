// The embedded S3 server's process: s3rver on 127.0.0.1 with the key guard in front.
// Usage: node --openssl-legacy-provider s3rver-main.js <directory> <port>
import { createRequire } from 'node:module';
import { s3rverGuard } from './s3rver-guard.js';

interface S3rverServer {
  middleware: unknown[];
  run(): Promise<unknown>;
  close(): Promise<unknown>;
}
type S3rverClass = new (opts: Record<string, unknown>) => S3rverServer;

const [directory, port] = process.argv.slice(2);
if (!directory || !port) {
  process.stderr.write('usage: s3rver-main.js <directory> <port>\n');
  process.exit(2);
}
const S3rver = createRequire(import.meta.url)('s3rver') as S3rverClass;
const server = new S3rver({ directory, address: '127.0.0.1', port: Number(port), silent: true });
// Koa composes its middleware when it starts listening: first in the list runs first.
server.middleware.unshift(s3rverGuard);
await server.run();
const stop = () => {
  server.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
