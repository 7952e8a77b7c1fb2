"""Check the committed goldens (run from test/reference: python3 -m camflow_ref.verify).

For every model in index.json: onnx.checker, the layer's producing node (recomputed from the
module path) equals the index, the nodes around it, the op types between the layer tensor and
the output, array shapes/dtypes, and the CAMs recomputed from the stored float32 A and G
(float64 maths) against the stored float32 CAMs. Needs onnx + numpy only (no torch).
"""

from __future__ import annotations

import json
import os
import sys

import numpy as np
import onnx

from . import cams
from .export import downstream_ops, layer_output, scope_prefix
from .make_goldens import DEFAULT_OUT


def main(argv=None) -> int:
    root = (argv or sys.argv[1:] or [DEFAULT_OUT])[0]
    idx = json.load(open(os.path.join(root, "index.json")))
    bad = 0
    for m in idx["models"]:
        proto = onnx.load(os.path.join(root, m["onnx"]))
        onnx.checker.check_model(proto)
        g = proto.graph
        node, tensor, scope = layer_output(g, m["layer"])
        ok = node == m["layerNode"] and tensor == m["layerTensor"]
        bad += not ok
        names = [n.name for n in g.node]
        i = names.index(node)
        print(f"== {m['name']}: opset {proto.opset_import[0].version} (index {m['opset']}), "
              f"layer {m['layer']} -> scope {scope_prefix(m['layer'])} -> node {node} "
              f"{'OK' if ok else 'MISMATCH'}")
        for j in range(max(0, i - 2), min(len(names), i + 3)):
            print(f"   {'>' if j == i else ' '} {g.node[j].op_type:20s} {names[j]}")
        down = [t for t, _ in downstream_ops(g, tensor)]
        print("   downstream ops:", " -> ".join(down), "" if down == m["downstreamOps"] else "MISMATCH")
        bad += down != m["downstreamOps"]
        x = np.load(os.path.join(root, m["input"]))
        assert x.dtype == np.float32 and list(x.shape) == m["inputShape"], x.shape
        for c in m["cases"]:
            d = os.path.join(root, c["dir"])
            a = np.load(os.path.join(d, "activations.npy"))
            gr = np.load(os.path.join(d, "gradients.npy"))
            t = np.load(os.path.join(d, "targets.npy"))
            s = np.load(os.path.join(d, "scores.npy"))
            assert a.dtype == gr.dtype == s.dtype == np.float32 and t.dtype == np.int64
            # Stored A and G are [N, C, h, w]; a transformed layer (tokens, NHWC) was stored after
            # its reshape_transform, and an "all" case holds G per target, [N, K, C, h, w].
            many = c["target"] == "all"
            if "transform" not in m:
                assert list(a.shape) == m["layerTensorShape"]
            assert list(gr.shape) == (list(a.shape[:1]) + [s.shape[1]] + list(a.shape[1:])
                                      if many else list(a.shape))
            assert t.tolist() == c["targets"] and s.shape[0] == t.shape[0]
            errs = []
            for meth in c["methods"]:
                ref = np.load(os.path.join(d, f"cam_{meth}.npy"))
                if many:
                    got = np.stack([cams.FUNCS[meth](a, gr[:, k]) for k in range(gr.shape[1])], 1)
                    assert ref.shape == (a.shape[0], gr.shape[1], a.shape[2], a.shape[3])
                else:
                    got = cams.FUNCS[meth](a, gr)
                    assert ref.shape == (a.shape[0], a.shape[2], a.shape[3])
                rel = float(np.abs(got - ref).max() / max(np.abs(ref).max(), 1e-30))
                errs.append(f"{meth} {rel:.1e}")
                bad += rel > 1e-4
            print(f"   case {c['name']}: targets {t.tolist()}, cams from stored f32 A,G vs golden "
                  f"(max rel): {', '.join(errs)}")
    print("FAILED" if bad else "all good", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
