/**
 * The engine thread (see engine-host.ts): holds one Engine per model@version and answers load,
 * explain and close requests. Results go back as transferred buffers.
 */
import { parentPort } from 'node:worker_threads';
import { Engine } from '@camflow/engine';
import type { HostReply, HostRequest, WireError } from './engine-host.js';
import type { ExplainOutput } from './micro-batcher.js';

const engines = new Map<string, Engine>();

async function handle(req: HostRequest): Promise<{ reply: HostReply; transfer: ArrayBuffer[] }> {
  try {
    switch (req.type) {
      case 'load': {
        if (!engines.has(req.model)) {
          engines.set(req.model, Engine.load(new Uint8Array(req.bytes), req.options));
        }
        return { reply: { id: req.id, ok: true }, transfer: [] };
      }
      case 'explain': {
        const engine = engines.get(req.model);
        if (!engine) throw new Error(`model ${req.model} is not loaded in the engine thread`);
        const r = await engine.explain(
          { data: new Float32Array(req.data), dims: req.dims },
          req.options,
        );
        const value: ExplainOutput = {
          scores: owned(r.scores),
          numClasses: r.numClasses,
          targets: r.targets,
          layer: r.layer,
          cams: { data: owned(r.cams.data), dims: r.cams.dims },
        };
        return {
          reply: { id: req.id, ok: true, value },
          transfer: [value.scores.buffer as ArrayBuffer, value.cams.data.buffer as ArrayBuffer],
        };
      }
      case 'close': {
        await Promise.all([...engines.values()].map((e) => e.close()));
        engines.clear();
        return { reply: { id: req.id, ok: true }, transfer: [] };
      }
    }
  } catch (err) {
    return { reply: { id: req.id, ok: false, error: toWire(err) }, transfer: [] };
  }
}

/** An array that owns its whole buffer, so transferring it moves nothing else. */
function owned(a: Float32Array): Float32Array {
  return a.byteOffset === 0 && a.byteLength === a.buffer.byteLength ? a : a.slice();
}

function toWire(err: unknown): WireError {
  const e = err as { name?: string; message?: string; code?: unknown };
  return {
    name: typeof e?.name === 'string' ? e.name : 'Error',
    message: String(e?.message ?? err),
    code: typeof e?.code === 'string' ? e.code : undefined,
  };
}

const port = parentPort;
if (!port) throw new Error('engine-thread.js runs inside a worker thread');
port.on('message', (req: HostRequest) => {
  void handle(req).then(({ reply, transfer }) => port.postMessage(reply, transfer));
});
