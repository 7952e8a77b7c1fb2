"""Bring-your-own-model fixtures (issue 16): two small exports an ML engineer would bring, the
images they would run, manifests of labels, and every figure camflow must reproduce, computed
here independently (PyTorch for the scores, plain Python for the figures).

Run from test/reference with Debian's interpreter:

    /usr/bin/python3 -m camflow_ref.byom

Writes (deterministic with the same Debian packages):

* ``test/fixtures/models/tri-tiny/``: torchvision's ResNet (BasicBlock, one block per stage,
  width 8, random weights) with 3 softmax outputs (``normal``, ``pneumonia``,
  ``cardiomegaly``), exported with the softmax; ``model.json`` says Resize(256) then
  CenterCrop(224), ImageNet normalisation.
* ``test/fixtures/models/cxr14-tiny/``: the same ResNet on 1-channel images with the 14
  ChestX-ray14 findings as sigmoid outputs (multi-label), exported with the sigmoid; a card with
  per-label thresholds (``Pneumonia`` 0.6, ``Effusion`` 0.4, the rest 0.5). Its ``Hernia`` output
  is saturated on purpose (bias +40: sigmoid gives exactly 1.0 in float32, so its gradient and
  its Grad-CAM are zero everywhere, the case the report must flag).
* ``test/fixtures/byom/``: 16 grey PNG "radiographs" of different sizes and aspect ratios (so
  the centre crop cuts margins away), ``multilabel.csv`` (``key,labels`` with ``|``-separated
  finding names), ``multilabel.jsonl`` (``{"key", "labels": [...]}``), ``multiclass.csv``
  (``key,label``) and ``expected.json``: per image the scores (PyTorch, float32 model, on
  torchvision's preprocessing of the PNG), the predicted label set (thresholds) or class; per
  label the counts, prevalence, sensitivity, specificity and ROC AUC (Mann-Whitney over every
  positive/negative pair, ties counting one half); for the 3-class model accuracy, the
  confusion matrix and the same figures one class against the rest.

Random weights are calibrated, not trained: BatchNorm statistics are measured on the images
(random statistics would squash them to one answer), the last layer is scaled so the logits
spread over about +-2, and each output's bias centres it on the images' median, so every class
is predicted on some images and every label on about half. Ground truth is drawn from the
scores with noise (seeded), so the figures are neither perfect nor chance.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
from typing import Dict, List, Optional

import numpy as np
import torch
import torch.nn as nn
from PIL import Image
from torchvision import transforms

from . import export, models

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.normpath(os.path.join(HERE, "..", "..", "fixtures"))

CXR14 = [
    "Atelectasis", "Cardiomegaly", "Effusion", "Infiltration", "Mass", "Nodule", "Pneumonia",
    "Pneumothorax", "Consolidation", "Edema", "Emphysema", "Fibrosis", "Pleural_Thickening",
    "Hernia",
]
THREE = ["normal", "pneumonia", "cardiomegaly"]
THRESHOLDS = {"Pneumonia": 0.6, "Effusion": 0.4}
SATURATED = "Hernia"
# A finding no image has (its sensitivity and AUC are undefined: the report must say so).
ABSENT = "Fibrosis"
# (width, height): landscape, portrait and square, so the centre crop cuts different margins.
SIZES = [(320, 256), (256, 320), (300, 300), (400, 288), (288, 360), (256, 256), (330, 270),
         (270, 340)] * 2
IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]


def radiograph(width: int, height: int, seed: int) -> Image.Image:
    """A grey picture with a radiograph's broad layout: a dark background, a bright body, two
    darker lung fields, a mediastinum, and a few soft opacities. Only its variety matters (the models
    are random); smooth content keeps the PNGs small."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    u, v = (x + 0.5) / width, (y + 0.5) / height
    img = 0.12 + 0.05 * v
    body = ((u - 0.5) / 0.42) ** 2 + ((v - 0.55) / 0.5) ** 2 < 1
    img = np.where(body, 0.62, img)
    for side in (-1, 1):
        cx = 0.5 + side * rng.uniform(0.15, 0.2)
        lung = ((u - cx) / rng.uniform(0.12, 0.17)) ** 2 + ((v - 0.48) / rng.uniform(0.25, 0.32)) ** 2
        img = img - 0.32 * np.exp(-np.maximum(lung - 0.6, 0) * 3) * (lung < 1.6)
    for _ in range(rng.integers(1, 4)):
        cx, cy, r = rng.uniform(0.3, 0.7), rng.uniform(0.3, 0.7), rng.uniform(0.03, 0.09)
        img = img + rng.uniform(0.1, 0.25) * np.exp(-((u - cx) ** 2 + (v - cy) ** 2) / (2 * r * r))
    return Image.fromarray(np.clip(np.round(img * 255), 0, 255).astype(np.uint8), mode="L")


