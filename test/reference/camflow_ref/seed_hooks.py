"""The seed method: Grad-CAM inputs captured with PyTorch module hooks.

``register_forward_hook`` on the target module stores its output as the activations A;
``register_full_backward_hook`` stores ``grad_output[0]`` as the gradients G = d score / d A.
One forward and one ``.backward()`` fill both; the handles are removed afterwards, the model's
code is never touched.

Differences from the tutorial, on purpose:

* The captured tensors are cloned (``detach().clone()``) so that an in-place op downstream
  (torchvision's DenseNet does ``F.relu(features, inplace=True)``) cannot corrupt them.
* Batches: the score that is differentiated is the SUM over images of each image's selected
  score. In eval mode images are independent, so image n's slice of G is exactly
  d score_n / d A_n. Weights are computed per image later (see ``cams.py``), never pooled
  over the batch.
* Target: ``"predicted"`` = argmax over the output's last dimension (always 0 for a single
  output), or a fixed class index.
* Score: ``"output"`` differentiates the model output as exported (post-sigmoid /
  post-softmax when the model ends that way, as in the tutorial); ``"logit"`` differentiates the
  INPUT of the final Softmax/Sigmoid module (``score_module``), captured by a forward hook.

``grad_mode="full"`` is the seed's ``register_full_backward_hook``. That hook cannot be used when
the hooked module's output is later modified in place (PyTorch raises "Output 0 of
BackwardHookFunctionBackward is a view and is being modified inplace"): this is the case for
DenseNet's ``features.norm5``. ``grad_mode="tensor"`` is then used: the forward hook registers
a tensor hook on the module's output and hands downstream a clone (same values), so the in-place
op hits the clone and the tensor hook receives dL/dA of the un-modified output.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Union

import numpy as np
import torch
import torch.nn as nn

Target = Union[str, int]


@dataclass
class SeedResult:
    output: np.ndarray  # [N, K] model output as exported (flattened to [N, K])
    logits: Optional[np.ndarray]  # [N, K] input of the final Softmax/Sigmoid, if captured
    targets: np.ndarray  # [N] int64
    score_values: np.ndarray  # [N] the differentiated score of each image
    activations: np.ndarray  # [N, C, h, w]
    gradients: np.ndarray  # [N, C, h, w]
    extra: dict = field(default_factory=dict)


def _flat(t: torch.Tensor) -> torch.Tensor:
    """[N, ...] -> [N, K]: all fixture outputs are [N, K] or [N, 1, 1, 1] (-> [N, 1])."""
    return t.reshape(t.shape[0], -1)


class LayerHooks:
    """Forward + backward hooks on one module; use as a context manager (removes the handles)."""

    def __init__(self, module: nn.Module, grad_mode: str = "full"):
        if grad_mode not in ("full", "tensor"):
            raise ValueError(grad_mode)
        self.module = module
        self.grad_mode = grad_mode
        self.activations: Optional[torch.Tensor] = None
        self.gradients: Optional[torch.Tensor] = None
        self.handles = []

    def _forward_hook(self, module, args, output):
        self.activations = output.detach().clone()
        if self.grad_mode == "tensor":
            def save_grad(grad):
                self.gradients = grad.detach().clone()

            output.register_hook(save_grad)
            return output.clone()  # downstream (possibly in-place) ops act on a copy
        return None

    def _backward_hook(self, module, grad_input, grad_output):
        self.gradients = grad_output[0].detach().clone()

    def __enter__(self):
        self.handles.append(self.module.register_forward_hook(self._forward_hook))
        if self.grad_mode == "full":
            self.handles.append(self.module.register_full_backward_hook(self._backward_hook))
        return self

    def __exit__(self, *exc):
        for h in self.handles:
            h.remove()
        self.handles.clear()
        return False


class InputCapture:
    """Forward hook that keeps the (graph-attached) input of a module: the logits of a final
    Softmax/Sigmoid module."""

    def __init__(self, module: nn.Module):
        self.module = module
        self.value: Optional[torch.Tensor] = None
        self.handle = None

    def __enter__(self):
        def hook(module, args, output):
            self.value = args[0]

        self.handle = self.module.register_forward_hook(hook)
        return self

    def __exit__(self, *exc):
        self.handle.remove()
        return False


def select_targets(flat_output: torch.Tensor, target: Target) -> torch.Tensor:
    n, k = flat_output.shape
    if target == "predicted":
        return flat_output.argmax(dim=-1)  # index 0 for a single output
    t = int(target)
    if not 0 <= t < k:
        raise ValueError(f"target {t} out of range for {k} outputs")
    return torch.full((n,), t, dtype=torch.int64)


def run_seed(
    model: nn.Module,
    x: torch.Tensor,
    layer: str,
    target: Target = "predicted",
    score: str = "output",
    score_module: Optional[str] = None,
    grad_mode: str = "full",
) -> SeedResult:
    """One forward + one backward with hooks on ``model.get_submodule(layer)``."""
    model.eval()
    model.zero_grad(set_to_none=True)
    module = model.get_submodule(layer)
    x = x.detach().clone().requires_grad_(False)
    cap_mod = model.get_submodule(score_module) if score_module else None
    with LayerHooks(module, grad_mode) as hooks:
        if cap_mod is not None:
            with InputCapture(cap_mod) as cap:
                out = model(x)
            logits = _flat(cap.value)
        else:
            out = model(x)
            logits = None
        flat = _flat(out)
        targets = select_targets(flat.detach(), target)
        if score == "output":
            src = flat
        elif score == "logit":
            if logits is None:
                raise ValueError("score='logit' needs score_module (the final Softmax/Sigmoid)")
            src = logits
        else:
            raise ValueError(score)
        per_image = src[torch.arange(src.shape[0]), targets]
        per_image.sum().backward()
    if hooks.gradients is None:
        raise RuntimeError("backward hook did not fire")
    return SeedResult(
        output=flat.detach().cpu().numpy(),
        logits=None if logits is None else logits.detach().cpu().numpy(),
        targets=targets.cpu().numpy().astype(np.int64),
        score_values=per_image.detach().cpu().numpy(),
        activations=hooks.activations.cpu().numpy(),
        gradients=hooks.gradients.cpu().numpy(),
    )


@torch.no_grad()
def directional_check(
    model: nn.Module,
    x: torch.Tensor,
    layer: str,
    res: SeedResult,
    score: str,
    score_module: Optional[str],
    eps: float = 1e-6,
    seed: int = 0,
) -> float:
    """Hook-independent check of G: perturb the layer output by +-eps*D (forward hook returning
    a modified output) and compare the central difference of sum_n score_n with <G, D>.
    Returns the relative error. Use in float64."""
    module = model.get_submodule(layer)
    g = torch.Generator().manual_seed(seed)
    d = torch.randn(res.activations.shape, generator=g, dtype=torch.float64).to(x.dtype)
    tgt = torch.from_numpy(res.targets)
    cap_mod = model.get_submodule(score_module) if score_module else None

    def total(sign: float) -> float:
        h = module.register_forward_hook(lambda m, a, o: o + sign * eps * d)
        try:
            if score == "logit":
                with InputCapture(cap_mod) as cap:
                    model(x)
                src = _flat(cap.value)
            else:
                src = _flat(model(x))
        finally:
            h.remove()
        return float(src[torch.arange(src.shape[0]), tgt].sum())

    fd = (total(1.0) - total(-1.0)) / (2 * eps)
    an = float((torch.from_numpy(res.gradients).to(d.dtype) * d).sum())
    return abs(fd - an) / max(abs(an), 1e-30)
