"""References for the rest of the CAM family (run by ``method_goldens``), in float64 PyTorch.

Formulas as pytorch-grad-cam (v1.4) and the papers write them; where camflow chooses, the choice
is stated (and is the engine's):

* ``eigengradcam``: first principal component of A*G (pytorch-grad-cam's get_2d_projection),
  sign by ``cams.eigen_projection``'s rule, then ReLU.
* ``gradcamelementwise``: relu(sum_k relu(G_k * A_k)).
* eigen-smooth (``gradcam`` here): the projection of the weighted activations w_k A_k.
* ``scorecam`` (Wang et al.): per channel, A_k upsampled to the input like
  ``nn.UpsamplingBilinear2d`` (align_corners), min-max normalised, times the input; the target's
  output on that input; weights = softmax over the channels; cam = relu(sum w_k A_k).
* ``ablationcam`` (Desai & Ramaswamy): channel k of the layer set to 0, w_k = (y - y_k) / y, cam =
  relu(sum w_k A_k). pytorch-grad-cam ablates to min(A) - 1e7 when A is not >= 0; camflow keeps
  the paper's 0.
* aug-smooth: the input flipped left-right or not, times 0.9, 1, 1.1; the targets of the plain
  input; each map un-flipped and scaled to [0, 1] (x - min, / (1e-7 + max)); the mean. At the
  layer's resolution (pytorch-grad-cam scales at the input's, after resizing).
* fusion: each layer's map scaled to [0, 1], bilinearly resized (half-pixel) to the finest
  layer's size, averaged, scaled to [0, 1].
* ``guided-gradcam``: guided backpropagation to the input (through every ReLU, functional ones
  too: dx = dy (x > 0) (dy > 0)) times the Grad-CAM map scaled to [0, 1] and resized (bilinear,
  half-pixel, like cv2.resize) to the input.
"""

from __future__ import annotations

import contextlib
from typing import Callable, List

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from . import cams
from .seed_hooks import run_seed


def projection(w: np.ndarray) -> np.ndarray:
    """relu of each image's first principal component of a [N, C, h, w] tensor."""
    return np.stack([np.maximum(cams.eigen_projection(x)[0], 0.0) for x in w])


def eigengradcam(a, g):
    return projection(a * g)


def gradcamelementwise(a, g):
    return np.maximum(np.maximum(g * a, 0.0).sum(axis=1), 0.0)


def eigen_smooth_gradcam(a, g):
    return projection(g.mean(axis=(2, 3), keepdims=True) * a)


def scale(m: np.ndarray) -> np.ndarray:
    """Per image: x - min, then / (1e-7 + max)."""
    m = m - m.min(axis=(1, 2), keepdims=True)
    return m / (1e-7 + m.max(axis=(1, 2), keepdims=True))


@torch.no_grad()
def _target_scores(model: nn.Module, x: torch.Tensor, target: int) -> torch.Tensor:
    return model(x).reshape(x.shape[0], -1)[:, target]


@torch.no_grad()
def scorecam(model: nn.Module, x: torch.Tensor, layer: str, targets: np.ndarray, batch: int = 32):
    holder = {}
    h = model.get_submodule(layer).register_forward_hook(lambda m, i, o: holder.__setitem__("a", o))
    model(x)
    h.remove()
    a = holder["a"]
    up = F.interpolate(a, size=x.shape[-2:], mode="bilinear", align_corners=True)
    lo = up.amin(dim=(2, 3), keepdim=True)
    hi = up.amax(dim=(2, 3), keepdim=True)
    masks = (up - lo) / (hi - lo + 1e-8)
    maps = []
    for n in range(x.shape[0]):
        scores = []
        for k0 in range(0, a.shape[1], batch):
            masked = x[n : n + 1] * masks[n, k0 : k0 + batch, None]
            scores.append(_target_scores(model, masked, int(targets[n])))
        w = torch.softmax(torch.cat(scores), dim=0)
        maps.append(torch.relu((w[:, None, None] * a[n]).sum(0)))
    return torch.stack(maps).numpy()


