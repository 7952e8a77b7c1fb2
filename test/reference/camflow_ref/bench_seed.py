"""Time the seed tutorial's method on the full-size XRayClassifier (CPU).

    python3 -m camflow_ref.bench_seed --nf 64 --size 256 --batch 1 8 --seconds 10

Per iteration, exactly what the tutorial does: hooks on ``model.resnet_blocks[-1]``
(register_forward_hook + register_full_backward_hook), one forward, a full ``.backward()``
(through every parameter and down to the first layer), then Grad-CAM: channel weights = mean
of the gradients over h, w (per image, not pooled over the batch as the tutorial does),
activations scaled channel by channel in a Python loop (``--cam loop``, the tutorial's code;
``--cam vectorized`` uses one einsum), mean over channels, ReLU, division by the max.
Random weights (no download), float32, torch.set_num_threads(os.cpu_count()).

Prints ONE JSON line on stdout:
{"torch": "<version>", "results": [{"batch": B, "msPerImage": x, "imagesPerSec": y, ...}], ...}
Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import torch

from .models import XRayClassifier, randomize


def seed_gradcam(model: XRayClassifier, x: torch.Tensor, cam: str) -> torch.Tensor:
    store = {}
    layer = model.resnet_blocks[-1]
    h1 = layer.register_forward_hook(lambda m, a, o: store.__setitem__("a", o.detach()))
    h2 = layer.register_full_backward_hook(lambda m, gi, go: store.__setitem__("g", go[0].detach()))
    try:
        model(x).sum().backward()  # per-image scores are independent: sum = one backward
    finally:
        h1.remove()
        h2.remove()
    a, g = store["a"].clone(), store["g"]
    pooled = g.mean(dim=(2, 3))  # [B, C], per image
    if cam == "loop":
        for i in range(a.shape[1]):
            a[:, i, :, :] *= pooled[:, i, None, None]
        heat = a.mean(dim=1)
    else:
        heat = torch.einsum("bc,bchw->bhw", pooled, a) / a.shape[1]
    heat = torch.relu(heat)
    return heat / heat.amax(dim=(1, 2), keepdim=True).clamp_min(1e-12)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nf", type=int, default=64)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--batch", type=int, nargs="+", default=[1, 8])
    ap.add_argument("--seconds", type=float, default=10.0, help="time budget per batch size")
    ap.add_argument("--cam", choices=["loop", "vectorized"], default="loop")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args(argv)
    if args.size != 256:
        # the classifier is Conv2d(16nf, 1, 8): the last block must be 8x8, i.e. a 256 input
        print("warning: XRayClassifier needs --size 256; other sizes will fail", file=sys.stderr)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = randomize(XRayClassifier(nf=args.nf), seed=0)
    params = sum(p.numel() for p in model.parameters())
    results = []
    for b in args.batch:
        x = torch.randn(b, 3, args.size, args.size)
        model.zero_grad(set_to_none=True)
        seed_gradcam(model, x, args.cam)  # warm-up
        iters, t0 = 0, time.perf_counter()
        while True:
            model.zero_grad(set_to_none=True)
            seed_gradcam(model, x, args.cam)
            iters += 1
            el = time.perf_counter() - t0
            if el >= args.seconds and iters >= 2:
                break
        ms = el * 1000.0 / (iters * b)
        r = {"batch": b, "msPerImage": round(ms, 3), "imagesPerSec": round(1000.0 / ms, 3),
             "iterations": iters}
        print(f"batch {b}: {r}", file=sys.stderr)
        results.append(r)
    print(json.dumps({
        "torch": torch.__version__,
        "results": results,
        "nf": args.nf, "size": args.size, "params": params, "threads": args.threads,
        "cam": args.cam, "device": "cpu", "dtype": "float32",
    }))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
