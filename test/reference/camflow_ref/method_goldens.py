"""Goldens for the rest of the CAM family (run from test/reference):

    python3 -m camflow_ref.method_goldens

On the seed's XRayClassifier (``xray``) and torchvision's ResNet (``resnet``) of the main goldens:
the models are rebuilt from their seeds (checked against the stored scores), and every method of
``more_methods`` is computed in float64 on the stored input, predicted targets. Writes
``<model>/methods/*.npy`` and ``methods.json`` next to ``index.json``.
"""

from __future__ import annotations

import copy
import json
import os
import sys

import numpy as np
import torch

from . import models, more_methods as mm
from .make_goldens import DEFAULT_OUT, calibrate, fixtures
from .seed_hooks import run_seed

CASES = {
    "xray": dict(layer="resnet_blocks.4", fuse=["resnet_blocks.3", "resnet_blocks.4"]),
    "resnet": dict(layer="layer4", fuse=["layer3", "layer4"]),
}


def rebuild(name: str, entry: dict, root: str):
    fx = next(f for f in fixtures() if f["name"] == name)
    torch.manual_seed(entry["seed"])
    model = models.randomize(fx["build"](), entry["seed"])
    x = torch.from_numpy(np.load(os.path.join(root, entry["input"])))
    calibrate(model, x, fx["score_module"], fx["outputKind"], fx.get("logit_std", 0.5))
    stored = np.load(os.path.join(root, entry["cases"][0]["dir"], "scores.npy"))
    with torch.no_grad():
        got = model(x).reshape(x.shape[0], -1).numpy()
    err = float(np.abs(got - stored).max())
    assert err < 1e-5, f"{name}: rebuilt model's scores differ by {err}"
    return model, x


def main(argv=None) -> int:
    root = os.path.abspath((argv or sys.argv[1:] or [DEFAULT_OUT])[0])
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    index = json.load(open(os.path.join(root, "index.json")))
    entries = []
    for name, case in CASES.items():
        entry = next(m for m in index["models"] if m["name"] == name)
        model32, x32 = rebuild(name, entry, root)
        model = copy.deepcopy(model32).double().eval()
        x = x32.double()
        res = run_seed(model, x, case["layer"], "predicted")
        a, g, targets = res.activations, res.gradients, res.targets
        out = os.path.join(root, name, "methods")
        os.makedirs(out, exist_ok=True)
        maps = {
            "eigengradcam": mm.eigengradcam(a, g),
            "gradcamelementwise": mm.gradcamelementwise(a, g),
            "gradcam-eigensmooth": mm.eigen_smooth_gradcam(a, g),
            "scorecam": mm.scorecam(model, x, case["layer"], targets),
            "ablationcam": mm.ablationcam(model, x, case["layer"], targets),
            "gradcam-augsmooth": mm.aug_smooth(model, x, case["layer"], targets),
            "gradcam-fusion": mm.fusion(model, x, case["fuse"], targets),
        }
        guided = mm.guided_gradcam(model, x, case["layer"], targets)
        files = {}
        for key, m in maps.items():
            files[key] = f"{name}/methods/cam_{key}.npy"
            np.save(os.path.join(root, files[key]), np.ascontiguousarray(m.astype(np.float32)))
        files["guided-gradcam"] = f"{name}/methods/guided_blocks.npy"
        np.save(os.path.join(root, files["guided-gradcam"]),
                np.ascontiguousarray(mm.block_sums(guided).astype(np.float32)))
        np.save(os.path.join(root, name, "methods", "targets.npy"), targets.astype(np.int64))
        print(f"[{name}] targets {targets.tolist()}; " + ", ".join(
            f"{k} max {float(np.abs(v).max()):.3g}" for k, v in maps.items()), file=sys.stderr)
        entries.append({"model": name, "onnx": entry["onnx"], "input": entry["input"],
                        "layer": case["layer"], "fuse": case["fuse"],
                        "targets": targets.tolist(), "files": files,
                        "guidedBlock": 16, "guidedShape": list(guided.shape)})
    doc = {"generator": "test/reference/camflow_ref/method_goldens.py",
           "computedIn": "float64 (PyTorch), stored as float32",
           "note": "see more_methods.py for each formula", "models": entries}
    with open(os.path.join(root, "methods.json"), "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