@torch.no_grad()
def ablationcam(model: nn.Module, x: torch.Tensor, layer: str, targets: np.ndarray):
    module = model.get_submodule(layer)
    holder = {}
    h = module.register_forward_hook(lambda m, i, o: holder.__setitem__("a", o))
    model(x)
    h.remove()
    a = holder["a"]
    maps = []
    for n in range(x.shape[0]):
        xn = x[n : n + 1]
        y = float(_target_scores(model, xn, int(targets[n]))[0])
        w = []
        for k in range(a.shape[1]):
            def ablate(m, i, o, k=k):
                o = o.clone()
                o[:, k] = 0
                return o

            hk = module.register_forward_hook(ablate)
            yk = float(_target_scores(model, xn, int(targets[n]))[0])
            hk.remove()
            w.append((y - yk) / y)
        w = torch.tensor(w, dtype=a.dtype)
        maps.append(torch.relu((w[:, None, None] * a[n]).sum(0)))
    return torch.stack(maps).numpy()


def gradcam_maps(model, x, layer, targets) -> np.ndarray:
    res = run_seed(model, x, layer, "predicted")
    assert np.array_equal(res.targets, targets)
    return cams.gradcam(res.activations, res.gradients)


def aug_smooth(model, x, layer, targets) -> np.ndarray:
    total = 0
    for flip in (False, True):
        for factor in (0.9, 1.0, 1.1):
            xa = (torch.flip(x, dims=[-1]) if flip else x) * factor
            # The plain input's targets for every copy: the seed method, one class per image.
            maps = []
            for n in range(x.shape[0]):
                r = run_seed(model, xa[n : n + 1], layer, int(targets[n]))
                maps.append(cams.gradcam(r.activations, r.gradients)[0])
            m = np.stack(maps)
            if flip:
                m = m[:, :, ::-1]
            total = total + scale(m)
    return total / 6


def fusion(model, x, layers: List[str], targets) -> np.ndarray:
    maps = [gradcam_maps(model, x, layer, targets) for layer in layers]
    h, w = max((m.shape[1], m.shape[2]) for m in maps)
    acc = 0
    for m in maps:
        t = torch.from_numpy(scale(m))[:, None]
        r = F.interpolate(t, size=(h, w), mode="bilinear", align_corners=False)[:, 0].numpy()
        acc = acc + np.maximum(r, 0.0)
    return scale(acc / len(maps))


class _GuidedRelu(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx, dy):
        (x,) = ctx.saved_tensors
        return dy * (x > 0).to(dy.dtype) * (dy > 0).to(dy.dtype)


@contextlib.contextmanager
def guided_relus():
    """Every ReLU (nn.ReLU modules, F.relu, torch.relu) backpropagates by the guided rule."""
    saved = (F.relu, torch.relu, nn.ReLU.forward)
    guided: Callable = lambda x, inplace=False: _GuidedRelu.apply(x)  # noqa: E731
    F.relu = guided
    torch.relu = guided
    nn.ReLU.forward = lambda self, x: _GuidedRelu.apply(x)
    try:
        yield
    finally:
        F.relu, torch.relu, nn.ReLU.forward = saved


def guided_gradcam(model, x, layer, targets) -> np.ndarray:
    m = gradcam_maps(model, x, layer, targets)
    with guided_relus():
        xi = x.detach().clone().requires_grad_(True)
        out = model(xi).reshape(x.shape[0], -1)
        out[torch.arange(x.shape[0]), torch.from_numpy(targets)].sum().backward()
    gb = xi.grad.detach()
    up = F.interpolate(torch.from_numpy(scale(m))[:, None], size=x.shape[-2:], mode="bilinear",
                       align_corners=False)
    return (gb * up).numpy()


def block_sums(g: np.ndarray, block: int = 16) -> np.ndarray:
    """[N, C, H, W] summed over block x block pixel tiles: a small fingerprint of a full-size map."""
    n, c, h, w = g.shape
    return g.reshape(n, c, h // block, block, w // block, block).sum(axis=(3, 5))
