import type { Config } from '@camflow/config';
import type { EngineOptions } from '@camflow/engine';

/** Engine settings from the environment. */
export function engineOptions(config: Config): EngineOptions {
  return {
    executionProvider: config.EXECUTION_PROVIDER,
    intraOpThreads: config.CAMFLOW_INTRA_OP_THREADS,
  };
}
