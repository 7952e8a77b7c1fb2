"""Regenerate test/fixtures/goldens (run from test/reference: python3 -m camflow_ref.make_goldens).

For every fixture model: random weights (fixed seed), float32 ONNX export, a seeded random
input [3, C, H, W], then per case the seed method (hooks, one forward, one backward) in
float64 and the six CAMs (cams.py). Everything is written as float32 .npy (targets int64),
plus index.json. See ../README.md for the file format.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
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
def calibrate(model: nn.Module, x: torch.Tensor, score_module: str | None, kind: str,
              logit_std: float = 0.5) -> float:
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
        s = logit_std / float((zb - mean).std())
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
        dict(
            name="convnext", build=lambda: models.small_convnext(num_classes=4), seed=5, size=64,
            opset=17, layer="features.5", outputKind="logits", score_module=None,
            grad_mode="full", cases=[("predicted", "predicted", "output")],
            note="torchvision ConvNeXt (3 stages of one CNBlock, 16/32/64 channels) exported at "
            "opset 17: LayerNormalization nodes, channels-last blocks (Permute, LayerNorm, Linear, "
            "GELU as Erf, Linear, layer scale, Permute back).",
        ),
        dict(
            name="vit", build=lambda: models.small_vit(num_classes=4), seed=6, size=32, opset=17,
            layer="encoder.layers.encoder_layer_1.ln_1", outputKind="logits", score_module=None,
            grad_mode="full", transform="tokens", cases=[("predicted", "predicted", "output")],
            note="torchvision VisionTransformer (32x32, 8x8 patches, 2 layers, 2 heads, width 16): "
            "the hooked ln_1 output is [N, 1 + 4*4, 16]; A and G are stored after pytorch-grad-cam's "
            "reshape_transform (class token dropped, [N, 16, 4, 4]).",
        ),
        dict(
            name="swin", build=lambda: models.small_swin(num_classes=4), seed=7, size=(64, 96),
            opset=17, layer="features.3", outputKind="logits", score_module=None,
            grad_mode="full", transform="nhwc", cases=[("predicted", "predicted", "output")],
            skip_methods=("hirescam",),
            note="torchvision SwinTransformer (patch 4, width 16, depths [2, 2], 4x4 windows) on "
            "64x96 images: features.3 is channels-last [N, 8, 12, 32]; A and G are stored as "
            "NCHW (permuted), the map is 8x12. HiResCAM is left out: features.3 feeds a "
            "LayerNormalization over channels, whose input gradient satisfies sum_c G_c (A_c - "
            "mean_c A) = 0, so sum_c G_c A_c = mean_c(A) sum_c G_c is a near-total cancellation "
            "(float32 maps off by ~1e-2 of their max on every seed tried).",
        ),
        dict(
            name="efficientnet", build=lambda: models.small_efficientnet(num_classes=3), seed=8,
            size=96, opset=13, layer="features.8", outputKind="logits", score_module=None,
            grad_mode="full", cases=[("predicted", "predicted", "output")], bn_from_input=True,
            note="torchvision EfficientNet with B0's configuration at width and depth 0.25 (SiLU, "
            "squeeze-and-excitation); features.8 is the last 1x1 conv block, 3x3. BatchNorm "
            "statistics are measured on the three images (random ones squash every image to "
            "nearly the same features).",
        ),
        dict(
            name="densenet-multilabel", build=lambda: models.multilabel_densenet(num_classes=14),
            seed=9, size=64, channels=1, opset=13, layer="net.features.denseblock4",
            outputKind="sigmoid", score_module="sigmoid", grad_mode="full",
            cases=[("all", "all", "output")],
            note="A multi-label chest X-ray style DenseNet: 1-channel input, 14 sigmoid outputs "
            "(torchvision DenseNet, growth 8, blocks (2, 2, 2, 2), 1-channel stem). The 'all' case "
            "holds one CAM per class per image (gradients [N, 14, C, h, w], maps [N, 14, h, w]).",
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


@torch.no_grad()
def bn_statistics_from(model: nn.Module, x: torch.Tensor) -> None:
    """BatchNorm running statistics measured on the images (one pass in training mode; the
    affine parameters stay random). Deep random networks whose random statistics squash every
    image to nearly the same features need it to tell the images apart."""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None
    model.train()
    model(x)
    model.eval()


def make_input(seed: int, size, channels: int = 3) -> torch.Tensor:
    """Seeded random images [N_IMAGES, channels, h, w] (``size`` is h = w or (h, w)): a smooth
    field (4x4 N(0, 1.5^2) values upsampled bilinearly) plus N(0, 0.5^2) pixel noise. The smooth
    part gives each image its own large-scale layout, so the maps differ between images and the
    models' features (and predicted classes) differ more than for white noise."""
    h, w = (size, size) if isinstance(size, int) else size
    g = torch.Generator().manual_seed(1000 + seed)
    low = torch.randn((N_IMAGES, channels, 4, 4), generator=g, dtype=torch.float32) * 1.5
    smooth = torch.nn.functional.interpolate(low, size=(h, w), mode="bilinear",
                                             align_corners=False)
    noise = torch.randn((N_IMAGES, channels, h, w), generator=g, dtype=torch.float32) * 0.5
    return (smooth + noise).contiguous()


