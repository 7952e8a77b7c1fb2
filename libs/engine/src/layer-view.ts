import {
  type AxisDim,
  type CamView,
  camView,
  type InputLayout,
  inferInputLayout,
  type Layout,
  LayoutError,
  type NamedLayout,
  type NodeFacts,
  namedLayout,
  tensorDims,
  tensorLayouts,
} from '@camflow/onnx';
import { CompileError } from './errors.js';
import { constantValues, type PreparedModel } from './prepared.js';
import type { ProbeResult } from './probe.js';

/** `--layout`: derive the layer's axes from the graph, or say what they are. */
export const LAYOUTS = ['auto', 'nchw', 'nhwc', 'tokens'] as const;
export type LayoutOption = (typeof LAYOUTS)[number];

/** Shapes, values and types of tensors, from a probe run and the model's constants. */
export function nodeFacts(p: PreparedModel, probe: ProbeResult): NodeFacts {
  return {
    dims: (t) => {
      const f = probe.tensors.get(t);
      if (f) return f.dims1.map((size, i) => ({ size, batch: f.shape[i] === -1 }));
      const c = p.index.constantOf(t);
      return c ? tensorDims(c).map((size) => ({ size, batch: false })) : undefined;
    },
    values: (t) => constantValues(p, t) ?? probe.tensors.get(t)?.values,
    float: (t) => {
      const f = probe.tensors.get(t);
      if (f) return f.type === 'float32';
      const c = p.index.constantOf(t);
      return c?.dataType === 1;
    },
  };
}

/** Every tensor whose shape the layout analysis of `tensors` reads. */
export function layoutTensors(p: PreparedModel, tensors: string[]): string[] {
  const up = p.index.ancestors(tensors);
  const out = new Set<string>([p.inputName, ...tensors]);
  for (const n of p.index.nodes) {
    if (!(n.output ?? []).some((o) => o && up.has(o))) continue;
    for (const t of [...(n.input ?? []), ...(n.output ?? [])]) {
      if (t && !p.index.initializers.has(t)) out.add(t);
    }
  }
  return [...out];
}

/** A layer's view, and the image input's layout it was derived from. */
export type LayerView = CamView & { inputLayout?: InputLayout };

export interface ViewRequest {
  tensor: string;
  /** For messages. */
  layerName: string;
  layout: LayoutOption;
  inputLayout?: InputLayout;
}

/**
 * How the layer's tensor becomes [N, C, h, w]: its axes as the graph derives them from the
 * image input, or as `layout` names them. Refuses, in one line, a tensor that is not a spatial
 * map (naming --layout where the graph cannot tell).
 */
export function resolveView(p: PreparedModel, probe: ProbeResult, req: ViewRequest): LayerView {
  const [view] = resolveViews(p, probe, [req]);
  if (view instanceof Error) throw view;
  return view;
}

/** resolveView for many tensors at once (one pass over the graph): a view or the refusal. */
export function resolveViews(
  p: PreparedModel,
  probe: ProbeResult,
  reqs: ViewRequest[],
): (LayerView | CompileError)[] {
  const facts = nodeFacts(p, probe);
  const inputLayout = reqs[0]?.inputLayout ?? inferInputLayout(p.index, p.inputName, facts);
  const layouts = tensorLayouts(
    p.index,
    p.inputName,
    inputLayout,
    facts,
    reqs.map((r) => r.tensor),
  );
  return reqs.map((req) => {
    const dims = facts.dims(req.tensor);
    if (!dims) return new CompileError(`no shape known for layer "${req.layerName}"`);
    const shown = `[${dims.map((d) => (d.batch ? (d.size === 1 ? 'N' : `N*${d.size}`) : d.size)).join(', ')}]`;
    const layout = layouts.get(req.tensor);
    const flat = probe.tensors.get(req.tensor)?.shape ?? dims.map((d) => d.size);
    try {
      if (req.layout !== 'auto') {
        const named = namedLayout(
          req.layout as NamedLayout,
          dims,
          layout,
          aspect(facts, p.inputName, inputLayout),
        );
        return withInput(camView(named, flat), inputLayout);
      }
      if (!layout)
        return new CompileError(`layer "${req.layerName}" does not depend on the input image`);
      return withInput(camView(layout, flat), inputLayout);
    } catch (err) {
      if (!(err instanceof LayoutError)) throw err;
      const hint =
        err.kind === 'ambiguous' || req.layout !== 'auto'
          ? '; pass --layout nchw|nhwc|tokens'
          : '; choose a layer whose output is a feature map';
      return new CompileError(
        `layer "${req.layerName}" ${shown} gives no 2-D map: ${err.message}${hint}`,
      );
    }
  });
}

function withInput(view: CamView, inputLayout: InputLayout | undefined): LayerView {
  return inputLayout ? { ...view, inputLayout } : view;
}

/** The input image's height / width, when the input layout says which axes they are. */
function aspect(facts: NodeFacts, input: string, layout: InputLayout | undefined): number {
  const d = facts.dims(input);
  if (!d || d.length < 3) return 1;
  const [h, w] =
    d.length === 3 || layout !== 'nhwc' ? [d[d.length - 2], d[d.length - 1]] : [d[1], d[2]];
  return h.size / w.size;
}

export type { AxisDim, Layout };
