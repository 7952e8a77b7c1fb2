/**
 * The engine thread (see engine-host.ts): one Engine per model@version; answers load, explain,
 * predict and close. Results go back as transferred buffers.
 */
import { Engine } from '@camflow/engine';
import type { EngineRequest } from './engine-host.js';
import type { ExplainOutput, PredictOutput } from './micro-batcher.js';
import { serveThread, transferable } from './thread-rpc.js';

const engines = new Map<string, Engine>();

serveThread<EngineRequest>(async (req) => {
  switch (req.type) {
    case 'load': {
      if (!engines.has(req.model)) {
        engines.set(req.model, Engine.load(new Uint8Array(req.bytes), req.options));
      }
      return { value: undefined };
    }
    case 'explain': {
      const engine = engines.get(req.model);
      if (!engine) throw new Error(`model ${req.model} is not loaded in the engine thread`);
      const r = await engine.explain(
        { data: new Float32Array(req.data), dims: req.dims },
        req.options,
      );
      const value: ExplainOutput = {
        scores: transferable(r.scores),
        numClasses: r.numClasses,
        targets: r.targets,
        layer: r.layer,
        cams: { data: transferable(r.cams.data), dims: r.cams.dims },
        ...(r.grid && { grid: r.grid }),
        ...(r.perTarget && {
          perTarget: {
            count: r.perTarget.count,
            classes: r.perTarget.classes,
            scores: transferable(r.perTarget.scores),
            cams: { data: transferable(r.perTarget.cams.data), dims: r.perTarget.cams.dims },
          },
        }),
      };
      const transfer = [value.scores.buffer as ArrayBuffer, value.cams.data.buffer as ArrayBuffer];
      if (value.perTarget) {
        transfer.push(
          value.perTarget.scores.buffer as ArrayBuffer,
          value.perTarget.cams.data.buffer as ArrayBuffer,
        );
      }
      return { value, transfer };
    }
    case 'predict': {
      const engine = engines.get(req.model);
      if (!engine) throw new Error(`model ${req.model} is not loaded in the engine thread`);
      const r = await engine.predict({ data: new Float32Array(req.data), dims: req.dims });
      const value: PredictOutput = { scores: transferable(r.scores), numClasses: r.numClasses };
      return { value, transfer: [value.scores.buffer as ArrayBuffer] };
    }
    case 'close': {
      await Promise.all([...engines.values()].map((e) => e.close()));
      engines.clear();
      return { value: undefined };
    }
  }
});
