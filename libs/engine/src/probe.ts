import { cloneModel, encodeModel, type ModelProto, untypedOutput } from '@camflow/onnx';
import { createSession, floatInput, type ort, type RuntimeOptions, runSession } from './runtime.js';

export interface TensorFacts {
  /** Shape at batch 1, with -1 where the dimension changes with the batch size. */
  shape: number[];
  /** Shape at batch 1, as run (no -1): the static factor of batch-dependent dims. */
  dims1: number[];
  /** ORT type name: 'float32', 'int64', ... */
  type: string;
  /** Values of a small tensor that only depends on shapes (the same at batch 1 and 2). */
  values?: number[];
}

/** Largest tensor whose values a probe records (shapes, axes, slice bounds). */
const MAX_VALUES = 64;

export interface ProbeResult {
  tensors: Map<string, TensorFacts>;
  /** False when the graph only runs at batch 1. */
  batchable: boolean;
}

/**
 * Learns the shapes and types of intermediate tensors by running the model at batch sizes 1
 * and 2 with those tensors exposed as outputs. Exports often carry no value_info, and a rule
 * needs static sizes (kernel geometry, slice offsets) and which dims are the batch.
 */
export async function probeTensors(
  model: ModelProto,
  inputName: string,
  sampleShape: readonly number[],
  tensors: Iterable<string>,
  runtime: RuntimeOptions,
  valued: ReadonlySet<string> = new Set(),
): Promise<ProbeResult> {
  const probe = cloneModel(model);
  const graph = probe.graph as NonNullable<ModelProto['graph']>;
  const existing = new Set((graph.output ?? []).map((o) => o.name));
  // The input is fed, not fetched: its facts are the fed shape.
  const wanted = [...new Set(tensors)].filter((t) => t !== inputName);
  for (const t of wanted)
    if (!existing.has(t)) graph.output = [...(graph.output ?? []), untypedOutput(t)];
  const { session } = await createSession(encodeModel(probe), {
    ...runtime,
    executionProvider: 'cpu',
  });
  try {
    const run = async (batch: number) => {
      const count = batch * sampleShape.reduce((a, b) => a * b, 1);
      const data = new Float32Array(count);
      for (let i = 0; i < count; i++) data[i] = Math.sin(i * 12.9898) * 0.5;
      return runSession(
        session,
        { [inputName]: floatInput(data, [batch, ...sampleShape]) },
        wanted,
      );
    };
    const one = await run(1);
    // A graph that bakes the batch into a Reshape fails at batch 2: it then runs one image at
    // a time, and dim 0 is taken as the batch.
    const two = await run(2).catch(() => undefined);
    const tensorsFacts = new Map<string, TensorFacts>();
    for (const t of wanted) {
      const a = one[t];
      const b = two?.[t];
      const same = (d: number, i: number) =>
        b ? b.dims.length === a.dims.length && b.dims[i] === d : i !== 0;
      const facts: TensorFacts = {
        type: a.type,
        shape: a.dims.map((d, i) => (same(d, i) ? d : -1)),
        dims1: [...a.dims],
      };
      const values = valued.has(t) ? smallValues(a, b) : undefined;
      if (values) facts.values = values;
      tensorsFacts.set(t, facts);
    }
    tensorsFacts.set(inputName, {
      type: 'float32',
      shape: [-1, ...sampleShape],
      dims1: [1, ...sampleShape],
    });
    return { tensors: tensorsFacts, batchable: two !== undefined };
  } finally {
    await session.release();
  }
}

/** A small numeric tensor's values when batch 1 and batch 2 agree (shape arithmetic). */
function smallValues(a: ort.Tensor, b: ort.Tensor | undefined): number[] | undefined {
  if (a.size > MAX_VALUES || !['int64', 'int32', 'float32'].includes(a.type)) return undefined;
  const read = (t: ort.Tensor) =>
    Array.from(t.data as ArrayLike<number | bigint>, (v) => Number(v));
  const va = read(a);
  if (b && (b.dims.join() !== a.dims.join() || read(b).some((v, i) => v !== va[i])))
    return undefined;
  return va;
}
