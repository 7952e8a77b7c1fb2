/**
 * Child process of provider-check.ts: opens one session with the provider named in argv[2] and
 * prints `{"ok": true}` or `{"ok": false, "reason": ...}` on stdout. A child, because ONNX
 * Runtime writes its own error lines to stderr when a provider fails to load, and its log level
 * is process-wide: the parent keeps those lines out of its output (and quotes the useful one).
 */
import { createSession, type ExecutionProvider } from '@camflow/engine';
import { encodeModel, makeModel, valueInfo } from '@camflow/onnx';

/** A one-op model (Relu on 1x1 floats): enough for a provider to load and accept a session. */
const model = encodeModel(
  makeModel({
    inputs: [valueInfo('x', [1, 1])],
    outputs: [valueInfo('y', [1, 1])],
    nodes: [{ opType: 'Relu', input: ['x'], output: ['y'], name: 'probe' }],
  }),
);

const requested = (process.argv[2] ?? 'cpu') as ExecutionProvider;
let reason: string | undefined;
const { session, provider } = await createSession(model, {
  executionProvider: requested,
  // The engine's fallback warning: `execution provider "x" is unavailable (<why>); using cpu`.
  logger: { warn: (m) => (reason = /\((.*)\); using cpu$/.exec(m)?.[1] ?? m) },
});
await session.release();
process.stdout.write(`${JSON.stringify({ active: provider, reason })}\n`);
