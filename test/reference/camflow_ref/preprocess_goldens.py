"""Regenerate test/fixtures/preprocess: the seed's torchvision preprocessing on a few images.

Run from test/reference with Debian's interpreter (the only one here with torch, torchvision
and PIL):

    /usr/bin/python3 -m camflow_ref.preprocess_goldens

For every case it writes a small source image (PNG RGB / grey / RGBA / 16-bit grey, JPEG, a
JPEG with an EXIF orientation tag) and runs exactly the seed's pipeline on it:

    Image.open(path).convert('RGB')
    -> Compose([Resize(256), CenterCrop(256), ToTensor(), Normalize((0.5,)*3, (0.5,)*3)])

`ToTensor` gives x / 255 exactly, so the golden is stored losslessly as the pre-normalisation
8-bit image `round((t * 0.5 + 0.5) * 255)`, uint8 [3, 256, 256], in `<name>.torchvision.npy`;
the script asserts that converting it back (`(u8 / 255 - 0.5) / 0.5` in float32, as torchvision
computes it) reproduces the tensor (max abs error < 1e-6). `index.json` lists every case:
file, golden, source size and mode, PIL's mode after `Image.open`, and notes.

Deterministic: the pictures come from a seeded numpy generator, PIL's encoders are
deterministic, so the same Debian packages give the same bytes.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, Dict, List

import numpy as np
import PIL
import torch
import torchvision
from PIL import Image
from torchvision import transforms

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.normpath(os.path.join(HERE, "..", "..", "fixtures", "preprocess"))

SEED_TRANSFORM = transforms.Compose(
    [
        transforms.Resize(256),
        transforms.CenterCrop(256),
        transforms.ToTensor(),
        transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5)),
    ]
)


def picture(width: int, height: int, channels: int, seed: int) -> np.ndarray:
    """A test picture, float in [0, 1], [H, W, C]: smooth gradients and blobs, hard edges (a
    disc, a checkerboard patch), fine stripes (aliasing when shrinking) and a noisy patch."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    u, v = x / max(width - 1, 1), y / max(height - 1, 1)
    out = np.empty((height, width, channels))
    for c in range(channels):
        fx, fy, ph = rng.uniform(0.5, 3.0), rng.uniform(0.5, 3.0), rng.uniform(0, 2 * np.pi)
        base = 0.5 + 0.25 * np.sin(2 * np.pi * (fx * u + fy * v) + ph) + 0.2 * (u - v)
        cx, cy = rng.uniform(0.2, 0.8), rng.uniform(0.2, 0.8)
        base += 0.3 * np.exp(-((u - cx) ** 2 + (v - cy) ** 2) / 0.02)
        out[..., c] = base
    # Hard-edged disc, brighter in every channel.
    cx, cy, r = 0.3 * width, 0.6 * height, 0.18 * min(width, height)
    out[(x - cx) ** 2 + (y - cy) ** 2 < r * r] += 0.35
    # Checkerboard patch of 3-pixel squares (top right).
    patch = (x > 0.6 * width) & (x < 0.9 * width) & (y > 0.1 * height) & (y < 0.35 * height)
    checker = ((x // 3 + y // 3) % 2) * 0.6 - 0.3
    out[patch] += checker[patch][:, None]
    # One-pixel stripes (bottom right): what antialiasing is for.
    stripes = (x > 0.55 * width) & (y > 0.7 * height) & (y < 0.9 * height)
    out[stripes] += ((x[stripes] % 2) * 0.5 - 0.25)[:, None]
    # Noise patch (left) so every gray level shows up somewhere.
    noisy = (x < 0.25 * width) & (y < 0.3 * height)
    out[noisy] += rng.normal(0, 0.08, (int(noisy.sum()), channels))
    return np.clip(out, 0, 1)


def to_u8(p: np.ndarray) -> np.ndarray:
    return np.round(p * 255).astype(np.uint8)


def _exif_orientation(value: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = value  # Orientation
    return exif.tobytes()


# file, size (w, h), kind, picture seed; deliberateDifference + note where camflow differs
# on purpose
CASES: List[Dict[str, Any]] = [
    dict(file="rgb-300x200.png", size=(300, 200), kind="rgb-png", seed=1),
    dict(file="grey-200x301.png", size=(200, 301), kind="grey-png", seed=2),
    dict(file="photo-640x480.jpg", size=(640, 480), kind="jpeg", seed=3),
    # Posterised to 16 levels so the PNG stays small (~70 kB); the resize still mixes the steps.
    dict(file="rgb-257x1000.png", size=(257, 1000), kind="rgb-png", seed=4, levels=16),
    dict(file="rgb-256x256.png", size=(256, 256), kind="rgb-png", seed=5),
    dict(file="rgba-333x261.png", size=(333, 261), kind="rgba-png", seed=6),
    dict(
        file="grey16-161x121.png",
        size=(161, 121),
        kind="grey16-png",
        seed=7,
        deliberateDifference="16-bit",
        note=(
            "PIL opens a 16-bit grey PNG as mode I and convert('RGB') clips values to 255 "
            "(almost all white); camflow scales round(v / 257) on purpose (libs/imaging README)"
        ),
    ),
    dict(
        file="exif-rot6-320x240.jpg",
        size=(320, 240),
        kind="jpeg-exif6",
        seed=8,
        deliberateDifference="exif-orientation",
        note=(
            "EXIF Orientation 6 (rotate 90 CW to view); torchvision ignores it, camflow applies "
            "it by default: parity needs decode option autoOrient: false"
        ),
    ),
]


def write_source(case: Dict[str, Any], path: str) -> None:
    w, h = case["size"]
    kind = case["kind"]
    if kind == "rgb-png":
        p = picture(w, h, 3, case["seed"])
        if "levels" in case:
            p = np.round(p * case["levels"]) / case["levels"]
        Image.fromarray(to_u8(p), "RGB").save(path, optimize=True)
    elif kind == "grey-png":
        Image.fromarray(to_u8(picture(w, h, 1, case["seed"])[..., 0]), "L").save(
            path, optimize=True
        )
    elif kind == "rgba-png":
        rgb = to_u8(picture(w, h, 3, case["seed"]))
        yy, xx = np.mgrid[0:h, 0:w]
        # Alpha varies (0 at the left edge, opaque on the right; a fully transparent band):
        # convert('RGB') drops it, it does not composite.
        alpha = np.round(xx / (w - 1) * 255).astype(np.uint8)
        alpha[(yy > 0.45 * h) & (yy < 0.55 * h)] = 0
        Image.fromarray(np.dstack([rgb, alpha]), "RGBA").save(path, optimize=True)
    elif kind == "grey16-png":
        grey = np.round(picture(w, h, 1, case["seed"])[..., 0] * 65535).astype(np.uint16)
        im = Image.fromarray(grey)  # mode I;16 -> a 16-bit grey PNG
        assert im.mode == "I;16", im.mode
        im.save(path)
    elif kind == "jpeg":
        Image.fromarray(to_u8(picture(w, h, 3, case["seed"])), "RGB").save(path, quality=90)
    elif kind == "jpeg-exif6":
        Image.fromarray(to_u8(picture(w, h, 3, case["seed"])), "RGB").save(
            path, quality=90, exif=_exif_orientation(6)
        )
    else:
        raise ValueError(kind)


def golden(path: str) -> np.ndarray:
    """The seed's pipeline; returns the lossless uint8 [3, 256, 256] form of its tensor."""
    with Image.open(path) as im:
        t = SEED_TRANSFORM(im.convert("RGB"))
    assert t.dtype == torch.float32 and tuple(t.shape) == (3, 256, 256), (t.dtype, t.shape)
    u8 = torch.round((t.double() * 0.5 + 0.5) * 255).clamp(0, 255).to(torch.uint8)
    back = u8.float().div(255).sub(0.5).div(0.5)  # ToTensor then Normalize, as torchvision does
    err = (back - t).abs().max().item()
    assert err < 1e-6, f"{path}: uint8 golden is not lossless (max error {err})"
    return u8.numpy()


def main(argv: List[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=DEFAULT_OUT)
    args = ap.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)

    entries = []
    for case in CASES:
        src = os.path.join(args.out, case["file"])
        write_source(case, src)
        g = golden(src)
        name = case["file"].rsplit(".", 1)[0] + ".torchvision.npy"
        np.save(os.path.join(args.out, name), g)
        with Image.open(src) as im:
            pil_mode = im.mode
            exif_orientation = im.getexif().get(0x0112)
        w, h = case["size"]
        entry: Dict[str, Any] = {
            "file": case["file"],
            "golden": name,
            "width": w,
            "height": h,
            "mode": case["kind"],
            "pilMode": pil_mode,
        }
        if exif_orientation is not None:
            entry["exifOrientation"] = exif_orientation
        if "deliberateDifference" in case:
            entry["deliberateDifference"] = case["deliberateDifference"]
            entry["note"] = case["note"]
        entries.append(entry)
        print(
            f"{case['file']:24s} {w}x{h} {pil_mode:5s} -> {name} "
            f"({os.path.getsize(src)} B source, mean {g.mean():.2f})",
            file=sys.stderr,
        )

    index = {
        "generator": "test/reference/camflow_ref/preprocess_goldens.py",
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "pillow": PIL.__version__,
        "pipeline": (
            "Image.open(path).convert('RGB') -> Resize(256), CenterCrop(256), ToTensor(), "
            "Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))"
        ),
        "golden": (
            "uint8 [3, 256, 256] = round((t * 0.5 + 0.5) * 255); tensor t = (u8 / 255 - 0.5) / 0.5 "
            "(lossless, checked < 1e-6)"
        ),
        "cases": entries,
    }
    with open(os.path.join(args.out, "index.json"), "w") as f:
        json.dump(index, f, indent=2)
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(args.out, n)) for n in os.listdir(args.out))
    print(f"{len(entries)} cases, {total / 1e6:.2f} MB in {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
