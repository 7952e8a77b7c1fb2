/**
 * One HTTP request on a keep-alive connection, the body in one buffer: the transport of
 * S3Store's presigned fast path. The SDK's middleware stack costs a few milliseconds of CPU per
 * request (measured in docs/BENCHMARKS.md, "Throughput"), which is most of a worker's S3 cost
 * for small objects; a presigned URL (two HMACs) and a plain request cost a tenth of that.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

const agents = {
  'http:': new HttpAgent({ keepAlive: true, maxSockets: 64 }),
  'https:': new HttpsAgent({ keepAlive: true, maxSockets: 64 }),
};

export interface FastResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Uint8Array;
  /** The response declared more than `maxBytes`: nothing was read. */
  tooLarge?: boolean;
}

/**
 * `method` on `url` with `body` (its length sent), resolving with the whole response. Stops
 * reading (and rejects) once the response says or delivers more than `maxBytes`.
 */
export function fastRequest(
  method: 'GET' | 'PUT',
  url: string,
  opts: {
    body?: Uint8Array;
    headers?: Record<string, string>;
    maxBytes?: number;
    timeoutMs?: number;
  } = {},
): Promise<FastResponse> {
  const u = new URL(url);
  const send = u.protocol === 'https:' ? httpsRequest : httpRequest;
  const agent = u.protocol === 'https:' ? agents['https:'] : agents['http:'];
  return new Promise((resolve, reject) => {
    const req = send(
      u,
      {
        method,
        agent,
        headers: {
          ...opts.headers,
          ...(opts.body ? { 'content-length': String(opts.body.byteLength) } : {}),
        },
        timeout: opts.timeoutMs ?? 60_000,
      },
      (res) => {
        const declared = Number(res.headers['content-length'] ?? Number.NaN);
        if (opts.maxBytes !== undefined && declared > opts.maxBytes) {
          res.destroy();
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: new Uint8Array(0),
            tooLarge: true,
          });
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          chunks.push(c);
          size += c.length;
          if (opts.maxBytes !== undefined && size > opts.maxBytes) {
            res.destroy(new Error(`response over ${opts.maxBytes} bytes`));
          }
        });
        res.on('error', reject);
        res.on('end', () => {
          // One buffer that owns its memory (it may be transferred to a thread).
          const body = new Uint8Array(size);
          let at = 0;
          for (const c of chunks) {
            body.set(c, at);
            at += c.length;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} timed out`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}
