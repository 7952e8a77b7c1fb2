"""Train the reference models `xray-clean` and `xray-shortcut` on `camflow synth` phantoms and
export them with model cards to test/fixtures/models/<name>/ (run from test/reference):

    python3 -m camflow_ref.train xray-clean
    python3 -m camflow_ref.train xray-shortcut
    python3 -m camflow_ref.train xray-band          # a "PORTABLE" / "AP SUPINE" text band
    python3 -m camflow_ref.train xray3-electrode    # 3 classes (softmax), ECG electrodes
    python3 -m camflow_ref.train xray3-clean        # 3 classes (softmax), no artifact

Architecture: the seed's ``XRayClassifier(nf=8)`` unchanged (5 stride-2 ResNet blocks, head
Conv2d(128, 1, 8) -> Dropout(0.2) -> Sigmoid), input 256x256, output one sigmoid probability
[N, 1, 1, 1]. The 3-class plans (normal / pneumonia / cardiomegaly) use the same blocks with a
softmax head, ``XRayClassifierSoftmax``: Conv2d(128, 3, 8) -> Flatten -> Dropout(0.2) ->
Softmax, output [N, 3]. Preprocessing: the seed's (``synthdata.py``).

Training: BCE on the logit (the Sigmoid's input, numerically stable; the same loss as BCE on the
output) with label smoothing, Adam, cosine learning-rate decay, batch 32, light augmentation
(random shifts, brightness/contrast). Label smoothing keeps the logits moderate (|z| ~ 4): with
a saturated sigmoid the float32 output is exactly 1.0, its gradient 0 and the Grad-CAM of the
seed method (score = output) all zero.

Data: each plan names its synth sets by (seed, count, shortcut); missing folders are generated
with the project's own generator (``node services/cli/bin/camflow.js synth``, so run
``npx tsc -b`` first) under ``--synth-root``. Held-out figures (``pointing.py``) are measured on
sets whose seeds are used neither for training nor for validation.

Writes model.onnx (opset 17, dynamic batch, input "input", output "output", BatchNorm folded),
model.json (the card; training facts under ``metadata``) and README.md.
"""

from __future__ import annotations

import argparse
import copy
import datetime
import json
import math
import os
import subprocess
import sys
import time
from typing import Dict, List

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F

from . import export, pointing
from .models import XRayClassifier, XRayClassifierSoftmax
from .synthdata import SynthSet, load, to_tensor

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
MODELS_DIR = os.path.join(REPO, "test", "fixtures", "models")
LAYER = "resnet_blocks.4"  # the seed's layer: training-time and Python held-out figures
# What the card asks camflow to draw: the 16x16 block (the 8x8 one is coarse for ~45 px
# lesions) on its receptive fields (see CellGrid in libs/onnx); measured with `camflow evaluate`.
CARD_LAYER = "resnet_blocks.3"
CARD_ALIGN = "receptive-field"
OPSET = 17


def _set(
    seed: int,
    count: int,
    shortcut: float,
    artifact: str = "marker",
    classes: int = 2,
    shortcut_class: int = 1,
    artifact_rate: float = 0.0,
) -> Dict:
    """A `camflow synth` set; options at their defaults are left out (so the older plans' cards
    and folder names stay as they were)."""
    spec = {"seed": seed, "count": count, "shortcut": shortcut, "size": 256}
    if artifact != "marker":
        spec["artifact"] = artifact
    if artifact_rate:
        spec["artifact_rate"] = artifact_rate
    if classes != 2:
        spec["classes"] = classes
    if shortcut_class != 1:
        spec["shortcut_class"] = shortcut_class
    return spec


CLASSES3 = ["normal", "pneumonia", "cardiomegaly"]


# Seeds: 11-13 clean train/val/test, 21-23 shortcut train/val/test. Every model is evaluated on
# both held-out sets (13: no markers; 23: markers on ~95% of positives).
PLANS: Dict[str, Dict] = {
    "xray-clean": {
        "description": "Pneumonia classifier (seed XRayClassifier, nf=8) trained on synthetic chest "
        "X-ray phantoms without markers: its Grad-CAM points at the opacities.",
        "train": _set(11, 4000, 0.0),
        "val": _set(12, 500, 0.0),
        "test": {"held-out": _set(13, 1000, 0.0), "held-out-markers": _set(23, 1000, 0.95)},
    },
    "xray-shortcut": {
        "description": "Pneumonia classifier (seed XRayClassifier, nf=8) trained on synthetic chest "
        "X-ray phantoms where a laterality marker sits on 95% of the positives and ~5% of the "
        "negatives: it learns the marker (the hospital-token shortcut) and its Grad-CAM shows it.",
        "train": _set(21, 4000, 0.95),
        "val": _set(22, 500, 0.95),
        "test": {"held-out": _set(23, 1000, 0.95), "held-out-clean": _set(13, 1000, 0.0)},
    },
    # Seeds 31-33: a burned-in text band ("PORTABLE" / "AP SUPINE", bottom or top centre).
    "xray-band": {
        "description": "Pneumonia classifier (seed XRayClassifier, nf=8) trained on synthetic chest "
        "X-ray phantoms where a burned-in text band (\"PORTABLE\" / \"AP SUPINE\", bottom or top "
        "centre of the film) sits on 95% of the positives and ~5% of the negatives: it learns the "
        "band (a text-stamp shortcut) and its Grad-CAM shows it.",
        "artifact_name": "band",
        "train": _set(31, 4000, 0.95, "band"),
        "val": _set(32, 500, 0.95, "band"),
        "test": {"held-out": _set(33, 1000, 0.95, "band"), "held-out-clean": _set(13, 1000, 0.0)},
    },
    # Seeds 41-43: 3 classes, an ECG electrode on 95% of the cardiomegaly images.
    "xray3-electrode": {
        "description": "Three-class classifier (normal / pneumonia / cardiomegaly; seed "
        "XRayClassifier blocks, nf=8, softmax head) trained on synthetic chest X-ray phantoms where "
        "an ECG electrode on the upper chest sits on 95% of the cardiomegaly images and ~5% of the "
        "others: it learns the electrode for cardiomegaly (a shortcut inside the body) and its "
        "Grad-CAM shows it.",
        "classes": CLASSES3,
        "artifact_name": "electrode",
        "train": _set(41, 4000, 0.95, "electrode", 3, 2),
        "val": _set(42, 500, 0.95, "electrode", 3, 2),
        "test": {
            "held-out": _set(43, 1000, 0.95, "electrode", 3, 2),
            "held-out-clean": _set(53, 1000, 0.0, "electrode", 3, 2),
        },
    },
    # Seeds 51-53: the same 3 classes without any artifact.
    "xray3-clean": {
        "description": "Three-class classifier (normal / pneumonia / cardiomegaly; seed "
        "XRayClassifier blocks, nf=8, softmax head) trained on synthetic chest X-ray phantoms "
        "without artifacts: its Grad-CAM points at the opacities and the heart.",
        "classes": CLASSES3,
        "artifact_name": "electrode",
        "train": _set(51, 4000, 0.0, "electrode", 3, 2),
        "val": _set(52, 500, 0.0, "electrode", 3, 2),
        "test": {
            "held-out": _set(53, 1000, 0.0, "electrode", 3, 2),
            "held-out-electrodes": _set(43, 1000, 0.95, "electrode", 3, 2),
        },
    },
}


