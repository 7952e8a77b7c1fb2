export { type Config, ConfigError, envSchema, loadConfig } from './env.js';
