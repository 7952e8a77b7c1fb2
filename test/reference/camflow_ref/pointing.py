"""Held-out figures for a trained classifier on a synth set: accuracy and where Grad-CAM points.

The CAM is the seed method's (``seed_hooks.run_seed``: hooks on the layer, score = the model
output as exported, i.e. post-sigmoid, target "predicted") and ``cams.gradcam``, in float32 as
the ONNX engine computes it. It is mapped onto the image the way ``libs/imaging`` does
(``cammap.ts`` + ``stats.ts``): ReLU, divide by the max, Pillow bicubic resize of the 'F' image
to the tensor size, clamp to [0, 1]; the peak is the first strict maximum in row-major order
(an all-zero map has no peak and counts as a miss). The phantoms are square and as large as the
tensor, so the tensor is the image (no crop); other sizes compare at the tensor size with the
masks resized (nearest).

Figures:

* ``pointing_game``: fraction of positives whose peak pixel is inside the lesion mask.
* ``pointing_game_cell``: the lenient variant: the argmax cell of the raw CAM, as the image
  region it covers (size / h pixels square), overlaps the lesion mask.
* ``pointing_game_8px``: the peak pixel is within a quarter cell (8 px) of the lesion mask
  (near misses: the opacity's soft edge extends past the mask, which is alpha > 0.5).
* ``lesion_energy``: mean over positives of the share of the heatmap's sum inside the lesion
  mask (``lesion_area`` is the mask's mean share of the image: what a uniform map scores).
* ``marker_peak`` / ``marker_peak_cell`` / ``marker_energy``: the same against the marker mask,
  over the images that carry a marker.
"""

from __future__ import annotations

from typing import Dict, Optional

import numpy as np
import torch
import torch.nn as nn
from PIL import Image

from . import cams
from .seed_hooks import run_seed
from .synthdata import SynthSet, to_tensor


def upsample(cam: np.ndarray, size: int) -> np.ndarray:
    """[h, w] raw CAM -> [size, size] heatmap in [0, 1] as libs/imaging maps it."""
    c = np.maximum(cam.astype(np.float64), 0.0)
    m = c.max()
    if not (m > 0 and np.isfinite(m)):
        return np.zeros((size, size), dtype=np.float32)
    c = (c / m).astype(np.float32)
    up = np.asarray(Image.fromarray(c, mode="F").resize((size, size), Image.BICUBIC))
    return np.clip(up, 0.0, 1.0)


def peak_index(heat: np.ndarray) -> Optional[int]:
    """First strict maximum (row-major) among positive values; None for an all-zero map."""
    flat = heat.ravel()
    if not (flat > 0).any():
        return None
    return int(np.argmax(flat))  # numpy's argmax returns the first occurrence


def _fit(mask: np.ndarray, size: int) -> np.ndarray:
    if mask.shape == (size, size):
        return mask
    return np.asarray(Image.fromarray(mask.astype(np.uint8) * 255).resize((size, size), Image.NEAREST)) >= 128


@torch.no_grad()
def predict(model: nn.Module, data: SynthSet, batch: int = 100) -> np.ndarray:
    model.eval()
    out = []
    for i in range(0, len(data), batch):
        x = to_tensor(torch.from_numpy(data.images[i : i + batch]))
        out.append(model(x).reshape(-1).numpy())
    return np.concatenate(out)


@torch.no_grad()
def predict_proba(model: nn.Module, data: SynthSet, batch: int = 100) -> np.ndarray:
    """Class probabilities [N, K] of a softmax model."""
    model.eval()
    out = []
    for i in range(0, len(data), batch):
        x = to_tensor(torch.from_numpy(data.images[i : i + batch]))
        out.append(model(x).reshape(x.shape[0], -1).numpy())
    return np.concatenate(out)


