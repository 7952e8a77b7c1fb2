import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import S3rver from 's3rver';

export interface EmbeddedS3 {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  close(): Promise<void>;
}

/**
 * A real S3 HTTP server (s3rver) over a local folder, for the demo and tests where no MinIO or
 * AWS is configured. Port 0 picks a free one.
 */
export async function startEmbeddedS3(opts: {
  directory: string;
  port?: number;
}): Promise<EmbeddedS3> {
  await mkdir(opts.directory, { recursive: true });
  const server = new S3rver({
    port: opts.port ?? 0,
    address: '127.0.0.1',
    directory: opts.directory,
    silent: true,
    // s3rver's default credentials; any client must sign with them.
    configureBuckets: [],
  });
  const address = (await server.run()) as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    close: () => server.close(),
  };
}