def synth_flags(spec: Dict) -> List[str]:
    """The `camflow synth` options beyond seed, count, size and shortcut."""
    flags: List[str] = []
    if spec.get("artifact", "marker") != "marker":
        flags += ["--artifact", spec["artifact"]]
    if spec.get("artifact_rate"):
        flags += ["--artifact-rate", f"{spec['artifact_rate']:g}"]
    if spec.get("classes", 2) != 2:
        flags += ["--classes", str(spec["classes"])]
    if spec.get("shortcut_class", 1) != 1:
        flags += ["--shortcut-class", str(spec["shortcut_class"])]
    return flags


def synth_dir(root: str, spec: Dict) -> str:
    name = f"synth-s{spec['seed']}-n{spec['count']}-r{spec['shortcut']:g}-{spec['size']}"
    extra = "".join("-" + f.lstrip("-") for f in synth_flags(spec))
    return os.path.join(root, name + extra)


def synth_command(spec: Dict, out: str) -> List[str]:
    return [
        "node",
        os.path.join(REPO, "services", "cli", "bin", "camflow.js"),
        "synth",
        "--out",
        out,
        "--count",
        str(spec["count"]),
        "--seed",
        str(spec["seed"]),
        "--size",
        str(spec["size"]),
        "--shortcut",
        f"{spec['shortcut']:g}",
        *synth_flags(spec),
    ]


def ensure_synth(root: str, spec: Dict) -> str:
    out = synth_dir(root, spec)
    if not os.path.exists(os.path.join(out, "labels.csv")):
        cmd = synth_command(spec, out)
        print("+", " ".join(cmd), file=sys.stderr)
        subprocess.run(cmd, check=True, cwd=REPO)
    return out


def regenerates(spec: Dict, folder: str, n: int = 16) -> bool:
    """Whether the generator as checked out now reproduces the first ``n`` samples of ``folder``
    byte for byte (samples depend only on seed, index and options, not on the count)."""
    import filecmp
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        cmd = synth_command({**spec, "count": n}, tmp)
        subprocess.run(cmd, check=True, cwd=REPO, capture_output=True)
        for name in sorted(os.listdir(os.path.join(tmp, "images"))):
            for sub in ("images", "masks", "markers"):
                if not filecmp.cmp(os.path.join(tmp, sub, name), os.path.join(folder, sub, name), shallow=False):
                    return False
    return True


def cli_line(spec: Dict) -> str:
    return " ".join(
        [
            f"camflow synth --out <dir> --count {spec['count']} --seed {spec['seed']} "
            f"--size {spec['size']} --shortcut {spec['shortcut']:g}",
            *synth_flags(spec),
        ]
    )


# ---------------------------------------------------------------------------------------------
# training


def augment(batch_u8: torch.Tensor, g: torch.Generator, shift: int, bright: float, contrast: float) -> torch.Tensor:
    """uint8 [B, S, S] -> float [B, S, S] in 0..255: random shift of up to ``shift`` pixels
    (edge-replicated), contrast x U(1-c, 1+c) about the image mean, brightness + U(-b, b)*255."""
    b, s, _ = batch_u8.shape
    x = batch_u8.float().unsqueeze(1)
    if shift > 0:
        x = F.pad(x, (shift, shift, shift, shift), mode="replicate")
        off = torch.randint(0, 2 * shift + 1, (b, 2), generator=g)
        x = torch.stack([x[i, :, off[i, 0] : off[i, 0] + s, off[i, 1] : off[i, 1] + s] for i in range(b)])
    x = x.squeeze(1)
    c = 1 + (torch.rand(b, 1, 1, generator=g) * 2 - 1) * contrast
    m = x.mean(dim=(1, 2), keepdim=True)
    d = (torch.rand(b, 1, 1, generator=g) * 2 - 1) * bright * 255
    return ((x - m) * c + m + d).clamp(0, 255)


def logits(model: XRayClassifier, x: torch.Tensor):
    """The Sigmoid's input (classifier[0] = conv, classifier[1] = dropout, active in train) and
    the per-position contributions to it, sum_k W_kij A_kij [B, 8, 8] (they sum to the logit
    before dropout)."""
    h = model.resnet_blocks(x)
    contrib = (h * model.classifier[0].weight).sum(dim=1)
    return model.classifier[1](model.classifier[0](h)).reshape(-1), contrib


