"""Weighted, L2-regularised logistic regression fitted by L-BFGS, in plain numpy.

The design matrix is CSR built by hand (``indptr``, ``indices``, ``data``); products use
``np.add.reduceat`` and ``np.bincount``, which add in a fixed order, and no BLAS call is made, so
a run is deterministic and a retrain reproduces the shipped weights bit for bit on one platform.
The small network beside the regression (``joint_objective``) is dense: its products are numpy
matrix products, which are deterministic on one machine as well.
scipy and scikit-learn are not needed (issue 4: ``townhall moderation train`` runs on the
package's own dependencies).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class CSR:
    """A sparse matrix in compressed-row form; every row must hold at least one entry."""

    indptr: IntArray
    indices: npt.NDArray[np.int32]
    data: FloatArray
    n_cols: int

    @property
    def n_rows(self) -> int:
        return len(self.indptr) - 1

    def matvec(self, w: FloatArray) -> FloatArray:
        return np.add.reduceat(self.data * w[self.indices], self.indptr[:-1])

    def rmatvec(self, r: FloatArray) -> FloatArray:
        per_entry = self.data * np.repeat(r, np.diff(self.indptr))
        out = np.bincount(self.indices, weights=per_entry, minlength=self.n_cols)
        return out.astype(np.float64, copy=False)


@dataclass(frozen=True)
class FitResult:
    weights: FloatArray
    loss: float
    iterations: int
    converged: bool


def _log1pexp(z: FloatArray) -> FloatArray:
    """log(1 + exp(z)) without overflow."""
    return np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))


def _sigmoid(z: FloatArray) -> FloatArray:
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def joint_objective(
    x: CSR,
    inputs: FloatArray,
    y: FloatArray,
    sample_weight: FloatArray,
    l2: FloatArray,
    hidden: int,
    l2_network: float,
) -> Callable[[FloatArray], tuple[float, FloatArray]]:
    """The logistic objective of a regression on ``x`` *plus* a one-layer tanh network on
    ``inputs`` (dense, one row per sample) whose output is added to the logit.

    Parameters, flat: the regression's weights (``x.n_cols``), then the network's ``w1``
    (``hidden`` × inputs, row-major), ``b1`` (``hidden``) and ``w2`` (``hidden``); the network's
    weights (not ``b1``) get the L2 ``l2_network``.
    """
    s = sample_weight / sample_weight.sum()
    n_lin = x.n_cols
    n_in = inputs.shape[1]

    def f(theta: FloatArray) -> tuple[float, FloatArray]:
        w, w1, b1, w2 = split_joint(theta, n_lin, hidden, n_in)
        h = np.tanh(inputs @ w1.T + b1)
        z = x.matvec(w) + h @ w2
        penalty = float(np.sum(l2 * w * w)) + l2_network * float(np.sum(w1 * w1) + np.sum(w2 * w2))
        loss = float(np.sum(s * (_log1pexp(z) - y * z))) + 0.5 * penalty
        dz = s * (_sigmoid(z) - y)
        d_pre = np.outer(dz, w2) * (1.0 - h * h)
        grad = np.concatenate(
            (
                x.rmatvec(dz) + l2 * w,
                (d_pre.T @ inputs + l2_network * w1).ravel(),
                d_pre.sum(axis=0),
                h.T @ dz + l2_network * w2,
            )
        )
        return loss, grad

    return f


def split_joint(
    theta: FloatArray, n_lin: int, hidden: int, n_in: int
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """``joint_objective``'s flat parameters as (regression weights, w1, b1, w2)."""
    a = n_lin
    b = a + hidden * n_in
    return theta[:a], theta[a:b].reshape(hidden, n_in), theta[b : b + hidden], theta[b + hidden :]


def lbfgs(
    f: Callable[[FloatArray], tuple[float, FloatArray]],
    w0: FloatArray,
    *,
    max_iter: int = 300,
    memory: int = 10,
    tol: float = 1e-6,
) -> FitResult:
    """Minimise a smooth ``f`` (value, gradient) from ``w0`` by L-BFGS (to the optimum if
    ``f`` is convex, to a local one otherwise).

    Backtracking line search with the Armijo condition; stops when the largest gradient entry
    falls below ``tol`` or the relative loss change stalls.
    """
    w = w0.copy()
    loss, grad = f(w)
    s_hist: list[FloatArray] = []
    y_hist: list[FloatArray] = []
    rho_hist: list[float] = []
    for it in range(1, max_iter + 1):
        if float(np.max(np.abs(grad))) < tol:
            return FitResult(w, loss, it - 1, True)
        direction = _two_loop(grad, s_hist, y_hist, rho_hist)
        slope = float(np.sum(grad * direction))
        if slope >= 0:  # not a descent direction: restart from the gradient
            s_hist.clear()
            y_hist.clear()
            rho_hist.clear()
            direction = -grad
            slope = -float(np.sum(grad * grad))
        step = 1.0 if s_hist else 1.0 / max(1.0, float(np.sqrt(-slope)))
        for _ in range(40):
            w_new = w + step * direction
            loss_new, grad_new = f(w_new)
            if loss_new <= loss + 1e-4 * step * slope:
                break
            step *= 0.5
        else:
            return FitResult(w, loss, it, False)
        s_vec = w_new - w
        y_vec = grad_new - grad
        sy = float(np.sum(s_vec * y_vec))
        if sy > 1e-12:
            s_hist.append(s_vec)
            y_hist.append(y_vec)
            rho_hist.append(1.0 / sy)
            if len(s_hist) > memory:
                s_hist.pop(0)
                y_hist.pop(0)
                rho_hist.pop(0)
        stalled = abs(loss - loss_new) <= 1e-10 * max(1.0, abs(loss))
        w, loss, grad = w_new, loss_new, grad_new
        if stalled:
            return FitResult(w, loss, it, True)
    return FitResult(w, loss, max_iter, False)


def _two_loop(
    grad: FloatArray, s_hist: list[FloatArray], y_hist: list[FloatArray], rho: list[float]
) -> FloatArray:
    q = grad.copy()
    alphas: list[float] = []
    for s_vec, y_vec, r in zip(reversed(s_hist), reversed(y_hist), reversed(rho), strict=True):
        a = r * float(np.sum(s_vec * q))
        alphas.append(a)
        q -= a * y_vec
    if s_hist:
        q *= float(np.sum(s_hist[-1] * y_hist[-1])) / float(np.sum(y_hist[-1] * y_hist[-1]))
    for (s_vec, y_vec, r), a in zip(
        zip(s_hist, y_hist, rho, strict=True), reversed(alphas), strict=True
    ):
        b = r * float(np.sum(y_vec * q))
        q += (a - b) * s_vec
    return -q
