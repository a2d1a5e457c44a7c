"""LP-FT: linear probe, then fine-tune from the probed head."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from .._blas import one_blas_thread
from ..backbones import TransferNet
from ..errors import StrategyError
from ._base import FitContext, Number, Rule, check_params
from ._finetune import FullFineTune

#: What the parameter :class:`LPFT` adds accepts.
LPFT_PARAMS: dict[str, Rule] = {"probe_C": Number(low=0, low_open=True)}


def probe_head_weights(features: np.ndarray, y: np.ndarray, n_classes: int, *, C: float, seed: int,
                       sample_weight: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Fit a logistic regression on centred features scaled by one global factor, and fold the scaling into
    one linear layer. ``sample_weight`` weights the rows in the centring and scale as in the regression (as
    the linear probe's weighted scaler does), so a weight of 2 means the same as a duplicated row.

    One factor for all features (the root mean variance), not one per feature: per-feature
    standardisation gives near-constant features (dead channels) huge weights, and once fine-tuning
    moves those features the logits explode (LP-FT then collapsed to 0.29 accuracy on Fashion-MNIST where
    its probe had 0.80).

    Returns ``(weight (n_classes, d), bias (n_classes,))`` such that ``features @ weight.T + bias`` are the
    probe's logits (for two classes, the symmetric pair ``-z/2, z/2``, which has the same softmax).
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(features, sample_weight=sample_weight)
    scaler.scale_ = np.full_like(scaler.scale_, max(float(np.sqrt(np.mean(scaler.var_))), 1e-12))
    with one_blas_thread():
        lr = LogisticRegression(C=C, max_iter=2000, random_state=seed).fit(scaler.transform(features), y,
                                                                           sample_weight=sample_weight)
    coef, intercept = lr.coef_, lr.intercept_
    if coef.shape[0] == 1:  # binary: one logit z for class 1
        coef, intercept = np.vstack([-coef / 2, coef / 2]), np.array([-intercept[0] / 2, intercept[0] / 2])
    full_w = np.zeros((n_classes, features.shape[1]))
    full_b = np.full(n_classes, -1e4)  # a class absent from the training split gets no probability
    full_w[lr.classes_] = coef / scaler.scale_
    full_b[lr.classes_] = intercept - (coef / scaler.scale_) @ scaler.mean_
    return full_w, full_b


@dataclass(kw_only=True, repr=False, eq=False)
class LPFT(FullFineTune):
    """LP-FT (Kumar et al., "Fine-tuning can distort pretrained features and underperform
    out-of-distribution", ICLR 2022): fit a linear probe on the frozen pretrained features first, then
    fine-tune everything starting from that head. A good head means small early gradients, so the
    pretrained features are distorted less than with a random head.

    The probe reads the cached features of the same backbone (no extra pass when they are cached) and is
    fitted with the weights the fine-tuning loss uses (``sample_weight`` times the balanced class weights
    with ``class_weight="balanced"``), so both stages see the same weighted data. The
    head trains at ``head_lr``, by default the backbone's ``lr``: it is already fitted. BatchNorm layers
    keep their pretrained statistics by default (``bn_eval=True``): the probe was fitted on features
    computed with them, and batch statistics would move every feature under the fitted head at the first
    step (with them, LP-FT fell from its probe's 0.80 to 0.49 on Fashion-MNIST). Other parameters are
    those of :class:`FullFineTune`.

    Parameters
    ----------
    probe_C : float, default=1.0
        Inverse L2 strength of the probe's logistic regression (on standardised features).
    """

    cli_name = "lpft"

    lr: float = 5e-5
    head_lr: float = 5e-5
    bn_eval: bool = True
    probe_C: float = 1.0

    def _check(self) -> None:
        super()._check()
        check_params(self, LPFT_PARAMS)

    def warm_start(self, net: TransferNet, ctx: FitContext, X: Any, y: np.ndarray,
                   sample_weight: np.ndarray | None = None) -> None:
        """Fit the probe on the training split with the weights the fine-tuning loss uses (``sample_weight``
        times the balanced class weights with ``class_weight="balanced"``), and copy it into the head."""
        features = ctx.extractor().fit_transform(X)
        if not isinstance(net.head, torch.nn.Linear):  # pragma: no cover - heads are linear
            raise StrategyError("LP-FT needs a linear head")
        # one probe per task (a single task: one column, every row labelled), on the rows labelled for it, into
        # the task's rows of the head
        columns = y[:, None] if ctx.task_sizes is None else y
        blocks, accuracies = [], []
        for t, size in enumerate(ctx.task_sizes or (ctx.n_classes,)):
            rows = columns[:, t] >= 0
            found = len(np.unique(columns[rows, t]))
            if found < 2:  # only with several tasks: one task's split is stratified
                name = ctx.task_names[t] if ctx.task_names else f"task_{t}"
                raise StrategyError(f"task {name!r} has {found} class{'' if found == 1 else 'es'} among the "
                                    f"{int(rows.sum())} rows labelled for it in the training split; LP-FT's probe "
                                    "needs two (use more labelled rows or val_fraction=0)")
            w, b = probe_head_weights(features[rows], columns[rows, t], size, C=self.probe_C, seed=ctx.random_state,
                                      sample_weight=None if sample_weight is None else sample_weight[rows])
            blocks.append((w, b))
            accuracies.append(np.mean(np.argmax(features[rows] @ w.T + b, axis=1) == columns[rows, t]))
        w, b = np.vstack([w for w, _ in blocks]), np.concatenate([b for _, b in blocks])
        accuracy = float(np.mean(accuracies))  # the mean over tasks
        with torch.no_grad():
            net.head.weight.copy_(torch.as_tensor(w, dtype=net.head.weight.dtype))
            net.head.bias.copy_(torch.as_tensor(b, dtype=net.head.bias.dtype))
        ctx.info["probe_train_accuracy"] = accuracy