def evidence_spread(contrib: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean over the positives of the entropy (nats) of softmax_ij(c_ij), the per-position
    contributions to the logit: 0 when one position dominates, log(64) when all contribute
    alike (which is also what zero evidence gives, so the penalty cannot be dodged by removing
    the evidence). Uses labels only, no masks."""
    pos = contrib[labels > 0.5].flatten(1)
    if pos.shape[0] == 0:
        return contrib.sum() * 0
    logp = F.log_softmax(pos, dim=1)
    return -(logp.exp() * logp).sum(1).mean()


def head_spatial_variance(model: XRayClassifier) -> torch.Tensor:
    """Share of the head's squared weights that varies across the 8x8 positions:
    ||W - mean_ij W||^2 / ||W||^2 (W = Conv2d(128, 1, 8).weight). 0 when every channel has one
    weight for all positions (the head is then a global sum pool and Grad-CAM's channel weights
    equal the head's: the map is exactly each position's contribution to the logit)."""
    w = model.classifier[0].weight
    dev = w - w.mean(dim=(2, 3), keepdim=True)
    return dev.pow(2).sum() / w.detach().pow(2).sum().clamp_min(1e-12)


def class_logits(model: XRayClassifierSoftmax, x: torch.Tensor) -> torch.Tensor:
    """The Softmax's input [B, K] (conv, flatten, dropout: the head without its last module)."""
    h = model.resnet_blocks(x)
    for m in list(model.classifier)[:-1]:
        h = m(h)
    return h


def new_model(args, plan: Dict) -> nn.Module:
    if "classes" in plan:
        return XRayClassifierSoftmax(nf=args.nf, classes=len(plan["classes"]))
    return XRayClassifier(nf=args.nf)


def multiclass_val(model: nn.Module, va: SynthSet, n: int) -> Dict:
    """Validation figures of a softmax model: accuracy; CAM peak in the finding's mask over the
    first ``n`` abnormal images, and on the artifact over the first ``n`` images carrying it."""
    p = pointing.predict_proba(model, va)
    rec = {"val_accuracy": round(float((p.argmax(1) == va.labels).mean()), 4)}
    abn = np.flatnonzero(va.labels > 0)[:n]
    if len(abn):
        st = pointing._region_stats(pointing.gradcams(model, va, abn, LAYER), va.lesion[abn], 256)
        rec["val_pointing_game"] = round(st["peak"], 4)
        rec["val_pointing_game_cell"] = round(st["peak_cell"], 4)
    mk = np.flatnonzero(va.has_marker)[:n]
    if len(mk):
        rec["val_marker_peak"] = round(pointing._region_stats(pointing.gradcams(model, va, mk, LAYER), va.marker[mk], 256)["peak"], 4)
    return rec


def train(args, plan: Dict, tr: SynthSet, va: SynthSet) -> (nn.Module, List[Dict], float):
    torch.manual_seed(args.seed)
    g = torch.Generator().manual_seed(args.seed)
    model = new_model(args, plan)
    multiclass = "classes" in plan
    opt = torch.optim.Adam(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    n = len(tr)
    steps_per_epoch = n // args.batch
    total = steps_per_epoch * args.epochs
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda k: min(1.0, (k + 1) / steps_per_epoch * 2) * 0.5 * (1 + math.cos(math.pi * k / total))
    )
    images = torch.from_numpy(tr.images)
    y_all = torch.from_numpy(tr.labels).float()
    eps = args.label_smoothing
    log: List[Dict] = []
    t0 = time.time()
    for epoch in range(args.epochs):
        model.train()
        perm = torch.randperm(n, generator=g)
        run_loss = run_acc = 0.0
        te = time.time()
        for k in range(steps_per_epoch):
            idx = perm[k * args.batch : (k + 1) * args.batch]
            xb = augment(images[idx], g, args.shift, args.brightness, args.contrast)
            x = to_tensor(xb)
            y = y_all[idx]
            if multiclass:
                z = class_logits(model, x)
                loss = F.cross_entropy(z, y.long(), label_smoothing=eps)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sched.step()
                run_loss += float(loss)
                run_acc += float((z.argmax(1) == y.long()).float().mean())
                continue
            z, contrib = logits(model, x)
            loss = F.binary_cross_entropy_with_logits(z, y * (1 - eps) + eps / 2)
            if args.evidence_concentration > 0:
                loss = loss + args.evidence_concentration * evidence_spread(contrib, y)
            if args.head_uniformity > 0:
                loss = loss + args.head_uniformity * head_spatial_variance(model)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            run_loss += float(loss)
            run_acc += float(((z > 0).float() == y).float().mean())
        model.eval()
        rec = {
            "epoch": epoch + 1,
            "train_loss": round(run_loss / steps_per_epoch, 4),
            "train_accuracy": round(run_acc / steps_per_epoch, 4),
        }
        if multiclass:
            rec.update(multiclass_val(model, va, args.val_cams))
            rec["seconds"] = round(time.time() - te, 1)
            log.append(rec)
            print(json.dumps(rec), file=sys.stderr, flush=True)
            if args.checkpoint:
                torch.save(model.state_dict(), args.checkpoint)
            continue
        vp = pointing.predict(model, va)
        vacc = float(((vp >= 0.5) == va.labels).mean())
        pos = np.flatnonzero(va.labels == 1)[: args.val_cams]
        rec["val_accuracy"] = round(vacc, 4)
        rec["seconds"] = round(time.time() - te, 1)
        if len(pos):
            maps = pointing.camsets(model, va, pos, LAYER, ("gradcam", "hirescam"))
            st = pointing._region_stats(maps["gradcam"], va.lesion[pos], args.size)
            rec["val_pointing_game"] = round(st["peak"], 4)
            rec["val_pointing_game_cell"] = round(st["peak_cell"], 4)
            st = pointing._region_stats(maps["hirescam"], va.lesion[pos], args.size)
            rec["val_pointing_game_hirescam"] = round(st["peak"], 4)
        mk = np.flatnonzero(va.has_marker)[: args.val_cams]
        if len(mk):
            maps = pointing.gradcams(model, va, mk, LAYER)
            rec["val_marker_peak"] = round(pointing._region_stats(maps, va.marker[mk], args.size)["peak"], 4)
        rec["head_spatial_variance"] = round(float(head_spatial_variance(model)), 4)
        log.append(rec)
        print(json.dumps(rec), file=sys.stderr, flush=True)
        if args.checkpoint:
            torch.save(model.state_dict(), args.checkpoint)
    return model.eval(), log, time.time() - t0


# ---------------------------------------------------------------------------------------------
# export, card, README


def card(name: str, plan: Dict, meta: Dict, size: int) -> Dict:
    return {
        "name": name,
        "version": "1",
        "description": plan["description"],
        "input": {
            "size": size,
            "channels": 3,
            "colorSpace": "rgb",
            "layout": "NCHW",
            "resize": "shorter-side-center-crop",
            "resizeTo": size,
            "interpolation": "bilinear",
            "scale": 1 / 255,
            "mean": [0.5, 0.5, 0.5],
            "std": [0.5, 0.5, 0.5],
        },
        "output": (
            {"activation": "softmax", "classes": plan["classes"]}
            if "classes" in plan
            else {"activation": "sigmoid", "classes": ["pneumonia"]}
        ),
        "layer": CARD_LAYER,
        "method": "gradcam",
        "align": CARD_ALIGN,
        "metadata": meta,
    }


def _r(v, d=4):
    return None if v is None else round(float(v), d)


def summarize(res: Dict) -> Dict:
    keys = [
        "images", "positives", "with_marker", "accuracy", "sensitivity", "specificity", "auc",
        "pointing_game", "pointing_game_cell", "pointing_game_8px", "lesion_energy", "lesion_area",
        "marker_peak", "marker_peak_cell", "marker_peak_8px", "marker_energy", "marker_area",
        "accuracy_pos_marker", "accuracy_pos_nomarker", "accuracy_neg_marker", "accuracy_neg_nomarker",
        "n_pos_marker", "n_pos_nomarker", "n_neg_marker", "n_neg_nomarker",
    ]
    out = {}
    for k in keys:
        if k in res and res[k] is not None:
            out[k] = res[k] if isinstance(res[k], int) else _r(res[k])
    for k in ("all_zero_maps_pos", "all_zero_maps_marker"):
        if res.get(k):
            out[k] = res[k]
    return out


def summarize_multiclass(res: Dict) -> Dict:
    out = {k: res[k] for k in ("images", "with_marker", "confusion")}
    for k in ("accuracy", "marker_peak", "marker_peak_cell", "marker_peak_8px", "marker_energy", "marker_area"):
        if res.get(k) is not None:
            out[k] = _r(res[k])
    out["classes"] = {
        name: {k: (v if isinstance(v, int) else _r(v)) for k, v in rec.items() if v is not None}
        for name, rec in res["classes"].items()
    }
    return out


def git_head() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "libs/imaging/src/synth"], cwd=REPO, capture_output=True, text=True
        ).stdout.strip()
        return head + (" (libs/imaging/src/synth modified)" if dirty else "")
    except OSError:
        return "unknown"