def grey_resnet(num_classes: int) -> models.TinyResNet:
    net = models.tiny_resnet(num_classes=num_classes, width=8)
    net.conv1 = nn.Conv2d(1, 8, kernel_size=7, stride=2, padding=3, bias=False)
    return net


@torch.no_grad()
def calibrate(net: nn.Module, x: torch.Tensor, spread: float) -> None:
    """BatchNorm statistics from the images, the last layer scaled so the logits' standard
    deviation over the images is ``spread``, each output's bias set so its median logit is 0."""
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None
    net.train()
    net(x)
    net.eval()
    z = net(x)
    net.fc.weight.mul_(spread / float(z.std()))
    net.fc.bias.mul_(spread / float(z.std()))
    z = net(x).sort(dim=0).values
    # Midway between the two middle images, so no score sits on a threshold (torch.median would
    # put one image's logit at exactly 0, a score of exactly 0.5).
    mid = z.shape[0] // 2
    net.fc.bias.sub_((z[mid - 1] + z[mid]) / 2)


def auc(pos: List[float], neg: List[float]) -> Optional[float]:
    """P(score of a positive > score of a negative), ties one half: every pair, no ranks."""
    if not pos or not neg:
        return None
    wins = 0.0
    for p in pos:
        for q in neg:
            wins += 1.0 if p > q else 0.5 if p == q else 0.0
    return wins / (len(pos) * len(neg))


def figures(truth: List[bool], predicted: List[bool], scores: List[float]) -> Dict:
    tp = sum(t and p for t, p in zip(truth, predicted))
    fp = sum((not t) and p for t, p in zip(truth, predicted))
    fn = sum(t and (not p) for t, p in zip(truth, predicted))
    tn = sum((not t) and (not p) for t, p in zip(truth, predicted))
    n = len(truth)
    pos = [s for s, t in zip(scores, truth) if t]
    neg = [s for s, t in zip(scores, truth) if not t]
    return {
        "tp": tp, "fp": fp, "fn": fn, "tn": tn,
        "prevalence": (tp + fn) / n,
        "sensitivity": tp / (tp + fn) if tp + fn else None,
        "specificity": tn / (tn + fp) if tn + fp else None,
        "auc": auc(pos, neg),
    }


def card(name: str, channels: int, classes: List[str], activation: str, **extra) -> Dict:
    mean, std = (IMAGENET_MEAN, IMAGENET_STD) if channels == 3 else (0.5, 0.25)
    return {
        "name": name,
        "version": "1",
        "description": f"issue 16 fixture: torchvision ResNet (width 8), random weights, {len(classes)} {activation} outputs",
        "input": {"size": 224, "resizeTo": 256, "channels": channels, "mean": mean, "std": std},
        "output": {"activation": activation, "classes": classes, **extra},
        "layer": "layer4",
        "metadata": {"generator": "test/reference/camflow_ref/byom.py"},
    }


