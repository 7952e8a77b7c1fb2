"""Reading a `camflow synth` data set and turning its images into the seed's input tensor.

A synth folder holds ``labels.csv`` (``file,label,marker``), ``images/<file>`` (grey 8-bit
PNG), ``masks/<file>`` (lesion mask, 0/255) and ``markers/<file>`` (marker mask, 0/255).

Preprocessing is the seed's: ``Image.open(p).convert('RGB')``, ``Resize(size)`` (shorter side,
bilinear, antialiased), ``CenterCrop(size)``, ``ToTensor()``, ``Normalize((0.5,)*3, (0.5,)*3)``.
For a 256x256 phantom and size 256 the resize and crop are the identity (Pillow returns a copy
when the size does not change), so the tensor is ``(pixel / 255 - 0.5) / 0.5`` replicated to 3
channels; other sizes go through torchvision's own transforms.
"""

from __future__ import annotations

import csv
import hashlib
import os
from dataclasses import dataclass
from typing import List, Optional

import numpy as np
import torch
from PIL import Image


@dataclass
class SynthSet:
    root: str
    files: List[str]
    labels: np.ndarray  # [N] int64, 1 = pneumonia
    has_marker: np.ndarray  # [N] bool (from labels.csv)
    images: np.ndarray  # [N, S, S] uint8, already at the model's input size
    lesion: Optional[np.ndarray]  # [N, H, W] bool at the source resolution (None if not loaded)
    marker: Optional[np.ndarray]  # [N, H, W] bool
    source_size: int
    digest: str  # sha256 over labels.csv and every image, mask and marker file

    def __len__(self) -> int:
        return len(self.files)


def _resize_crop(img: Image.Image, size: int) -> np.ndarray:
    """torchvision Resize(size) + CenterCrop(size) on a grey PIL image -> uint8 [size, size]."""
    from torchvision import transforms

    t = transforms.Compose([transforms.Resize(size), transforms.CenterCrop(size)])
    return np.asarray(t(img), dtype=np.uint8)


def load(root: str, size: int = 256, masks: bool = True) -> SynthSet:
    """Loads a synth folder; images are brought to ``size`` x ``size`` as the seed does. The
    images are grey, so the RGB conversion only replicates the channel (done in ``to_tensor``)."""
    h = hashlib.sha256()
    with open(os.path.join(root, "labels.csv"), "rb") as f:
        raw = f.read()
    h.update(raw)
    rows = list(csv.DictReader(raw.decode("utf-8").splitlines()))
    files = [r["file"] for r in rows]
    labels = np.array([int(r["label"]) for r in rows], dtype=np.int64)
    has_marker = np.array([int(r["marker"]) for r in rows], dtype=bool)
    images, lesion, marker = [], [], []
    source_size = 0
    for name in files:
        for sub in ("images", "masks", "markers"):
            with open(os.path.join(root, sub, name), "rb") as f:
                h.update(f.read())
        img = Image.open(os.path.join(root, "images", name))
        if img.mode != "L":
            img = img.convert("L")  # grey either way; 'RGB' would replicate the same value
        source_size = img.size[0]
        a = np.asarray(img, dtype=np.uint8)
        images.append(a if img.size == (size, size) else _resize_crop(img, size))
        if masks:
            lesion.append(np.asarray(Image.open(os.path.join(root, "masks", name)).convert("L")) >= 128)
            marker.append(np.asarray(Image.open(os.path.join(root, "markers", name)).convert("L")) >= 128)
    return SynthSet(
        root=root,
        files=files,
        labels=labels,
        has_marker=has_marker,
        images=np.stack(images),
        lesion=np.stack(lesion) if masks else None,
        marker=np.stack(marker) if masks else None,
        source_size=source_size,
        digest=h.hexdigest(),
    )


def to_tensor(images_u8: torch.Tensor) -> torch.Tensor:
    """uint8 [N, S, S] (or float in 0..255) -> the seed's normalised RGB tensor [N, 3, S, S]."""
    x = images_u8.float().div(255.0).sub(0.5).div(0.5)
    return x.unsqueeze(1).expand(-1, 3, -1, -1).contiguous()
