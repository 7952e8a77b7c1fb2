/**
 * Which ONNX Runtime execution provider this worker really has. The engine falls back to CPU
 * when the requested provider cannot start (no GPU, no CUDA libraries, a provider built for
 * another ONNX Runtime version); a GPU fleet silently running on CPU is slow and looks healthy.
 * So the worker opens one tiny session at start-up with the requested provider (in a child
 * process: provider-probe.ts), reports what it got (/healthz, the
 * camflow_worker_execution_provider metric), and refuses to start when the provider is required
 * (EXECUTION_PROVIDER=cuda! or REQUIRE_PROVIDER=true) and missing.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type Config, ConfigError } from '@camflow/config';

export interface ProviderStatus {
  requested: Config['EXECUTION_PROVIDER'];
  /** The provider sessions get (the requested one, or cpu after a fallback). */
  active: Config['EXECUTION_PROVIDER'];
  required: boolean;
  /** Why the requested provider is unavailable, when it is. */
  reason?: string;
}

/** The requested provider could not start and is required: one line, for the operator. */
export class ProviderUnavailableError extends ConfigError {
  override name = 'ProviderUnavailableError';
}

// ../dist from both src/ (tests run the sources) and dist/.
const PROBE = fileURLToPath(new URL('../dist/provider-probe.js', import.meta.url));

/** Probes the requested provider; throws ProviderUnavailableError when a required one is missing. */
export async function checkExecutionProvider(
  config: Pick<Config, 'EXECUTION_PROVIDER' | 'REQUIRE_PROVIDER'>,
): Promise<ProviderStatus> {
  const requested = config.EXECUTION_PROVIDER;
  const required = config.REQUIRE_PROVIDER;
  if (requested === 'cpu') return { requested, active: 'cpu', required };
  const { active, reason } = await probe(requested);
  if (active !== requested && required) {
    throw new ProviderUnavailableError(
      `EXECUTION_PROVIDER ${requested} is required but unavailable (${reason}); not starting`,
    );
  }
  return { requested, active, required, reason };
}

async function probe(
  provider: string,
): Promise<{ active: Config['EXECUTION_PROVIDER']; reason?: string }> {
  const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>(
    (resolve, reject) =>
      execFile(
        process.execPath,
        [PROBE, provider],
        { timeout: 120_000, maxBuffer: 1 << 20 },
        (err, stdout, stderr) => (err ? reject(err) : resolve({ stdout, stderr })),
      ),
  );
  const result = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as {
    active: Config['EXECUTION_PROVIDER'];
    reason?: string;
  };
  // ONNX Runtime's own line names the missing library: the most useful part of the reason.
  const native = stderr
    .split('\n')
    .map((l) => l.replaceAll(`${String.fromCharCode(27)}[1;31m`, ''))
    .map((l) => /with error: (.*)$/.exec(l)?.[1] ?? /\] (Failed .*)$/.exec(l)?.[1])
    .find(Boolean);
  const reason = [result.reason, native].filter(Boolean).join(': ') || undefined;
  return { active: result.active, reason };
}
