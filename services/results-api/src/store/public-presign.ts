import type { Config } from '@camflow/config';
import { type ObjectStore, S3Store } from '@camflow/storage';

/**
 * The store the results API uses, presigning for browsers. Inside a cluster the services reach
 * S3 at an internal address (`http://minio:9000`) that a browser opening a report cannot; with
 * S3_PUBLIC_ENDPOINT set, presigned URLs are signed for that origin instead (a SigV4 signature
 * covers the host), while reads and writes keep using the internal endpoint. Presigning makes
 * no request, so the public origin need not be reachable from the pod.
 */
export function withPublicPresign(
  store: ObjectStore,
  config: Pick<
    Config,
    | 'S3_PUBLIC_ENDPOINT'
    | 'S3_ENDPOINT'
    | 'S3_REGION'
    | 'S3_ACCESS_KEY_ID'
    | 'S3_SECRET_ACCESS_KEY'
    | 'S3_FORCE_PATH_STYLE'
  >,
): ObjectStore {
  if (!config.S3_PUBLIC_ENDPOINT) return store;
  const signer = S3Store.fromConfig({
    ...config,
    S3_ENDPOINT: config.S3_PUBLIC_ENDPOINT,
    // The internal endpoint decided the addressing; keep it for the public one.
    S3_FORCE_PATH_STYLE: config.S3_FORCE_PATH_STYLE ?? Boolean(config.S3_ENDPOINT),
  });
  return {
    get: (bucket, key, opts) => store.get(bucket, key, opts),
    getStream: (bucket, key) => store.getStream(bucket, key),
    head: (bucket, key) => store.head(bucket, key),
    put: (bucket, key, body, contentType) => store.put(bucket, key, body, contentType),
    list: (bucket, prefix, token, pageSize) => store.list(bucket, prefix, token, pageSize),
    presign: (bucket, key, expiresSeconds) => signer.presign(bucket, key, expiresSeconds),
    ensureBucket: (bucket) => store.ensureBucket(bucket),
    close: () => {
      signer.close();
      store.close();
    },
  };
}