def camsets(model: nn.Module, data: SynthSet, idx: np.ndarray, layer: str, methods=("gradcam",), batch: int = 50) -> Dict[str, np.ndarray]:
    """Raw CAMs {method: [len(idx), h, w]} (float64) with the seed hooks, float32 model."""
    out: Dict[str, list] = {m: [] for m in methods}
    for i in range(0, len(idx), batch):
        sel = idx[i : i + batch]
        x = to_tensor(torch.from_numpy(data.images[sel]))
        res = run_seed(model, x, layer, target="predicted", score="output")
        for m in methods:
            out[m].append(getattr(cams, m)(res.activations, res.gradients))
    return {m: np.concatenate(v) if v else np.zeros((0, 1, 1)) for m, v in out.items()}


def gradcams(model: nn.Module, data: SynthSet, idx: np.ndarray, layer: str, batch: int = 50) -> np.ndarray:
    """Raw Grad-CAMs [len(idx), h, w] (float64) with the seed hooks, float32 model."""
    return camsets(model, data, idx, layer, ("gradcam",), batch)["gradcam"]


def _region_stats(maps: np.ndarray, masks: np.ndarray, size: int) -> Dict[str, float]:
    hits = cell_hits = near_hits = 0
    near = size / maps.shape[1] / 4 if len(maps) else 0  # a quarter cell: 8 px for 8x8 on 256
    yy, xx = np.mgrid[:size, :size]
    energy = []
    area = []
    zero = 0
    for cam, mask in zip(maps, masks):
        m = _fit(mask, size)
        heat = upsample(cam, size)
        p = peak_index(heat)
        if p is None:
            zero += 1
        elif m.ravel()[p]:
            hits += 1
        h, w = cam.shape
        if p is not None and m.any():
            py, px = divmod(p, size)
            if ((yy[m] - py) ** 2 + (xx[m] - px) ** 2).min() <= near * near:
                near_hits += 1
        i, j = np.unravel_index(int(np.argmax(cam)), cam.shape)
        ch, cw = size // h, size // w
        if cam.max() > 0 and m[i * ch : (i + 1) * ch, j * cw : (j + 1) * cw].any():
            cell_hits += 1
        tot = float(heat.sum())
        energy.append(float(heat[m].sum()) / tot if tot > 0 else 0.0)
        area.append(float(m.mean()))
    n = max(len(maps), 1)
    return {
        "n": int(len(maps)),
        "peak": hits / n,
        "peak_cell": cell_hits / n,
        "peak_near": near_hits / n,
        "energy": float(np.mean(energy)) if energy else float("nan"),
        "area": float(np.mean(area)) if area else float("nan"),
        "all_zero_maps": zero,
    }


def evaluate(model: nn.Module, data: SynthSet, layer: str = "resnet_blocks.4", size: int = 256) -> Dict:
    """Accuracy (threshold 0.5) and the CAM figures above on one synth set."""
    p = predict(model, data)
    pred = (p >= 0.5).astype(np.int64)
    y = data.labels
    res: Dict = {
        "data": data.root,
        "digest": data.digest,
        "images": int(len(data)),
        "positives": int(y.sum()),
        "with_marker": int(data.has_marker.sum()),
        "accuracy": float((pred == y).mean()),
        "sensitivity": float(pred[y == 1].mean()) if (y == 1).any() else None,
        "specificity": float(1 - pred[y == 0].mean()) if (y == 0).any() else None,
        "auc": _auc(p, y),
        "mean_score_pos": float(p[y == 1].mean()) if (y == 1).any() else None,
        "mean_score_neg": float(p[y == 0].mean()) if (y == 0).any() else None,
    }
    pos = np.flatnonzero(y == 1)
    if len(pos):
        s = _region_stats(gradcams(model, data, pos, layer), data.lesion[pos], size)
        res.update(
            pointing_game=s["peak"],
            pointing_game_cell=s["peak_cell"],
            pointing_game_8px=s["peak_near"],
            lesion_energy=s["energy"],
            lesion_area=s["area"],
            all_zero_maps_pos=s["all_zero_maps"],
        )
    mk = np.flatnonzero(data.has_marker)
    if len(mk):
        s = _region_stats(gradcams(model, data, mk, layer), data.marker[mk], size)
        res.update(
            marker_peak=s["peak"],
            marker_peak_cell=s["peak_cell"],
            marker_peak_8px=s["peak_near"],
            marker_energy=s["energy"],
            marker_area=s["area"],
            all_zero_maps_marker=s["all_zero_maps"],
        )
        # How the marker moves the prediction: positives / negatives with and without it.
        for lab, nm in ((1, "pos"), (0, "neg")):
            for has, mn in ((True, "marker"), (False, "nomarker")):
                sel = (y == lab) & (data.has_marker == has)
                if sel.any():
                    res[f"accuracy_{nm}_{mn}"] = float((pred[sel] == lab).mean())
                    res[f"n_{nm}_{mn}"] = int(sel.sum())
    return res


