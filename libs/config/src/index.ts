export { type Config, ConfigError, envSchema, loadConfig } from './env.js';
export { isPlaceholder } from './placeholders.js';