def to_nchw(a: np.ndarray, transform: str | None) -> np.ndarray:
    """A hooked tensor as [N, C, h, w]: pytorch-grad-cam's reshape_transform for channels-last
    maps (permute) and ViT token sequences (drop the class token, fold the rest row-major to
    the square patch grid)."""
    if transform is None:
        return a
    if transform == "nhwc":
        return np.ascontiguousarray(a.transpose(0, 3, 1, 2))
    if transform == "tokens":
        n, t, c = a.shape
        side = int(round((t - 1) ** 0.5))
        assert side * side == t - 1, a.shape
        return np.ascontiguousarray(a[:, 1:, :].reshape(n, side, side, c).transpose(0, 3, 1, 2))
    raise ValueError(transform)


def as_nchw(res, transform: str | None):
    """The seed result with A and G in [N, C, h, w] (see to_nchw)."""
    if transform is None:
        return res
    return dataclasses.replace(res, activations=to_nchw(res.activations, transform),
                               gradients=to_nchw(res.gradients, transform))


def compute_cases(fx, model32, x32, score_module, log) -> List[Dict[str, Any]]:
    """Run every case of ``fx`` in float64; raise QualityError when a golden would be weak."""
    layer = fx["layer"]
    model64 = copy.deepcopy(model32).double().eval()
    x64 = x32.double()
    with torch.no_grad():
        out32 = model32(x32).reshape(N_IMAGES, -1).numpy()
    out = []
    skip = fx.get("skip_methods", ())
    for case_name, target, score in fx["cases"]:
        if target == "all":
            out.append(compute_all_targets(fx, case_name, model32, x32, out32, score,
                                           score_module, log))
            continue
        res = run_seed(model64, x64, layer, target, score, score_module, fx["grad_mode"])
        raw_shape = list(res.activations.shape)
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
        res = as_nchw(res, fx.get("transform"))
        maps = cams.all_cams(res.activations, res.gradients)
        checks.update(diagnostics(res.activations, res.gradients, maps))
        # what a float32 engine should expect: the same hooks run in float32 (PyTorch, unfolded
        # BN), CAMs from those A and G, vs the float64 goldens; max |diff| / max |golden| per map
        r32 = as_nchw(run_seed(copy.deepcopy(model32).float().eval(), x32, layer, target, score,
                               score_module, fx["grad_mode"]), fx.get("transform"))
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
        if (checks["gradcampp_min_cancellation"] or 1) < 0.05 and "gradcampp" not in skip:
            raise QualityError(f"{case_name}: ill-conditioned Grad-CAM++")
        if min(checks["eigencam_s0_over_s1"]) < 1.05:
            raise QualityError(f"{case_name}: near-degenerate EigenCAM")
        if checks["min_top1_top2_margin"] is not None and checks["min_top1_top2_margin"] < 0.01:
            raise QualityError(f"{case_name}: predicted class nearly tied")
        if not checks["fp32_targets_match"]:
            raise QualityError(f"{case_name}: float32 picks other targets")
        worst32 = max(v for k, v in checks["fp32_rel_err"].items() if k not in skip)
        if worst32 > 1e-3:
            raise QualityError(f"{case_name}: float32 maps off by {worst32:.1e} (cancellation)")
        if any(not (m > 0).any() for v in maps.values() for m in v):
            raise QualityError(f"{case_name}: an all-zero map")
        out.append(dict(name=case_name, target=target, score=score, res=res, maps=maps,
                        checks=checks, raw_shape=raw_shape))
    return out


