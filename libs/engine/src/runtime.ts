import ort from 'onnxruntime-node';

export type ExecutionProvider = 'cpu' | 'cuda' | 'webgpu';

/** Where and how ONNX Runtime runs. */
export interface RuntimeOptions {
  /** Default 'cpu'; others fall back to CPU with a warning when unavailable. */
  executionProvider?: ExecutionProvider;
  /** Threads inside one op (ORT default: one per core). */
  intraOpThreads?: number;
  interOpThreads?: number;
  /** Receives warnings (fallbacks); default writes to stderr. */
  logger?: { warn(message: string): void };
}

export interface Session {
  readonly session: ort.InferenceSession;
  /** The provider actually in use after any fallback. */
  readonly provider: ExecutionProvider;
}

const defaultLogger = { warn: (m: string) => process.stderr.write(`camflow: warning: ${m}\n`) };

/** Creates an ORT session from model bytes; nothing is written to disk. */
export async function createSession(
  bytes: Uint8Array,
  opts: RuntimeOptions = {},
): Promise<Session> {
  const provider = opts.executionProvider ?? 'cpu';
  const base: ort.InferenceSession.SessionOptions = { graphOptimizationLevel: 'all' };
  if (opts.intraOpThreads) base.intraOpNumThreads = opts.intraOpThreads;
  if (opts.interOpThreads) base.interOpNumThreads = opts.interOpThreads;
  if (provider !== 'cpu') {
    try {
      const session = await ort.InferenceSession.create(bytes, {
        ...base,
        executionProviders: [provider],
      });
      return { session, provider };
    } catch (err) {
      (opts.logger ?? defaultLogger).warn(
        `execution provider "${provider}" is unavailable (${firstLine(err)}); using cpu`,
      );
    }
  }
  const session = await ort.InferenceSession.create(bytes, {
    ...base,
    executionProviders: ['cpu'],
  });
  return { session, provider: 'cpu' };
}

function firstLine(err: unknown): string {
  return String(err instanceof Error ? err.message : err).split('\n')[0];
}

/**
 * Runs a session and returns the named outputs. It always asks for every output: with a subset,
 * onnxruntime-node 1.23 returns the values under the wrong names (microsoft/onnxruntime#26865,
 * fixed after 1.23). The sessions camflow builds output only what it reads.
 */
export async function runSession(
  session: ort.InferenceSession,
  feeds: Record<string, ort.Tensor>,
  names: readonly string[],
): Promise<Record<string, ort.Tensor>> {
  const all = await session.run(feeds);
  const out: Record<string, ort.Tensor> = {};
  for (const n of names) {
    const t = all[n];
    if (!t) throw new Error(`the session has no output "${n}"`);
    out[n] = t;
  }
  return out;
}

/** A float32 ORT tensor. */
export function floatInput(data: Float32Array, dims: readonly number[]): ort.Tensor {
  return new ort.Tensor('float32', data, dims);
}

/** An int64 ORT tensor. */
export function int64Input(values: readonly number[]): ort.Tensor {
  return new ort.Tensor('int64', BigInt64Array.from(values.map((v) => BigInt(v))), [values.length]);
}

export { ort };
