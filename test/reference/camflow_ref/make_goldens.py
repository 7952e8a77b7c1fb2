"""Regenerate test/fixtures/goldens (run from test/reference: python3 -m camflow_ref.make_goldens).

For every fixture model: random weights (fixed seed), float32 ONNX export, a seeded random
input [3, C, H, W], then per case the seed method (hooks, one forward, one backward) in
float64 and the six CAMs (cams.py). Everything is written as float32 .npy (targets int64),
plus index.json. See ../README.md for the file format.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import shutil
import sys
from typing import Any, Dict, List

import numpy as np
import onnx
import torch
import torch.nn as nn

from . import cams, export, models
from .seed_hooks import directional_check, run_seed

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.normpath(os.path.join(HERE, "..", "..", "fixtures", "goldens"))
N_IMAGES = 3


def _final_linear(model: nn.Module) -> nn.Module:
    last = None
    for m in model.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            last = m
    return last


@torch.no_grad()
def calibrate(model: nn.Module, x: torch.Tensor, score_module: str | None, kind: str) -> float:
    """Rescale the last Linear/Conv so the pre-activation scores are O(1): random weights with
    random BN statistics otherwise give saturated sigmoids or near-uniform softmaxes, whose
    tiny gradients make weak tests. Returns the factor applied."""
    last = _final_linear(model)
    holder = {}
    h = last.register_forward_hook(lambda m, a, o: holder.__setitem__("z", o.reshape(o.shape[0], -1)))
    model(x)
    h.remove()
    z = holder["z"]
    b = last.bias
    zb = z - (b if b is not None else 0)
    if kind == "sigmoid":
        # small logits (|z| <= 0.6): for the "logit" case G equals the last conv's weights and
        # S_k * G_kij grows with |z|; larger logits push 2 + S*G through zero somewhere and make
        # the Grad-CAM++ golden ill-conditioned.
        s = 0.6 / float(zb.abs().max())
        last.weight.mul_(s)
    else:
        # Centre each class's logit over the images (via the bias) and scale the centred logits
        # to std 0.5 (larger scales make S_k*G_kij, i.e. the per-channel contributions to the
        # logit, large enough to make Grad-CAM++ ill-conditioned): random models otherwise predict the same class for every image, and a
        # "predicted" golden would not notice an engine that uses image 0's target for all.
        mean = zb.mean(dim=0)
        s = 0.5 / float((zb - mean).std())
        last.weight.mul_(s)
        if b is not None:
            b.copy_(-s * mean)
    return s


def fixtures() -> List[Dict[str, Any]]:
    return [
        dict(
            name="xray", build=lambda: models.XRayClassifier(nf=8), seed=1, size=256, opset=17,
            layer="resnet_blocks.4", outputKind="sigmoid", score_module="classifier.2",
            grad_mode="full",
            cases=[("predicted", "predicted", "output"), ("logit", "predicted", "logit")],
            note="The seed tutorial's XRayClassifier at reduced width nf=8 (the tutorial uses nf=64).",
        ),
        dict(
            name="resnet", build=lambda: models.tiny_resnet(num_classes=5, width=8), seed=2,
            size=96, opset=13, layer="layer4", outputKind="logits", score_module=None,
            grad_mode="full",
            cases=[("predicted", "predicted", "output"), ("target1", 1, "output")],
            note="torchvision ResNet class (BasicBlock, layers [1,1,1,1]) with widths 8..64.",
        ),
        dict(
            name="resnet_softmax",
            build=lambda: models.SoftmaxHead(models.tiny_resnet(num_classes=5, width=8)), seed=2,
            size=96, opset=13, layer="net.layer4", outputKind="softmax", score_module="softmax",
            grad_mode="full", same_weights_as="resnet",
            cases=[("predicted", "predicted", "output"), ("logit", "predicted", "logit")],
            note="softmax(resnet(x)) with the same weights and input as 'resnet': its 'logit' case "
            "equals resnet/predicted.",
        ),
        dict(
            name="mobilenet", build=lambda: models.small_mobilenet_v2(num_classes=4), seed=3,
            size=64, opset=11, layer="features.18", outputKind="logits", score_module=None,
            grad_mode="full",
            cases=[("predicted", "predicted", "output")],
            note="torchvision mobilenet_v2(width_mult=0.25, num_classes=4); ReLU6 exports as Clip.",
        ),
        dict(
            name="densenet", build=lambda: models.small_densenet(num_classes=3), seed=4, size=64,
            opset=13, layer="features.norm5", outputKind="logits", score_module=None,
            grad_mode="tensor",
            cases=[("predicted", "predicted", "output")],
            note="torchvision DenseNet(growth_rate=8, block_config=(2,2,2,2), num_init_features=16,"
            " num_classes=3). features.norm5 is a BatchNormalization node (not folded: it follows"
            " a Concat); its output is later relu'd in place by DenseNet.forward, so the hooks use"
            " grad_mode='tensor' (see seed_hooks.py).",
        ),
        dict(
            name="densenet-block4", reuse="densenet", layer="features.denseblock4",
            grad_mode="full",
            cases=[("predicted", "predicted", "output")],
            note="Same ONNX file and input as 'densenet', layer features.denseblock4 (its output "
            "is a Concat; BatchNormalization, Relu, GlobalAveragePool, Flatten, Gemm follow).",
        ),
    ]


def save(path: str, arr: np.ndarray, dtype) -> None:
    np.save(path, np.ascontiguousarray(np.asarray(arr).astype(dtype)))


def diagnostics(a: np.ndarray, g: np.ndarray, maps: Dict[str, np.ndarray]) -> Dict[str, Any]:
    d: Dict[str, Any] = {}
    s = a.sum(axis=(2, 3))[:, :, None, None]
    nz = g != 0
    den = np.abs(2 + s * g)[nz]
    d["gradcampp_min_abs_2_plus_S_g"] = float(den.min()) if den.size else None
    # |denominator| / (sum of the magnitudes of its terms): near 0 = catastrophic cancellation
    full = 2 * g * g + np.abs(s * g**3) + 1e-6
    ratio = (np.abs(2 * g * g + s * g**3 + 1e-6) / full)[nz]
    d["gradcampp_min_cancellation"] = float(ratio.min()) if ratio.size else None
    num = (g * a).sum(axis=(2, 3))
    sel = np.abs(num) > 0
    d["xgradcam_min_abs_sumA_where_used"] = float(np.abs(a.sum(axis=(2, 3)))[sel].min()) if sel.any() else None
    d["positive_fraction"] = {k: [float((m > 0).mean()) for m in v] for k, v in maps.items()}
    gaps = []
    rules = []
    for a_n in a:
        _, info = cams.eigen_projection(a_n)
        gaps.append(info["s0"] / max(info["s1"], 1e-300))
        rules.append(info["rule"])
    d["eigencam_s0_over_s1"] = gaps
    d["eigencam_sign_rule"] = rules
    return d


class QualityError(Exception):
    """A golden that would be a weak or ill-conditioned test (the next seed is tried)."""


def make_input(seed: int, size: int) -> torch.Tensor:
    """Seeded random images [N_IMAGES, 3, size, size]: a smooth field (4x4 N(0, 1.5^2) values
    upsampled bilinearly) plus N(0, 0.5^2) pixel noise. The smooth part gives each image its own
    large-scale layout, so the maps differ between images and the models' features (and
    predicted classes) differ more than for white noise."""
    g = torch.Generator().manual_seed(1000 + seed)
    low = torch.randn((N_IMAGES, 3, 4, 4), generator=g, dtype=torch.float32) * 1.5
    smooth = torch.nn.functional.interpolate(low, size=(size, size), mode="bilinear",
                                             align_corners=False)
    noise = torch.randn((N_IMAGES, 3, size, size), generator=g, dtype=torch.float32) * 0.5
    return (smooth + noise).contiguous()


def compute_cases(fx, model32, x32, score_module, log) -> List[Dict[str, Any]]:
    """Run every case of ``fx`` in float64; raise QualityError when a golden would be weak."""
    layer = fx["layer"]
    model64 = copy.deepcopy(model32).double().eval()
    x64 = x32.double()
    with torch.no_grad():
        out32 = model32(x32).reshape(N_IMAGES, -1).numpy()
    out = []
    for case_name, target, score in fx["cases"]:
        res = run_seed(model64, x64, layer, target, score, score_module, fx["grad_mode"])
        checks: Dict[str, Any] = {}
        checks["max_abs_output_fp32_vs_fp64"] = float(np.abs(out32 - res.output).max())
        srt = np.sort(res.output if score == "output" else res.logits, axis=1)
        checks["min_top1_top2_margin"] = (
            float((srt[:, -1] - srt[:, -2]).min()) if srt.shape[1] > 1 else None)
        checks["directional_rel_err"] = directional_check(
            model64, x64, layer, res, score, score_module)
        if fx["grad_mode"] == "full":
            alt = run_seed(model64, x64, layer, target, score, score_module, "tensor")
            checks["max_abs_grad_full_vs_tensor"] = float(
                np.abs(alt.gradients - res.gradients).max())
        # per-image independence: image 1 alone gives the same gradient slice as in the batch
        single = run_seed(model64, x64[1:2], layer, int(res.targets[1]), score, score_module,
                          fx["grad_mode"])
        checks["max_abs_grad_batch_vs_single"] = float(
            np.abs(single.gradients[0] - res.gradients[1]).max())
        maps = cams.all_cams(res.activations, res.gradients)
        checks.update(diagnostics(res.activations, res.gradients, maps))
        # what a float32 engine should expect: the same hooks run in float32 (PyTorch, unfolded
        # BN), CAMs from those A and G, vs the float64 goldens; max |diff| / max |golden| per map
        r32 = run_seed(copy.deepcopy(model32).float().eval(), x32, layer, target, score,
                       score_module, fx["grad_mode"])
        checks["fp32_targets_match"] = bool(np.array_equal(r32.targets, res.targets))
        rel = lambda a, b: float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-30))  # noqa: E731
        checks["fp32_rel_err"] = {"activations": rel(r32.activations, res.activations),
                                  "gradients": rel(r32.gradients, res.gradients)}
        m32 = cams.all_cams(r32.activations, r32.gradients)
        checks["fp32_rel_err"].update({k: rel(m32[k], maps[k]) for k in maps})
        log(case_name, json.dumps(checks))
        # correctness of the reference itself: hard failures
        assert checks["directional_rel_err"] < 1e-5, checks
        assert checks.get("max_abs_grad_full_vs_tensor", 0) < 1e-12, checks
        assert checks["max_abs_grad_batch_vs_single"] < 1e-12, checks
        # quality of the golden as a test: try another seed
        if (checks["gradcampp_min_cancellation"] or 1) < 0.05:
            raise QualityError(f"{case_name}: ill-conditioned Grad-CAM++")
        if min(checks["eigencam_s0_over_s1"]) < 1.05:
            raise QualityError(f"{case_name}: near-degenerate EigenCAM")
        if checks["min_top1_top2_margin"] is not None and checks["min_top1_top2_margin"] < 0.01:
            raise QualityError(f"{case_name}: predicted class nearly tied")
        if not checks["fp32_targets_match"]:
            raise QualityError(f"{case_name}: float32 picks other targets")
        if any(not (m > 0).any() for v in maps.values() for m in v):
            raise QualityError(f"{case_name}: an all-zero map")
        out.append(dict(name=case_name, target=target, score=score, res=res, maps=maps,
                        checks=checks))
    return out


def build_one(fx: Dict[str, Any], out_dir: str, built: Dict[str, Any]) -> Dict[str, Any]:
    name = fx["name"]
    log = lambda *a: print(f"[{name}]", *a, file=sys.stderr)  # noqa: E731
    mdir = os.path.join(out_dir, name)
    os.makedirs(mdir, exist_ok=True)

    if "reuse" in fx:
        base = built[fx["reuse"]]
        base_fx = base["fx"]
        model32, x32, seed = base["model32"], base["x32"], base["seed"]
        onnx_rel, input_rel = base["onnx_rel"], base["input_rel"]
        opset, kind, score_module = (
            base_fx["opset"], base_fx["outputKind"], base_fx["score_module"])
        cases = compute_cases(fx, model32, x32, score_module, log)
    else:
        size = fx["size"]
        opset, kind, score_module = fx["opset"], fx["outputKind"], fx["score_module"]
        if "same_weights_as" in fx:
            src = built[fx["same_weights_as"]]
            seed = src["seed"]
            model32 = models.randomize(fx["build"](), seed)
            model32.net.load_state_dict(src["model32"].state_dict())
            x32 = src["x32"].clone()
            log("weights and input copied from", fx["same_weights_as"])
            cases = compute_cases(fx, model32, x32, score_module, log)
        else:
            # Deterministic search from fx["seed"] in steps of 100: keep the first seed whose
            # images get >= 2 different predicted classes with top-1/top-2 logit margins >= 0.05
            # (fp32-vs-fp64 output errors are ~1e-5) (multi-class models) and whose cases pass the quality checks above.
            for seed in range(fx["seed"], fx["seed"] + 2000, 100):
                torch.manual_seed(seed)
                model32 = models.randomize(fx["build"](), seed)
                x32 = make_input(seed, size)
                factor = calibrate(model32, x32, score_module, kind)
                with torch.no_grad():
                    z = model32(x32).reshape(N_IMAGES, -1)
                if z.shape[1] > 1:
                    top2 = z.topk(2, dim=1).values
                    margin = float((top2[:, 0] - top2[:, 1]).min())
                    classes = len(set(z.argmax(dim=1).tolist()))
                    if margin < 0.05 or classes < 2:
                        log(f"seed {seed}: margin {margin:.3f}, {classes} classes: next seed")
                        continue
                try:
                    cases = compute_cases(fx, model32, x32, score_module, log)
                except QualityError as e:
                    log(f"seed {seed}: {e}: next seed")
                    continue
                break
            else:
                raise RuntimeError("no seed gave usable goldens")
            log(f"seed {seed}; final layer rescaled by {factor:.4g}")
        onnx_rel = f"{name}/model.onnx"
        input_rel = f"{name}/input.npy"
        export.export_onnx(model32, x32[:1], os.path.join(out_dir, onnx_rel), opset)
        save(os.path.join(out_dir, input_rel), x32.numpy(), np.float32)

    layer = fx["layer"]
    proto = onnx.load(os.path.join(out_dir, onnx_rel))
    onnx.checker.check_model(proto)
    node_name, tensor_name, scope_nodes = export.layer_output(proto.graph, layer)
    down = export.downstream_ops(proto.graph, tensor_name)
    log("layer", layer, "->", node_name, f"({len(scope_nodes)} nodes in scope)")
    log("downstream:", " -> ".join(f"{t}[{n}]" for t, n in down))

    index_cases = []
    for c in cases:
        res, maps = c["res"], c["maps"]
        cdir = os.path.join(mdir, c["name"])
        os.makedirs(cdir, exist_ok=True)
        save(os.path.join(cdir, "scores.npy"), res.output, np.float32)
        save(os.path.join(cdir, "targets.npy"), res.targets, np.int64)
        save(os.path.join(cdir, "activations.npy"), res.activations, np.float32)
        save(os.path.join(cdir, "gradients.npy"), res.gradients, np.float32)
        files = ["scores.npy", "targets.npy", "activations.npy", "gradients.npy"]
        if res.logits is not None and c["score"] == "logit":
            save(os.path.join(cdir, "logits.npy"), res.logits, np.float32)
            files.append("logits.npy")
        for m, arr in maps.items():
            save(os.path.join(cdir, f"cam_{m}.npy"), arr, np.float32)
            files.append(f"cam_{m}.npy")
        index_cases.append({
            "name": c["name"],
            "dir": f"{name}/{c['name']}",
            "target": c["target"],
            "score": c["score"],
            "targets": [int(t) for t in res.targets],
            "methods": list(cams.METHODS),
            "files": files,
            "checks": c["checks"],
        })

    built[name] = dict(fx=fx, model32=model32, x32=x32, onnx_rel=onnx_rel, input_rel=input_rel,
                       seed=seed)
    with torch.no_grad():
        out_shape = list(model32(x32).shape)
    return {
        "name": name,
        "onnx": onnx_rel,
        "input": input_rel,
        "opset": opset,
        "inputShape": list(x32.shape),
        "seed": seed,
        "layer": layer,
        "layerNode": node_name,
        "layerTensor": tensor_name,
        "layerTensorShape": list(cases[0]["res"].activations.shape),
        "downstreamOps": [t for t, _ in down],
        "outputKind": kind,
        "outputShape": out_shape,
        "gradMode": fx["grad_mode"],
        "note": fx["note"],
        "cases": index_cases,
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--only", nargs="*", help="fixture names (default: all)")
    args = ap.parse_args(argv)
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    out_dir = os.path.abspath(args.out)
    todo = fixtures()
    if args.only:
        todo = [f for f in todo if f["name"] in args.only]
    if not args.only and os.path.isdir(out_dir):
        shutil.rmtree(out_dir)
    os.makedirs(out_dir, exist_ok=True)
    built: Dict[str, Any] = {}
    entries = []
    for fx in todo:
        entries.append(build_one(fx, out_dir, built))
    index = {
        "generator": "test/reference/camflow_ref/make_goldens.py",
        "torch": torch.__version__,
        "onnx": onnx.__version__,
        "computedIn": "float64 (PyTorch), stored as float32; model.onnx is the float32 export of the same weights",
        "camsAt": "layer resolution, after ReLU, not normalised",
        "models": entries,
    }
    with open(os.path.join(out_dir, "index.json"), "w") as f:
        json.dump(index, f, indent=2)
        f.write("\n")
    print(f"wrote {out_dir}/index.json ({len(entries)} models)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
