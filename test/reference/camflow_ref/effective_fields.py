"""Where a trained XRayClassifier's CAM cells actually look (run from test/reference):

    python3 -m camflow_ref.effective_fields <model.onnx> <camflow synth dir> [--images 40]

For the first positives of the set: Grad-CAM at resnet_blocks.3 and .4 (seed method, weights =
mean gradient of the logit per channel), then for the hottest interior cell the centre of mass
of |d (sum_k alpha_k A_k)[cell] / d input|: the cell's effective receptive-field centre. Printed
as the offset from the cell's grid point `stride * i` (libs/onnx cellGrid: where a ResNet cell's
receptive field is centred) next to the `(stride - 1) / 2` that resizing the map like an image
assumes. Reads the weights from the ONNX export (BatchNorm folded), so no checkpoint is needed.
"""

from __future__ import annotations

import argparse
import csv
import os

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import numpy_helper
from PIL import Image


class OnnxXRay:
    """The export's convolutions in graph order: per block conv1, conv2, shortcut; then the head."""

    def __init__(self, path: str):
        m = onnx.load(path)
        w = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()).double() for t in m.graph.initializer}
        self.convs = []
        for n in m.graph.node:
            if n.op_type != "Conv":
                continue
            a = {q.name: onnx.helper.get_attribute_value(q) for q in n.attribute}
            bias = w[n.input[2]] if len(n.input) > 2 else None
            self.convs.append((w[n.input[1]], bias, a.get("strides", [1, 1])[0], a.get("pads", [0] * 4)[0]))
        assert len(self.convs) == 16, "expected the seed's XRayClassifier (5 blocks x 3 convs + head)"

    def conv(self, i: int, x: torch.Tensor) -> torch.Tensor:
        wt, b, s, p = self.convs[i]
        return F.conv2d(x, wt, b, stride=s, padding=p)

    def blocks(self, x: torch.Tensor):
        outs = []
        for b in range(5):
            r = F.relu(self.conv(3 * b, x))
            x = F.relu(self.conv(3 * b + 1, r) + self.conv(3 * b + 2, x))
            outs.append(x)
        return outs


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("data")
    ap.add_argument("--images", type=int, default=40)
    args = ap.parse_args()
    net = OnnxXRay(args.model)
    with open(os.path.join(args.data, "labels.csv")) as f:
        pos = [r["file"] for r in csv.DictReader(f) if r["label"] == "1"][: args.images]
    for layer in (3, 4):
        offsets = []
        for name in pos:
            img = np.asarray(Image.open(os.path.join(args.data, "images", name)).convert("L"), dtype=np.float64) / 255
            size = img.shape[0]
            x = torch.from_numpy((img - 0.5) / 0.5)[None, None].repeat(1, 3, 1, 1).requires_grad_(True)
            outs = net.blocks(x)
            a = outs[layer]
            logit = net.conv(15, outs[4]).sum()
            (g,) = torch.autograd.grad(logit, a, retain_graph=True)
            weighted = (g.mean((2, 3), keepdim=True) * a).sum(1)[0]
            n = a.shape[-1]
            stride = size // n
            cy, cx = divmod(int(F.relu(weighted).argmax()), n)
            if not (1 <= cy < n - 1 and 1 <= cx < n - 1):
                continue  # border cells' fields are cut by the padding
            (gi,) = torch.autograd.grad(weighted[cy, cx], x)
            m = gi.abs().sum((0, 1))
            ys = torch.arange(size, dtype=torch.float64).view(-1, 1)
            xs = torch.arange(size, dtype=torch.float64).view(1, -1)
            offsets.append((float((m * xs).sum() / m.sum()) - stride * cx, float((m * ys).sum() / m.sum()) - stride * cy))
        o = np.array(offsets)
        print(
            f"resnet_blocks.{layer} ({n}x{n}, stride {stride}): {len(o)} hottest interior cells; effective centre "
            f"minus grid point: x {o[:, 0].mean():+.1f} +- {o[:, 0].std():.1f}, y {o[:, 1].mean():+.1f} +- "
            f"{o[:, 1].std():.1f} px (resize assumes {(stride - 1) / 2:+.1f})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