def write_json(path: str, value) -> None:
    with open(path, "w") as f:
        json.dump(value, f, indent=2)
        f.write("\n")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=FIXTURES)
    args = ap.parse_args(argv)
    torch.manual_seed(0)
    data = os.path.join(args.out, "byom")
    os.makedirs(os.path.join(data, "images"), exist_ok=True)

    keys, pics = [], []
    for i, (w, h) in enumerate(SIZES):
        key = f"images/cxr{i + 1:02d}.png"
        img = radiograph(w, h, 1600 + i)
        img.save(os.path.join(data, key), optimize=True)
        keys.append(key)
        # Read back as a user's script would.
        pics.append(Image.open(os.path.join(data, key)))

    pre1 = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224),
                               transforms.ToTensor(), transforms.Normalize([0.5], [0.25])])
    pre3 = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224),
                               transforms.ToTensor(),
                               transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD)])
    x1 = torch.stack([pre1(p.convert("L")) for p in pics])
    x3 = torch.stack([pre3(p.convert("RGB")) for p in pics])

    # The 14-label model.
    torch.manual_seed(1614)
    net14 = models.randomize(grey_resnet(14), 1614)
    calibrate(net14, x1, spread=1.5)
    with torch.no_grad():
        net14.fc.bias[CXR14.index(SATURATED)] += 40.0
    m14 = models.SigmoidHead(net14).eval()
    # The 3-class model.
    net3 = models.randomize(models.tiny_resnet(num_classes=3, width=8), 1603)
    calibrate(net3, x3, spread=2.0)
    m3 = models.SoftmaxHead(net3).eval()

    out = {}
    for name, model, x, c in (
        ("cxr14-tiny", m14, x1,
         card("cxr14-tiny", 1, CXR14, "sigmoid", type="multi-label", thresholds=THRESHOLDS)),
        ("tri-tiny", m3, x3, card("tri-tiny", 3, THREE, "softmax")),
    ):
        d = os.path.join(args.out, "models", name)
        os.makedirs(d, exist_ok=True)
        export.export_onnx(model, x[:1], os.path.join(d, "model.onnx"), opset=17)
        write_json(os.path.join(d, "model.json"), c)
        with torch.no_grad():
            out[name] = model(x).double().numpy()

    # The saturated label's Grad-CAM at layer4 is zero (hooks, as the seed computes it).
    acts = {}
    h1 = net14.layer4.register_forward_hook(lambda m, a, o: acts.__setitem__("a", o))
    h2 = net14.layer4.register_full_backward_hook(lambda m, gi, go: acts.__setitem__("g", go[0]))
    xs = x1[:2].clone().requires_grad_(True)
    s = m14(xs)
    s[:, CXR14.index(SATURATED)].sum().backward()
    h1.remove()
    h2.remove()
    w = acts["g"].mean(dim=(2, 3), keepdim=True)
    zero_cam = float(torch.relu((w * acts["a"]).sum(1)).abs().max())
    assert zero_cam == 0.0, zero_cam

    rng = random.Random(16)
    s14 = out["cxr14-tiny"]
    thresholds = [THRESHOLDS.get(c, 0.5) for c in CXR14]
    truth14: List[List[str]] = []
    for i in range(len(keys)):
        labels = []
        for j, c in enumerate(CXR14):
            if c == ABSENT:
                continue
            if c == SATURATED:
                if rng.random() < 0.25:
                    labels.append(c)
            elif s14[i, j] + rng.gauss(0, 0.15) > 0.5:
                labels.append(c)
        truth14.append(labels)
    predicted14 = [[c for j, c in enumerate(CXR14) if s14[i, j] >= thresholds[j]]
                   for i in range(len(keys))]
    # Float32 runtimes differ in the last bits: no score may sit within 1e-4 of its threshold.
    margin = float(np.min(np.abs(s14[:, :-1] - np.array(thresholds[:-1]))))
    assert margin > 1e-4, margin
    per_label = {}
    for j, c in enumerate(CXR14):
        per_label[c] = figures([c in t for t in truth14], [c in p for p in predicted14],
                               [float(s14[i, j]) for i in range(len(keys))])

    s3 = out["tri-tiny"]
    pred3 = [int(np.argmax(s3[i])) for i in range(len(keys))]
    truth3 = [int(np.argmax(s3[i] + np.array([rng.gauss(0, 0.15) for _ in THREE])))
              for i in range(len(keys))]
    matrix = [[sum(1 for t, p in zip(truth3, pred3) if t == a and p == b) for b in range(3)]
              for a in range(3)]
    per_class = {c: figures([t == k for t in truth3], [p == k for p in pred3],
                            [float(s3[i, k]) for i in range(len(keys))])
                 for k, c in enumerate(THREE)}

    with open(os.path.join(data, "multilabel.csv"), "w", newline="") as f:
        wr = csv.writer(f)
        wr.writerow(["key", "labels"])
        for k, t in zip(keys, truth14):
            wr.writerow([k, "|".join(t)])
    with open(os.path.join(data, "multilabel.jsonl"), "w") as f:
        for k, t in zip(keys, truth14):
            f.write(json.dumps({"key": k, "labels": t}) + "\n")
    with open(os.path.join(data, "multiclass.csv"), "w", newline="") as f:
        wr = csv.writer(f)
        wr.writerow(["key", "label"])
        for k, t in zip(keys, truth3):
            wr.writerow([k, THREE[t]])

    write_json(os.path.join(data, "expected.json"), {
        "generator": "test/reference/camflow_ref/byom.py",
        "torch": torch.__version__,
        "keys": keys,
        "cxr14-tiny": {
            "classes": CXR14,
            "thresholds": thresholds,
            "saturated": SATURATED,
            "scores": [[float(v) for v in row] for row in s14],
            "labels": truth14,
            "predicted": predicted14,
            "perLabel": per_label,
        },
        "tri-tiny": {
            "classes": THREE,
            "scores": [[float(v) for v in row] for row in s3],
            "labels": [THREE[t] for t in truth3],
            "predicted": [THREE[p] for p in pred3],
            "accuracy": sum(t == p for t, p in zip(truth3, pred3)) / len(keys),
            "matrix": matrix,
            "perClass": per_class,
        },
    })
    print(json.dumps({
        "predicted per label (14)": {c: sum(c in p for p in predicted14) for c in CXR14},
        "labels per label (14)": {c: sum(c in t for t in truth14) for c in CXR14},
        "predicted classes (3)": {c: pred3.count(k) for k, c in enumerate(THREE)},
        "label classes (3)": {c: truth3.count(k) for k, c in enumerate(THREE)},
        "set sizes": [len(p) for p in predicted14],
        "closest score to its threshold": margin,
    }, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