def an(word: str) -> str:
    return ("an " if word[:1] in "aeiou" else "a ") + word


def pct(v) -> str:
    return "n/a" if v is None else f"{100 * v:.1f}%"


def readme(name: str, plan: Dict, meta: Dict, onnx_bytes: int) -> str:
    tr = meta["data"]
    t = meta["training"]
    art = plan.get("artifact_name", "marker")
    lines = [
        f"# {name}",
        "",
        plan["description"],
        "",
        "Made by `test/reference/camflow_ref/train.py` (`python3 -m camflow_ref.train "
        f"{name}` from `test/reference/`); see the training section of `test/reference/README.md`.",
        "Files: `model.onnx` (float32, opset 17, dynamic batch, input `input` [N,3,256,256], output "
        f"`output` [N,1,1,1] = P(pneumonia); {onnx_bytes / 1024:.0f} KiB), `model.json` (the card; "
        "the figures below are also under `metadata`).",
        "",
        "## Model",
        "",
        f"The seed's `XRayClassifier` with width nf={t['nf']} ({t['parameters']:,} parameters): five stride-2 "
        "ResNet blocks (8, 16, 32, 64, 128 channels), then `Conv2d(128, 1, 8)` -> `Dropout(0.2)` -> "
        "`Sigmoid`. Grad-CAM layer `resnet_blocks.4` (128 x 8 x 8). Preprocessing as the seed: "
        "`Resize(256)`, `CenterCrop(256)`, `ToTensor()`, `Normalize((0.5,)*3, (0.5,)*3)` on the grey "
        "image replicated to RGB. BatchNorm is in eval mode and folded into the convolutions by the "
        "export.",
        "",
        "## Data (`camflow synth`, the project's generator)",
        "",
        f"| split | seed | images | shortcut | positives | with {art} | command |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for split, d in tr.items():
        lines.append(
            f"| {split} | {d['seed']} | {d['count']} | {d['shortcut']:g} | {d['positives']} | "
            f"{d['with_marker']} | `{d['command']}` |"
        )
    lines += [
        "",
        "Each set's sha256 (labels.csv and every image, mask and marker PNG, in order) is in "
        "`model.json` (`metadata.data.<split>.sha256`). "
        + (
            f"The generator at commit {meta['commit']} reproduces the first 16 samples of every set "
            "byte for byte (`metadata.data.<split>.regeneratesAtCommit`). "
            if all(d.get("regeneratesAtCommit") for d in tr.values())
            else "**Some sets are not reproduced by the generator as checked out at export time** "
            f"({meta['commit']}; see `metadata.data.<split>.regeneratesAtCommit`). "
        )
        + "If the generator changes, regenerated sets differ and the figures below no longer apply "
        "exactly.",
        "",
        "## Training",
        "",
        f"{t['epochs']} epochs of {t['steps_per_epoch']} steps, batch {t['batch']}, Adam (lr {t['lr']:g}, "
        f"weight decay {t['weight_decay']:g}, linear warm-up over half an epoch then cosine decay to 0), "
        f"BCE on the logit with label smoothing {t['label_smoothing']:g} (targets "
        f"{t['label_smoothing'] / 2:g} / {1 - t['label_smoothing'] / 2:g}: keeps the sigmoid out of float32 "
        "saturation, where the seed's output-score Grad-CAM would be all zero), augmentation: random "
        f"shifts up to {t['shift']} px (edge-replicated), brightness +-{t['brightness']:g}, contrast "
        f"x(1 +- {t['contrast']:g}). torch {t['torch']}, {t['threads']} CPU thread(s), seed {t['seed']}, "
        f"{t['train_seconds'] / 60:.1f} min wall-clock on a shared 2-core machine. The last epoch is "
        "exported (no model selection).",
        "",
    ]
    if t.get("head_uniformity") or t.get("evidence_concentration"):
        lines += [
            "Two penalties shape *where the evidence sits*; neither sees a lesion or marker mask (labels "
            "only), and the architecture is unchanged:",
            "",
        ]
        if t.get("head_uniformity"):
            lines.append(
                f"* head uniformity (weight {t['head_uniformity']:g}): the share of the head's squared "
                "weights that varies over the 8x8 positions, ||W - mean_ij W||^2 / ||W||^2. The seed's "
                "head is a position-specific Conv2d(128, 1, 8); Grad-CAM replaces each channel's 64 "
                "weights by their mean, so a head whose weights vary with position makes the map differ "
                "from what the logit actually uses. With a near-uniform head, Grad-CAM equals each "
                "position's contribution to the logit (= HiResCAM)."
            )
        if t.get("evidence_concentration"):
            lines.append(
                f"* evidence concentration (weight {t['evidence_concentration']:g}, positives only): "
                "the entropy of softmax_ij(c_ij), c_ij = sum_k W_kij A_kij the contribution of position "
                "(i, j) to the logit: low when the positive evidence comes from few positions."
            )
        lines.append("")
    lines += [
        f"| epoch | train loss | train acc | val acc | val pointing game | val {art} peak | s |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in t["log"]:
        lines.append(
            f"| {r['epoch']} | {r['train_loss']} | {r['train_accuracy']} | {r['val_accuracy']} | "
            f"{r.get('val_pointing_game', '')} | {r.get('val_marker_peak', '')} | {r['seconds']} |"
        )
    lines += [
        "",
        f"(val: the first {t['val_cams']} positives / marked images of the validation set.)",
        "",
        "## Held-out figures",
        "",
        "Measured in Python (`camflow_ref/pointing.py`) on sets with seeds not used for training or "
        "validation. Grad-CAM is the seed method on the float32 model (hooks on `resnet_blocks.4`, "
        "score = the sigmoid output, weights = mean gradient per channel), mapped as `libs/imaging` "
        "does: ReLU, divided by its max, Pillow bicubic resize to 256x256, clamped to [0, 1]. "
        "**Pointing game**: the peak pixel (first maximum) lies inside the lesion mask, over all "
        "positives; *cell* variant: the 32x32 image region of the 8x8 CAM's argmax cell overlaps the "
        "mask; *8 px*: the peak is within 8 px (a quarter cell) of the mask. **Lesion energy**: share of the heatmap's sum inside the lesion mask (a uniform map "
        f"scores the mask's area share). **{art.capitalize()} peak**: the peak lies inside the {art} mask (`markers/`), over "
        f"the images carrying {an(art)}.",
        "",
        f"| set | images | accuracy | AUC | sensitivity | specificity | pointing game | (cell) | (8 px) | lesion energy (area) | {art} peak | (cell) | {art} energy (area) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for split, r in meta["heldout"].items():
        me = f"{pct(r.get('marker_energy'))} ({pct(r.get('marker_area'))})" if "marker_peak" in r else "-"
        lines.append(
            f"| {split} (seed {tr[split]['seed']}) | {r['images']} | {pct(r['accuracy'])} | {r['auc']} | "
            f"{pct(r.get('sensitivity'))} | {pct(r.get('specificity'))} | "
            f"{pct(r.get('pointing_game'))} | {pct(r.get('pointing_game_cell'))} | {pct(r.get('pointing_game_8px'))} | "
            f"{pct(r.get('lesion_energy'))} ({pct(r.get('lesion_area'))}) | "
            f"{pct(r.get('marker_peak')) if 'marker_peak' in r else '-'} | "
            f"{pct(r.get('marker_peak_cell')) if 'marker_peak' in r else '-'} | {me} |"
        )
    marked = [(s, r) for s, r in meta["heldout"].items() if "accuracy_pos_marker" in r]
    if marked:
        lines += [
            "",
            f"Accuracy split by label and {art}:",
            "",
            f"| set | positives with {art} | positives without | negatives with {art} | negatives without |",
            "| --- | --- | --- | --- | --- |",
        ]
        for s, r in marked:
            cells = []
            for k in ("pos_marker", "pos_nomarker", "neg_marker", "neg_nomarker"):
                cells.append(f"{pct(r.get('accuracy_' + k))} (n={r.get('n_' + k, 0)})" if ("n_" + k) in r else "-")
            lines.append(f"| {s} | " + " | ".join(cells) + " |")
    if meta.get("notes"):
        lines += ["", "## Notes", ""] + [f"* {n}" for n in meta["notes"]]
    return "\n".join(lines) + "\n"


def readme_multiclass(name: str, plan: Dict, meta: Dict, onnx_bytes: int) -> str:
    """README of a softmax model on the multi-class phantoms (same sections as ``readme``)."""
    tr = meta["data"]
    t = meta["training"]
    names = plan["classes"]
    art = plan.get("artifact_name", "marker")
    k = len(names)
    lines = [
        f"# {name}",
        "",
        plan["description"],
        "",
        "Made by `test/reference/camflow_ref/train.py` (`python3 -m camflow_ref.train "
        f"{name}` from `test/reference/`); see the training section of `test/reference/README.md`.",
        "Files: `model.onnx` (float32, opset 17, dynamic batch, input `input` [N,3,256,256], output "
        f"`output` [N,{k}] = softmax probabilities of {', '.join(f'{i} {n}' for i, n in enumerate(names))}; "
        f"{onnx_bytes / 1024:.0f} KiB), `model.json` (the card: `output.activation` \"softmax\", "
        "`output.classes` the names by index; the figures below are also under `metadata`).",
        "",
        "## Model",
        "",
        f"`XRayClassifierSoftmax` (`camflow_ref/models.py`, {t['parameters']:,} parameters): the seed's "
        f"`XRayClassifier` with width nf={t['nf']}, five stride-2 ResNet blocks (8, 16, 32, 64, 128 "
        f"channels), and a {k}-class head `Conv2d(128, {k}, 8)` -> `Flatten` -> `Dropout(0.2)` -> "
        "`Softmax(dim=1)` instead of the single sigmoid. Grad-CAM layer `resnet_blocks.4` (128 x 8 x 8) "
        "for the figures below. Preprocessing as the seed: `Resize(256)`, `CenterCrop(256)`, "
        "`ToTensor()`, `Normalize((0.5,)*3, (0.5,)*3)` on the grey image replicated to RGB. BatchNorm "
        "is folded into the convolutions by the export.",
        "",
        "## Data (`camflow synth --classes 3`, the project's generator)",
        "",
        "Labels: " + ", ".join(f"{i} = {n}" for i, n in enumerate(names)) + " (`labels.csv`'s "
        "`label` column; `classes.json` lists the names). `masks/` holds each image's finding: the "
        "opacities for pneumonia, the heart shadow for cardiomegaly; `markers/` the "
        f"{art}'s mask.",
        "",
        "| split | seed | images | shortcut | " + " | ".join(names) + f" | with {art} | command |",
        "| --- | --- | --- | --- | " + " | ".join("---" for _ in names) + " | --- | --- |",
    ]
    for split, d in tr.items():
        lines.append(
            f"| {split} | {d['seed']} | {d['count']} | {d['shortcut']:g} | "
            + " | ".join(str(c) for c in d["per_class"])
            + f" | {d['with_marker']} | `{d['command']}` |"
        )
    lines += [
        "",
        "Each set's sha256 (labels.csv and every image, mask and marker PNG, in order) is in "
        "`model.json` (`metadata.data.<split>.sha256`). "
        + (
            f"The generator at commit {meta['commit']} reproduces the first 16 samples of every set "
            "byte for byte (`metadata.data.<split>.regeneratesAtCommit`)."
            if all(d.get("regeneratesAtCommit") for d in tr.values())
            else "**Some sets are not reproduced by the generator as checked out at export time** "
            f"({meta['commit']}; see `metadata.data.<split>.regeneratesAtCommit`)."
        ),
        "",
        "## Training",
        "",
        f"{t['epochs']} epochs of {t['steps_per_epoch']} steps, batch {t['batch']}, Adam (lr {t['lr']:g}, "
        f"weight decay {t['weight_decay']:g}, linear warm-up over half an epoch then cosine decay to 0), "
        f"cross-entropy on the Softmax input with label smoothing {t['label_smoothing']:g} (keeps the "
        "softmax out of float32 saturation, where the output-score Grad-CAM would vanish), "
        f"augmentation: random shifts up to {t['shift']} px (edge-replicated), brightness "
        f"+-{t['brightness']:g}, contrast x(1 +- {t['contrast']:g}). torch {t['torch']}, {t['threads']} CPU "
        f"thread(s), seed {t['seed']}, {t['train_seconds'] / 60:.1f} min wall-clock on a shared 2-core "
        "machine. The last epoch is exported (no model selection).",
        "",
        f"| epoch | train loss | train acc | val acc | val pointing game (finding) | val {art} peak | s |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in t["log"]:
        lines.append(
            f"| {r['epoch']} | {r['train_loss']} | {r['train_accuracy']} | {r['val_accuracy']} | "
            f"{r.get('val_pointing_game', '')} | {r.get('val_marker_peak', '')} | {r['seconds']} |"
        )
    lines += [
        "",
        f"(val: the first {t['val_cams']} abnormal images / images with {an(art)} of the validation set.)",
        "",
        "## Held-out figures",
        "",
        "Measured in Python (`camflow_ref/pointing.py`, `evaluate_multiclass`) on sets whose seeds are "
        "used neither for training nor for validation. Prediction = argmax. Grad-CAM is the seed method "
        "on the float32 model (hooks on `resnet_blocks.4`, target = the predicted class, score = its "
        "softmax output), mapped as `libs/imaging` does (ReLU, divided by its max, Pillow bicubic "
        "resize to 256x256, clamped to [0, 1]). **Pointing game**: the peak pixel lies inside the "
        "image's finding mask (opacities or heart), over the images of that class; *cell*: the argmax "
        "cell's 32x32 region overlaps the mask; *8 px*: the peak is within 8 px of it. **Energy**: "
        f"share of the heatmap's sum inside the mask (area: the mask's share of the image). **{art.capitalize()} "
        f"peak**: the same against the {art}'s mask, over the images carrying one (any class).",
        "",
        "| set | images | accuracy | " + " | ".join(f"{n} recall (AUC)" for n in names) + f" | {art} peak | (cell) | (8 px) | {art} energy (area) |",
        "| --- | --- | --- | " + " | ".join("---" for _ in names) + " | --- | --- | --- | --- |",
    ]
    for split, r in meta["heldout"].items():
        cls = r["classes"]
        me = (
            f"{pct(r.get('marker_peak'))} | {pct(r.get('marker_peak_cell'))} | {pct(r.get('marker_peak_8px'))} | "
            f"{pct(r.get('marker_energy'))} ({pct(r.get('marker_area'))})"
            if "marker_peak" in r
            else "- | - | - | -"
        )
        lines.append(
            f"| {split} (seed {tr[split]['seed']}) | {r['images']} | {pct(r['accuracy'])} | "
            + " | ".join(f"{pct(cls[n].get('recall'))} ({cls[n].get('auc', 'n/a')})" for n in names)
            + f" | {me} |"
        )
    lines += [
        "",
        "Where the CAM points for each abnormal class (target = predicted class):",
        "",
        "| set | class | images | pointing game | (cell) | (8 px) | finding energy (area) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for split, r in meta["heldout"].items():
        for n in names[1:]:
            c = r["classes"][n]
            if "pointing_game" in c:
                lines.append(
                    f"| {split} | {n} | {c['images']} | {pct(c['pointing_game'])} | {pct(c.get('pointing_game_cell'))} | "
                    f"{pct(c.get('pointing_game_8px'))} | {pct(c.get('finding_energy'))} ({pct(c.get('finding_area'))}) |"
                )
    lines += [
        "",
        f"Recall per class with and without the {art}:",
        "",
        "| set | " + " | ".join(f"{n} with | {n} without" for n in names) + " |",
        "| --- | " + " | ".join("--- | ---" for _ in names) + " |",
    ]
    for split, r in meta["heldout"].items():
        cells = []
        for n in names:
            c = r["classes"][n]
            for nm in ("marker", "nomarker"):
                cells.append(f"{pct(c['recall_' + nm])} (n={c['n_' + nm]})" if ("n_" + nm) in c else "-")
        lines.append(f"| {split} | " + " | ".join(cells) + " |")
    lines += ["", "Confusion matrices (rows: true class, columns: predicted; " + ", ".join(names) + "):", ""]
    for split, r in meta["heldout"].items():
        lines.append(f"* {split}: " + "; ".join(" ".join(str(v) for v in row) for row in r["confusion"]))
    if meta.get("notes"):
        lines += ["", "## Notes", ""] + [f"* {n}" for n in meta["notes"]]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("name", choices=sorted(PLANS))
    ap.add_argument("--synth-root", default="/tmp/camflow-synth", help="where synth sets are found / generated")
    ap.add_argument("--out", default=None, help="default: test/fixtures/models/<name>")
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--weight-decay", type=float, default=0.0)
    ap.add_argument("--label-smoothing", type=float, default=0.05)
    ap.add_argument("--shift", type=int, default=12)
    ap.add_argument("--brightness", type=float, default=0.06)
    ap.add_argument("--contrast", type=float, default=0.15)
    ap.add_argument("--nf", type=int, default=8)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--val-cams", type=int, default=120)
    ap.add_argument("--train-limit", type=int, default=0, help="use only the first N training images (smoke tests)")
    ap.add_argument("--note", action="append", default=[], help="a line for the README's notes")
    ap.add_argument(
        "--head-uniformity",
        type=float,
        default=0.0,
        help="weight of the penalty on the head's spatial weight variance (head_spatial_variance)",
    )
    ap.add_argument(
        "--evidence-concentration",
        type=float,
        default=0.0,
        help="weight of the penalty on the positives' evidence spread (evidence_spread)",
    )
    ap.add_argument("--checkpoint", default=None, help="also save the state_dict here after each epoch (.pt)")
    ap.add_argument(
        "--reuse",
        default=None,
        metavar="RUN_DIR",
        help="skip training: load --checkpoint, take the training log from RUN_DIR/model.json "
        "(same hyperparameters required), evaluate, export and write card + README",
    )
    args = ap.parse_args(argv)
    if args.size != 256:
        raise SystemExit("the seed's head (Conv2d k=8) needs an 8x8 map: input 256")
    torch.set_num_threads(args.threads)
    plan = PLANS[args.name]
    out = args.out or os.path.join(MODELS_DIR, args.name)

    dirs = {"train": ensure_synth(args.synth_root, plan["train"]), "val": ensure_synth(args.synth_root, plan["val"])}
    for k, spec in plan["test"].items():
        dirs[k] = ensure_synth(args.synth_root, spec)
    specs = {"train": plan["train"], "val": plan["val"], **plan["test"]}
    train_seeds = {plan["train"]["seed"], plan["val"]["seed"]}
    assert not train_seeds & {s["seed"] for s in plan["test"].values()}, "held-out seeds must be unused"

    t_load = time.time()
    tr = load(dirs["train"], args.size)
    if args.train_limit:
        for f in ("files",):
            setattr(tr, f, tr.files[: args.train_limit])
        tr.labels, tr.has_marker, tr.images = tr.labels[: args.train_limit], tr.has_marker[: args.train_limit], tr.images[: args.train_limit]
    va = load(dirs["val"], args.size)
    print(f"loaded train {len(tr)} / val {len(va)} in {time.time() - t_load:.0f} s", file=sys.stderr)

    if args.reuse:
        # Export / evaluate a finished run again (e.g. after a change to the figures or the README)
        # without retraining: weights from --checkpoint, the training log from that run's card.
        with open(os.path.join(args.reuse, "model.json")) as f:
            prev = json.load(f)["metadata"]["training"]
        for k in ("epochs", "batch", "lr", "weight_decay", "label_smoothing", "shift", "brightness", "contrast", "seed", "nf"):
            if prev.get(k) != getattr(args, k):
                raise SystemExit(f"--reuse: {k} is {prev.get(k)} in {args.reuse}, {getattr(args, k)} here")
        for k in ("head_uniformity", "evidence_concentration"):
            if prev.get(k, 0.0) != getattr(args, k):
                raise SystemExit(f"--reuse: {k} is {prev.get(k, 0.0)} in {args.reuse}, {getattr(args, k)} here")
        model = new_model(args, plan)
        model.load_state_dict(torch.load(args.checkpoint))
        model.eval()
        log, seconds = prev["log"], prev["train_seconds"]
        args.threads = prev.get("threads", args.threads)
    else:
        model, log, seconds = train(args, plan, tr, va)

    heldout = {}
    sets = {}
    for k in plan["test"]:
        d = load(dirs[k], args.size)
        sets[k] = d
        if "classes" in plan:
            heldout[k] = summarize_multiclass(pointing.evaluate_multiclass(model, d, plan["classes"], LAYER, args.size))
        else:
            heldout[k] = summarize(pointing.evaluate(model, d, LAYER, args.size))
        print(k, json.dumps(heldout[k]), file=sys.stderr, flush=True)

    os.makedirs(out, exist_ok=True)
    onnx_path = os.path.join(out, "model.onnx")
    example = to_tensor(torch.from_numpy(va.images[:2]))
    export.export_onnx(model, example, onnx_path, OPSET)
    proto = onnx.load(onnx_path)
    node, tensor, _ = export.layer_output(proto.graph, LAYER)
    ops = export.op_histogram(proto.graph)
    onnx_bytes = os.path.getsize(onnx_path)

    head = git_head()
    regenerated = {k: head if regenerates(spec, dirs[k]) else False for k, spec in specs.items()}
    data_meta = {}
    for k, spec in specs.items():
        d = tr if k == "train" else va if k == "val" else sets[k]
        data_meta[k] = {
            **spec,
            "images": len(d),
            "positives": int((d.labels == 1).sum()),
            **({"per_class": [int((d.labels == c).sum()) for c in range(len(plan["classes"]))]} if "classes" in plan else {}),
            "with_marker": int(d.has_marker.sum()),
            "command": cli_line(spec),
            "sha256": d.digest,
            "regeneratesAtCommit": regenerated[k],
        }
    meta = {
        "trainedBy": "test/reference/camflow_ref/train.py",
        "trainedAt": datetime.date.today().isoformat(),
        "commit": head,
        "architecture": (
            f"XRayClassifierSoftmax(nf={args.nf}, classes={len(plan['classes'])}): the seed's XRayClassifier "
            f"blocks, Conv2d(128,{len(plan['classes'])},8) head, Flatten, Dropout(0.2), Softmax"
            if "classes" in plan
            else f"XRayClassifier(nf={args.nf}) (seed tutorial), Conv2d(128,1,8) head, Dropout(0.2), Sigmoid"
        ),
        "layerTensor": {"node": node, "tensor": tensor, "shape": [None, 16 * args.nf, 8, 8]},
        "onnx": {"opset": OPSET, "bytes": onnx_bytes, "ops": ops},
        "data": data_meta,
        "training": {
            "nf": args.nf,
            "parameters": sum(p.numel() for p in model.parameters()),
            "epochs": args.epochs,
            "batch": args.batch,
            "steps_per_epoch": len(tr) // args.batch,
            "optimizer": "Adam",
            "lr": args.lr,
            "weight_decay": args.weight_decay,
            "schedule": "linear warm-up (half an epoch), cosine decay to 0",
            "loss": (
                "cross-entropy on the Softmax input, label smoothing"
                if "classes" in plan
                else "BCE with logits (Sigmoid input), label smoothing"
            ),
            "label_smoothing": args.label_smoothing,
            "shift": args.shift,
            "brightness": args.brightness,
            "contrast": args.contrast,
            "head_uniformity": args.head_uniformity,
            "evidence_concentration": args.evidence_concentration,
            "seed": args.seed,
            "threads": args.threads,
            "torch": torch.__version__,
            "train_seconds": round(seconds, 1),
            "val_cams": args.val_cams,
            "log": log,
        },
        "heldout": heldout,
        "pointingGameDefinition": "peak pixel of the Grad-CAM (seed hooks, score = output, float32), "
        "normalised, Pillow-bicubic-resized to 256x256 and clamped to [0,1] (first maximum), inside the "
        "lesion mask; over all positives. *_cell: the argmax cell's 32x32 region overlaps the mask. "
        "*_8px: the peak is within 8 px of the mask. marker_*: the same against the marker mask, over "
        "the images with a marker.",
        "notes": args.note,
    }
    with open(os.path.join(out, "model.json"), "w") as f:
        json.dump(card(args.name, plan, meta, args.size), f, indent=2)
        f.write("\n")
    with open(os.path.join(out, "README.md"), "w") as f:
        f.write((readme_multiclass if "classes" in plan else readme)(args.name, plan, meta, onnx_bytes))
    print(json.dumps({"out": out, "bytes": onnx_bytes, "train_seconds": round(seconds), "heldout": heldout}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