def compute_all_targets(fx, case_name, model32, x32, out32, score, score_module, log):
    """One CAM per class per image (``--target all``): the seed method run once per class
    (the same hooks, target k), in float64. Stored as gradients [N, K, C, h, w] and maps
    [N, K, h, w]; the activations do not depend on the target."""
    layer, tf, mode = fx["layer"], fx.get("transform"), fx["grad_mode"]
    model64 = copy.deepcopy(model32).double().eval()
    x64 = x32.double()
    k = out32.shape[1]
    per, per32, directional = [], [], []
    for t in range(k):
        r = run_seed(model64, x64, layer, t, score, score_module, mode)
        directional.append(directional_check(model64, x64, layer, r, score, score_module))
        raw_shape = list(r.activations.shape)
        per.append(as_nchw(r, tf))
        per32.append(as_nchw(run_seed(copy.deepcopy(model32).float().eval(), x32, layer, t, score,
                                      score_module, mode), tf))
    a = per[0].activations
    maps = {m: np.stack([cams.FUNCS[m](a, r.gradients) for r in per], axis=1) for m in cams.METHODS}
    maps32 = {m: np.stack([cams.FUNCS[m](per32[0].activations, r.gradients) for r in per32], axis=1)
              for m in cams.METHODS}
    rel = lambda u, v: float(np.abs(u - v).max() / max(np.abs(v).max(), 1e-30))  # noqa: E731
    checks: Dict[str, Any] = {
        "max_abs_output_fp32_vs_fp64": float(np.abs(out32 - per[0].output).max()),
        "directional_rel_err": max(directional),
        "fp32_rel_err": {"activations": rel(per32[0].activations, a),
                         "gradients": rel(np.stack([r.gradients for r in per32], 1),
                                          np.stack([r.gradients for r in per], 1)),
                         **{m: rel(maps32[m], maps[m]) for m in maps}},
    }
    worst = [diagnostics(a, r.gradients, {m: maps[m][:, t] for m in maps}) for t, r in enumerate(per)]
    checks["gradcampp_min_cancellation"] = min(d["gradcampp_min_cancellation"] or 1 for d in worst)
    checks["eigencam_s0_over_s1"] = worst[0]["eigencam_s0_over_s1"]
    checks["eigencam_sign_rule"] = worst[0]["eigencam_sign_rule"]
    checks["zero_gradcam_maps"] = int(sum(not (m > 0).any() for m in maps["gradcam"].reshape(-1, *maps["gradcam"].shape[2:])))
    log(case_name, json.dumps(checks))
    assert checks["directional_rel_err"] < 1e-5, checks
    if checks["gradcampp_min_cancellation"] < 0.05:
        raise QualityError(f"{case_name}: ill-conditioned Grad-CAM++")
    if min(checks["eigencam_s0_over_s1"]) < 1.05:
        raise QualityError(f"{case_name}: near-degenerate EigenCAM")
    if checks["zero_gradcam_maps"] > maps["gradcam"].shape[0] * k // 4:
        raise QualityError(f"{case_name}: too many all-zero maps")
    res = dataclasses.replace(
        per[0], targets=np.tile(np.arange(k, dtype=np.int64), (per[0].output.shape[0], 1)),
        gradients=np.stack([r.gradients for r in per], axis=1))
    return dict(name=case_name, target="all", score=score, res=res, maps=maps, checks=checks,
                raw_shape=raw_shape)


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
                x32 = make_input(seed, size, fx.get("channels", 3))
                if fx.get("bn_from_input"):
                    bn_statistics_from(model32, x32)
                factor = calibrate(model32, x32, score_module, kind, fx.get("logit_std", 0.5))
                with torch.no_grad():
                    z = model32(x32).reshape(N_IMAGES, -1)
                # Multi-label cases explain every class: no predicted class to keep apart.
                if z.shape[1] > 1 and any(c[1] != "all" for c in fx["cases"]):
                    top2 = z.topk(2, dim=1).values
                    margin = float((top2[:, 0] - top2[:, 1]).min())
                    classes = len(set(z.argmax(dim=1).tolist()))
                    if margin < fx.get("min_margin", 0.05) or classes < 2:
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
        kept = [m for m in cams.METHODS if m not in fx.get("skip_methods", ())]
        for m in kept:
            arr = maps[m]
            save(os.path.join(cdir, f"cam_{m}.npy"), arr, np.float32)
            files.append(f"cam_{m}.npy")
        index_cases.append({
            "name": c["name"],
            "dir": f"{name}/{c['name']}",
            "target": c["target"],
            "score": c["score"],
            "targets": res.targets.tolist(),
            "methods": kept,
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
        "layerTensorShape": cases[0]["raw_shape"],
        **({"transform": fx["transform"]} if fx.get("transform") else {}),
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