def _auc(p: np.ndarray, y: np.ndarray) -> Optional[float]:
    pos, neg = p[y == 1], p[y == 0]
    if not len(pos) or not len(neg):
        return None
    order = np.argsort(np.concatenate([pos, neg]), kind="mergesort")
    ranks = np.empty(len(order))
    allv = np.concatenate([pos, neg])[order]
    # average ranks for ties
    i = 0
    r = np.empty(len(allv))
    while i < len(allv):
        j = i
        while j + 1 < len(allv) and allv[j + 1] == allv[i]:
            j += 1
        r[i : j + 1] = (i + j) / 2 + 1
        i = j + 1
    ranks[order] = r
    return float((ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def evaluate_multiclass(
    model: nn.Module, data: SynthSet, class_names, layer: str = "resnet_blocks.4", size: int = 256
) -> Dict:
    """A softmax model on a multi-class synth set (``masks/`` holds each image's finding: the
    opacities for pneumonia, the heart shadow for cardiomegaly). Accuracy (argmax), per-class
    recall, the confusion matrix; per abnormal class the CAM figures (target = predicted class)
    against the finding's mask; over images with the artifact the same against its mask; and
    accuracy per class with and without the artifact."""
    p = predict_proba(model, data)
    pred = p.argmax(1)
    y = data.labels
    k = p.shape[1]
    conf = np.zeros((k, k), dtype=np.int64)
    for t, q in zip(y, pred):
        conf[t, q] += 1
    res: Dict = {
        "data": data.root,
        "digest": data.digest,
        "images": int(len(data)),
        "with_marker": int(data.has_marker.sum()),
        "accuracy": float((pred == y).mean()),
        "confusion": conf.tolist(),
        "classes": {},
    }
    for c in range(k):
        sel = y == c
        rec: Dict = {"images": int(sel.sum())}
        if sel.any():
            rec["recall"] = float((pred[sel] == c).mean())
            rec["auc"] = _auc(p[:, c], (y == c).astype(np.int64))
        if c > 0 and sel.any():
            idx = np.flatnonzero(sel)
            s = _region_stats(gradcams(model, data, idx, layer), data.lesion[idx], size)
            rec.update(
                pointing_game=s["peak"],
                pointing_game_cell=s["peak_cell"],
                pointing_game_8px=s["peak_near"],
                finding_energy=s["energy"],
                finding_area=s["area"],
            )
        for has, nm in ((True, "marker"), (False, "nomarker")):
            m = sel & (data.has_marker == has)
            if m.any():
                rec[f"recall_{nm}"] = float((pred[m] == c).mean())
                rec[f"n_{nm}"] = int(m.sum())
        res["classes"][class_names[c]] = rec
    mk = np.flatnonzero(data.has_marker)
    if len(mk):
        s = _region_stats(gradcams(model, data, mk, layer), data.marker[mk], size)
        res.update(
            marker_peak=s["peak"],
            marker_peak_cell=s["peak_cell"],
            marker_peak_8px=s["peak_near"],
            marker_energy=s["energy"],
            marker_area=s["area"],
        )
    return res
