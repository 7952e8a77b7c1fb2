"""Class activation maps from captured activations A and gradients G.

All maps are computed per image n (never pooled over the batch), in float64, at the layer's
resolution, after the final ReLU, and NOT normalised (no division by the max, no resizing).
Shapes: A, G: [N, C, h, w] -> cam: [N, h, w]. Sums over "ij" run over the h*w positions,
sums over "k" over the C channels.

gradcam     w_k = mean_ij G_kij                       cam = relu(sum_k w_k A_k)
gradcam++   (pytorch-grad-cam's closed form)
            g2 = G^2, g3 = G^3, S_k = sum_ij A_kij
            a_kij = g2 / (2*g2 + S_k*g3 + 1e-6);  a_kij = 0 where G_kij == 0
            w_k = sum_ij relu(G_kij) * a_kij          cam = relu(sum_k w_k A_k)
xgradcam    w_k = sum_ij (G_kij * A_kij) / (S_k + 1e-7)
                                                      cam = relu(sum_k w_k A_k)
hirescam    cam = relu(sum_k G_k * A_k)               (element-wise product)
layercam    cam = relu(sum_k relu(G_k) * A_k)
eigencam    M = A_n reshaped to [h*w, C] (row = position, column = channel),
            Mc = M - mean over the h*w rows (per-channel centring),
            U, S, Vt = svd(Mc); p = Mc @ Vt[0]  (first right singular vector)
            SIGN: the SVD sign is arbitrary, so fix it: flip v = Vt[0] so that
            v . mean_rows(M) >= 0 (the principal direction points along the mean activation;
            equivalently the projection of the UN-centred activations, M @ v, sums to >= 0).
            If |v . mean_rows(M)| <= 1e-12 * |mean_rows(M)| (degenerate), flip instead so that
            the entry of p with the largest magnitude is positive.
            cam = relu(p) reshaped to [h, w].
            Note: p = Mc @ v itself always sums to 0 (the rows of Mc sum to 0), so "flip so that
            p.sum() >= 0" is NOT a usable convention.
            Gradients are not used.
"""

from __future__ import annotations

from typing import Callable, Dict

import numpy as np

METHODS = ("gradcam", "gradcampp", "xgradcam", "hirescam", "layercam", "eigencam")


def _check(a: np.ndarray, g: np.ndarray | None = None):
    a = np.asarray(a, dtype=np.float64)
    if a.ndim != 4:
        raise ValueError(f"activations must be [N, C, h, w], got {a.shape}")
    if g is not None:
        g = np.asarray(g, dtype=np.float64)
        if g.shape != a.shape:
            raise ValueError(f"gradients {g.shape} != activations {a.shape}")
    return a, g


def _weighted(a: np.ndarray, w: np.ndarray) -> np.ndarray:
    return np.maximum(np.einsum("nk,nkij->nij", w, a), 0.0)


def gradcam(a, g):
    a, g = _check(a, g)
    return _weighted(a, g.mean(axis=(2, 3)))


def gradcampp(a, g):
    a, g = _check(a, g)
    g2 = g * g
    g3 = g2 * g
    s = a.sum(axis=(2, 3))[:, :, None, None]
    aij = g2 / (2.0 * g2 + s * g3 + 1e-6)
    aij = np.where(g != 0, aij, 0.0)
    w = (np.maximum(g, 0.0) * aij).sum(axis=(2, 3))
    return _weighted(a, w)


def xgradcam(a, g):
    a, g = _check(a, g)
    s = a.sum(axis=(2, 3))
    w = (g * a).sum(axis=(2, 3)) / (s + 1e-7)
    return _weighted(a, w)


def hirescam(a, g):
    a, g = _check(a, g)
    return np.maximum((g * a).sum(axis=1), 0.0)


def layercam(a, g):
    a, g = _check(a, g)
    return np.maximum((np.maximum(g, 0.0) * a).sum(axis=1), 0.0)


def eigen_projection(a_n: np.ndarray) -> tuple[np.ndarray, dict]:
    """Signed first-principal-component projection of one image's activations [C, h, w] ->
    [h, w] (before the ReLU), plus diagnostics (singular values, which sign rule decided)."""
    c, h, w = a_n.shape
    m = a_n.reshape(c, h * w).T  # [h*w, C]
    mean = m.mean(axis=0)
    mc = m - mean
    _, s, vt = np.linalg.svd(mc, full_matrices=False)
    v = vt[0]
    p = mc @ v
    dot = float(v @ mean)
    if abs(dot) > 1e-12 * max(np.linalg.norm(mean), 1e-300):
        rule = "mean"
        if dot < 0:
            p = -p
    else:
        rule = "maxabs"
        if p[np.argmax(np.abs(p))] < 0:
            p = -p
    s1 = float(s[1]) if len(s) > 1 else 0.0
    return p.reshape(h, w), {"s0": float(s[0]), "s1": s1, "rule": rule, "dot": dot}


def eigencam(a, g=None):
    a, _ = _check(a)
    return np.stack([np.maximum(eigen_projection(a_n)[0], 0.0) for a_n in a])


FUNCS: Dict[str, Callable] = {
    "gradcam": gradcam,
    "gradcampp": gradcampp,
    "xgradcam": xgradcam,
    "hirescam": hirescam,
    "layercam": layercam,
    "eigencam": eigencam,
}


def all_cams(a, g) -> Dict[str, np.ndarray]:
    return {name: f(a, g) for name, f in FUNCS.items()}
