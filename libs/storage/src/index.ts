export {
  type EmbeddedRedis,
  freePort,
  RedisUnavailableError,
  redisReachable,
  resolveRedis,
  startRedisServer,
} from './embedded-redis.js';
export { type EmbeddedS3, embeddedS3Env, startEmbeddedS3 } from './embedded-s3.js';
export type { ObjectInfo, ObjectStore } from './object-store.js';
export { createS3Client, type S3Settings, S3Store } from './s3-store.js';
