"""Receptive-field centres measured by gradients: the independent reference for CellGrid
(libs/onnx/src/receptive-field.ts), written to test/fixtures/goldens/receptive-fields.json.

Run from test/reference: python3 -m camflow_ref.receptive_fields

For each golden fixture architecture and a few layers, with random weights: the centre of mass
of |d sum_c A[c, i, j] / d x| over the input (averaged over random inputs) for an interior
cell (i, j) of the layer's map. The TypeScript test derives the same centre from the ONNX graph
alone (kernel, stride, padding of every op on the way) and compares. Geometry does not depend
on the weights or the input size, so the measurement uses 256x256 inputs whatever the golden's
size; the golden's own model.onnx is what the test reads.
"""

from __future__ import annotations

import json
import os
import sys

import torch

from .make_goldens import DEFAULT_OUT, fixtures

# (golden fixture, layer): the goldens' CAM layers and a finer one per architecture.
CASES = [
    ("xray", "resnet_blocks.4"),
    ("xray", "resnet_blocks.3"),
    ("xray", "resnet_blocks.1"),
    ("resnet", "layer4"),
    ("resnet", "layer2"),
    ("mobilenet", "features.18"),
    ("mobilenet", "features.6"),
    ("densenet", "features.norm5"),
    ("densenet", "features.denseblock2"),
]
SIZE = 256
INPUTS = 4
MODELS = 8  # random weight draws: one draw's effective field is lopsided by a few pixels


class _Stop(Exception):
    pass


def measure(build, layer: str, seed: int) -> dict:
    total = torch.zeros(SIZE, SIZE, dtype=torch.float64)
    for k in range(MODELS):
        torch.manual_seed(seed + k)
        hh, ww, i, j = _accumulate(build().double().eval(), layer, seed + k, total)
    ys = torch.arange(SIZE, dtype=torch.float64).view(-1, 1)
    xs = torch.arange(SIZE, dtype=torch.float64).view(1, -1)
    mass = total.sum()
    return {
        "map": [ww, hh],
        "cell": [j, i],
        "centre": [round(float((total * xs).sum() / mass), 3), round(float((total * ys).sum() / mass), 3)],
    }


def _accumulate(model: torch.nn.Module, layer: str, seed: int, total: torch.Tensor):
    module = dict(model.named_modules())[layer]
    captured = {}

    def hook(_m, _i, out):
        captured["a"] = out
        raise _Stop  # nothing after the layer is needed

    h = module.register_forward_hook(hook)
    g = torch.Generator().manual_seed(seed)
    try:
        for _ in range(INPUTS):
            x = torch.randn(1, 3, SIZE, SIZE, generator=g, dtype=torch.float64, requires_grad=True)
            try:
                model(x)
            except _Stop:
                pass
            a = captured["a"]
            _, _, hh, ww = a.shape
            i, j = hh // 2, ww // 2
            (grad,) = torch.autograd.grad(a[0, :, i, j].sum(), x)
            # Each draw weighs the same, however large its gradients.
            m = grad.abs().sum(dim=(0, 1))
            total += m / m.sum()
    finally:
        h.remove()
    return hh, ww, i, j


def main() -> int:
    by_name = {fx["name"]: fx for fx in fixtures() if "build" in fx}
    rows = []
    for name, layer in CASES:
        fx = by_name[name]
        r = measure(fx["build"], layer, fx["seed"])
        print(f"{name} {layer}: map {r['map']}, cell {r['cell']} -> centre {r['centre']}", file=sys.stderr)
        rows.append({"model": name, "layer": layer, "input": [SIZE, SIZE], **r})
    doc = {
        "generator": "test/reference/camflow_ref/receptive_fields.py",
        "torch": torch.__version__,
        "what": "centre of mass (x, y input pixels) of |d sum_c A[c, i, j] / d input| for cell "
        f"[x=j, y=i] of the layer's map, mean over {MODELS} random weight draws x {INPUTS} random "
        "inputs (each normalised to sum 1)",
        "cases": rows,
    }
    with open(os.path.join(DEFAULT_OUT, "receptive-fields.json"), "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
