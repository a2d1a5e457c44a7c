"""``AutoStrategy``: choose how to transfer from the data, a time budget and cheap signals, and explain it.

The choice is made on a stratified validation split of the training data, never on test data:

1. Cheap signals: features from the (cached) backbone, a linear probe and the no-transfer baseline fitted on
   the training part and scored on the validation part, the data size per class, and the measured time of one
   fine-tuning step on this machine.
2. Fine-tuning candidates, in order of preference, each tried when its estimated cost fits what is left of
   the budget (at most ``max_finetune`` of them): LP-FT (Kumar et al., ICLR 2022: never starts from a random
   head, so it rarely does worse than its own probe); then LoRA (Hu et al., ICLR 2022: few trainable
   weights, little overfitting on small data) or, from ``full_per_class`` examples per class on, full
   fine-tuning with layer-wise learning-rate decay (with that much data, updating every layer pays: Kornblith
   et al., CVPR 2019); partial freezing of the top half is the cheap candidate when neither fits the budget.
   Fine-tuning is skipped when the backbone cannot train (a frozen engine), when classes have fewer than
   ``min_per_class`` examples (too few to fine-tune without overfitting), or when the probe is already
   nearly perfect on validation.
3. Each candidate gets an estimated accuracy: the probe and the baseline by k-fold cross-validation over all
   the data (cheap: features are cached), a fine-tuned candidate by the probe's score plus its paired gain
   over the probe on the validation split less one standard error of that gain (a handful of validation
   examples alone decide little; the one-standard-error rule keeps gains they cannot resolve). The best
   estimate wins; ties go to the cheaper candidate. When the no-transfer baseline is at least as good as
   every transfer candidate, the guard falls back to it and says so.

The winner is refitted on all the data: always when it is cheap (probe, baseline), and a fine-tuned winner
when the time it took on the training part, scaled to all the data, fits what is left of the budget
(``refit``); otherwise it keeps the weights trained on the training part.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ..data._images import item_positions
from ..data._validation import check_folds
from ..errors import StrategyError
from ._base import FitContext, Strategy, TransferModel
from ._serialize import load_sklearn, save_sklearn


def parse_budget(budget: str | float | int | None) -> float | None:
    """Seconds from ``90``, ``"90s"``, ``"10m"``, ``"1.5h"``; None means no limit.

    >>> parse_budget("10m"), parse_budget("90s"), parse_budget(30), parse_budget(None)
    (600.0, 90.0, 30.0, None)
    """
    if budget is None:
        return None
    if isinstance(budget, int | float):
        seconds = float(budget)
    else:
        text = budget.strip().lower()
        units = {"s": 1.0, "m": 60.0, "h": 3600.0}
        factor = units.get(text[-1:])
        number = text[:-1] if factor is not None else text
        try:
            seconds = float(number) * (factor or 1.0)
        except ValueError:
            raise StrategyError(f"cannot read the time budget {budget!r}; use e.g. 90s, 10m or 1.5h") from None
    if not 0 < seconds < float("inf"):  # NaN fails too
        raise StrategyError(f"the time budget must be a positive, finite time, got {budget!r}")
    return seconds


class BaselineModel:
    """The no-transfer baseline as a fitted transfer model (what the guard falls back to)."""

    kind: ClassVar[str] = "baseline"

    def __init__(self, pipeline: Any, modality: str) -> None:
        self.pipeline, self.modality = pipeline, modality

    def predict_proba(self, X: Any) -> np.ndarray:
        from ..evaluation._baselines import _as_text

        return np.asarray(self.pipeline.predict_proba(_as_text(X) if self.modality == "text" else X))

    def save(self, folder: Path) -> dict[str, Any]:
        save_sklearn(self.pipeline, folder / "baseline.skops")
        return {"baseline_file": "baseline.skops", "modality": self.modality}

    def summary(self) -> dict[str, Any]:
        return {"baseline": self.modality}


class AutoModel:
    """The model the auto strategy chose; behaves as that model and remembers which it was."""

    def __init__(self, inner: TransferModel, chosen: Strategy | None, name: str) -> None:
        self.inner, self.chosen, self.name = inner, chosen, name

    def __getattr__(self, attr: str) -> Any:  # kind, history, extractor, net, features ...
        try:
            inner = self.__dict__["inner"]
        except KeyError:  # not set yet (unpickling, copying looks up __setstate__ before filling __dict__)
            raise AttributeError(attr) from None
        return getattr(inner, attr)

    def predict_proba(self, X: Any) -> np.ndarray:
        return self.inner.predict_proba(X)

    def save(self, folder: Path) -> dict[str, Any]:
        chosen = None
        if self.chosen is not None:
            from ..estimators._folder import _strategy_config

            chosen = _strategy_config(self.chosen)
        return {**self.inner.save(folder), "auto_choice": self.name, "chosen_strategy": chosen}

    def summary(self) -> dict[str, Any]:
        return {"auto_choice": self.name, **self.inner.summary()}


class AutoStrategy(Strategy):
    """Choose among the linear probe, LP-FT, LoRA, full fine-tuning, partial freezing and the no-transfer
    baseline (see the module docstring for the rules) within a time budget, and record why in
    ``fit_info_["auto"]``.

    Parameters
    ----------
    budget : str or float, optional
        Wall-clock budget for the whole fit (``"10m"``, ``"90s"``, seconds); None: no limit.
    val_fraction : float, default=0.2
        Stratified share of the training data the candidates are compared on.
    min_per_class : int, default=8
        Fewer training examples than this in some class: no fine-tuning.
    epochs : int or None, default=None
        Epochs of each fine-tuning candidate. None: the fine-tuning strategies' own default, 10 epochs or at
        least 100 optimiser steps on small data (:func:`~transferkit.strategies.default_epochs`), which the
        time estimate against ``budget`` counts too.
    fallback : bool, default=True
        Fall back to the no-transfer baseline when it beats every transfer candidate on validation.
    max_finetune : int, default=2
        At most this many fine-tuning candidates (0: probe and baseline only).
    full_per_class : int, default=300
        From this many examples in the smallest class on, the second candidate is full fine-tuning (with
        layer-wise learning-rate decay) instead of LoRA.
    cv : int, default=5
        Folds of the cross-validation that scores the probe and the baseline (fewer for small classes).
    refit : bool or "auto", default="auto"
        Refit a fine-tuned winner on all the data: ``"auto"`` when the budget allows it (always without a
        budget), True always, False never (it keeps the weights trained on the training part).
    """

    cli_name = "auto"

    def __init__(self, *, budget: str | float | None = None, val_fraction: float = 0.2, min_per_class: int = 8,
                 epochs: int | None = None, fallback: bool = True, max_finetune: int = 2, full_per_class: int = 300,
                 cv: int = 5, refit: bool | str = "auto") -> None:
        self.budget = budget
        self.val_fraction = val_fraction
        self.min_per_class = min_per_class
        self.epochs = epochs
        self.fallback = fallback
        self.max_finetune = max_finetune
        self.full_per_class = full_per_class
        self.cv = cv
        self.refit = refit

    # --- signals ---------------------------------------------------------------------------------------
    @staticmethod
    def _step_seconds(ctx: FitContext, X: Any, batch_size: int) -> float:
        """Seconds of one training step (forward + backward + AdamW) on this machine, measured."""
        import torch

        from ..features import resolve_device

        device = resolve_device(ctx.device)  # the loop's (the shared backbone may sit wherever extraction ran)
        with torch.random.fork_rng(devices=[]):
            net = ctx.trainable_backbone().with_head(ctx.n_classes).to(device)
            n = min(batch_size, len(X))
            items: Any = X[:n] if isinstance(X, np.ndarray) else [X[i] for i in range(n)]
            inputs = {k: v.to(device) for k, v in net.backbone.preprocess(items).items()}
            targets = torch.zeros(n, dtype=torch.long, device=device)
            opt = torch.optim.AdamW([p for p in net.parameters() if p.requires_grad], lr=1e-5)
            times = []
            for _ in range(2):  # the first step pays one-off allocation costs
                t0 = time.perf_counter()
                torch.nn.functional.cross_entropy(net(inputs), targets).backward()
                opt.step()
                opt.zero_grad()
                if device.type == "cuda":
                    torch.cuda.synchronize(device)
                times.append(time.perf_counter() - t0)
        return times[-1] * batch_size / n

    def fit_transfer(self, ctx: FitContext, X: Any, y: np.ndarray, sample_weight: np.ndarray | None = None) -> Any:
        from .._blas import one_blas_thread

        with one_blas_thread():  # many small scikit-learn fits (CV of probe and baseline); torch keeps its threads
            return self._fit_transfer(ctx, X, y, sample_weight)

    def _fit_transfer(self, ctx: FitContext, X: Any, y: np.ndarray, sample_weight: np.ndarray | None) -> Any:
        from ..backbones import backbone_modality
        from ..evaluation import make_baseline
        from ._finetune import validation_split
        from ._probe import LinearProbe, fit_head

        if not 0 < self.val_fraction < 1:
            raise StrategyError(f"val_fraction must be in (0, 1), got {self.val_fraction}")
        if self.max_finetune < 0 or self.full_per_class < 1:
            raise StrategyError(f"max_finetune must be >= 0 and full_per_class >= 1; got {self.max_finetune} and "
                                f"{self.full_per_class}")
        if self.refit not in (True, False, "auto"):
            raise StrategyError(f"refit must be True, False or 'auto', got {self.refit!r}")
        check_folds(self.cv, error=StrategyError)
        start = time.perf_counter()
        budget = parse_budget(self.budget)
        modality = backbone_modality(ctx.backbone)
        take = (lambda ix: X[ix]) if isinstance(X, np.ndarray) else (lambda ix: [X[i] for i in ix])
        tr, va = validation_split(y, self.val_fraction, ctx.random_state)
        counts = np.bincount(y, minlength=ctx.n_classes)
        info: dict[str, Any] = {"n_samples": int(len(y)), "min_per_class": int(counts.min()), "budget_seconds": budget,
                                "candidates": [], "reasons": []}
        ctx.info["auto"] = info
        if va is None:
            info["reasons"].append("too few examples per class for a validation split: the linear probe, no comparison")
            return self._refit_probe(ctx, X, y, sample_weight, info, start)
        Xtr, ytr, Xva, yva = take(tr), y[tr], take(va), y[va]
        sw_tr = None if sample_weight is None else sample_weight[tr]

        models: dict[str, tuple[Any, Strategy | None]] = {}
        correct: dict[str, np.ndarray] = {}  # per validation example: right or wrong
        in_train, in_val = tr.tolist(), va.tolist()  # rows of X: image errors name them, not places in a part

        def record(name: str, fit: Callable[[], Any], strategy: Strategy | None) -> None:
            t0 = time.perf_counter()
            with item_positions(in_train):
                model = fit()
            seconds = time.perf_counter() - t0
            with item_positions(in_val):
                correct[name] = np.argmax(model.predict_proba(Xva), axis=1) == yva
            info["candidates"].append({"name": name, "val_accuracy": float(correct[name].mean()), "seconds": seconds,
                                       "strategy": repr(strategy) if strategy is not None else None})
            models[name] = (model, strategy)

        probe = LinearProbe()
        record("linear probe", partial(probe.fit_transfer, ctx, Xtr, ytr, sw_tr), probe)
        base = make_baseline(modality, random_state=ctx.random_state)
        record("no-transfer baseline",
               lambda: BaselineModel(fit_head(base, Xtr if modality != "text" else [str(t) for t in Xtr], ytr, sw_tr),
                                     modality), None)

        with item_positions(in_train):  # times a training step on the training part's first items
            candidates = self._finetune_candidates(ctx, Xtr, counts, info, budget, start)
        for name, strategy in candidates:
            record(name, partial(strategy.fit_transfer, ctx, Xtr, ytr, sw_tr), strategy)

        self._estimate(ctx, X, y, modality, info, correct)
        transfer = [c for c in info["candidates"] if c["name"] != "no-transfer baseline"]
        best = max(transfer, key=lambda c: (c["estimate"], -c["seconds"]))
        baseline = next(c for c in info["candidates"] if c["name"] == "no-transfer baseline")
        if self.fallback and (baseline["estimate"], -baseline["seconds"]) > (best["estimate"], -best["seconds"]):
            info["reasons"].append(
                f"negative transfer guard: the no-transfer baseline ({baseline['estimate']:.3f}) is at least as "
                f"accurate as every transfer candidate (best {best['name']}: {best['estimate']:.3f}) and cheaper; "
                "falling back to the baseline")
            best = baseline
        info["choice"] = best["name"]
        info["reasons"].append(f"chose {best['name']}: best estimated accuracy, {best['estimate']:.3f}")
        if best["name"] == "linear probe":
            return self._refit_probe(ctx, X, y, sample_weight, info, start)
        if best is baseline:
            base = make_baseline(modality, random_state=ctx.random_state)
            fit_head(base, X if modality != "text" else [str(t) for t in X], y, sample_weight)  # weighted as the rest
            info["seconds"] = time.perf_counter() - start
            return AutoModel(BaselineModel(base, modality), None, best["name"])
        model, strategy = models[best["name"]]
        assert strategy is not None  # only the baseline has none, and it returned above
        estimate = best["seconds"] * len(y) / len(ytr)
        left = None if budget is None else budget - (time.perf_counter() - start)
        if self.refit is True or (self.refit == "auto" and (left is None or estimate <= left)):
            info["refit"] = f"yes: refitted on all {len(y)} examples (estimated {estimate:.0f} s)"
            t0 = time.perf_counter()
            model = strategy.fit_transfer(ctx, X, y, sample_weight)
            info["refit_seconds"] = time.perf_counter() - t0
        elif self.refit is False:
            info["refit"] = "no (refit=False): the fine-tuned model keeps its weights from the training part"
        else:
            info["refit"] = (f"no: refitting on all the data would take about {estimate:.0f} s, more than the "
                             f"{left:.0f} s left; the fine-tuned model keeps its weights from the training part")
        info["seconds"] = time.perf_counter() - start
        return AutoModel(model, strategy, best["name"])

    def _estimate(self, ctx: FitContext, X: Any, y: np.ndarray, modality: str, info: dict[str, Any],
                  correct: dict[str, np.ndarray]) -> None:
        """Each candidate's estimated accuracy (``estimate``): a few validation examples decide little, so the
        cheap candidates (probe, baseline) are scored by stratified k-fold cross-validation over all the data
        (features come from the cache), and a fine-tuned candidate by the probe's CV score plus its paired
        gain over the probe on the validation split, less one standard error of that gain (the one-standard-
        error rule, Hastie et al., ESL 7.10: a gain the validation split cannot tell from noise is not
        bought with fine-tuning's cost and risk)."""
        from sklearn.model_selection import StratifiedKFold, cross_val_score

        from ..evaluation import make_baseline
        from ._probe import default_head

        by_name = {c["name"]: c for c in info["candidates"]}
        k = min(self.cv, int(np.bincount(y).min()))
        if k < 2:
            for c in info["candidates"]:
                c["estimate"] = c["val_accuracy"]
            return
        folds = StratifiedKFold(k, shuffle=True, random_state=ctx.random_state)
        features = ctx.extractor().fit_transform(X)
        probe = by_name["linear probe"]
        probe["cv_accuracy"] = float(cross_val_score(default_head(), features, y, cv=folds).mean())
        base = by_name["no-transfer baseline"]
        Xb = X if modality != "text" else [str(t) for t in X]
        base["cv_accuracy"] = float(cross_val_score(make_baseline(modality, random_state=ctx.random_state), Xb, y,
                                                    cv=folds).mean())
        for c in info["candidates"]:
            if "cv_accuracy" in c:
                c["estimate"] = c["cv_accuracy"]
                continue
            gain = correct[c["name"]].astype(float) - correct["linear probe"].astype(float)
            c["val_gain"] = float(gain.mean())
            c["val_gain_se"] = float(gain.std(ddof=1) / np.sqrt(len(gain))) if len(gain) > 1 else 0.0
            c["estimate"] = probe["cv_accuracy"] + c["val_gain"] - c["val_gain_se"]
        info["reasons"].append(f"probe and baseline scored by {k}-fold cross-validation on all {len(y)} examples; "
                               "fine-tuned candidates by the probe's score plus their gain over it on validation, "
                               "less one standard error of the gain")

    def _finetune_candidates(self, ctx: FitContext, Xtr: Any, counts: np.ndarray, info: dict[str, Any],
                             budget: float | None, start: float) -> list[tuple[str, Any]]:
        from ._finetune import FullFineTune, default_epochs
        from ._lora import LoRA
        from ._lpft import LPFT
        from ._partial import PartialFreeze

        if self.max_finetune == 0:
            info["reasons"].append("max_finetune=0: probe and baseline only")
            return []
        backbone = ctx.shared_backbone()
        if not any(True for _ in backbone.parameters()) or not backbone.parameter_groups():
            info["reasons"].append(f"{ctx.backbone} cannot be fine-tuned (a frozen engine): probe only")
            return []
        if counts.min() < self.min_per_class:
            info["reasons"].append(f"smallest class has {counts.min()} examples (< {self.min_per_class}): too few to "
                                   "fine-tune without overfitting; probe only")
            return []
        probe_acc = info["candidates"][0]["val_accuracy"]
        if probe_acc >= 0.99:
            info["reasons"].append(f"the probe is already at {probe_acc:.3f} on validation: nothing to gain from fine-tuning")
            return []
        step = self._step_seconds(ctx, Xtr, 32)
        batches = -(-len(Xtr) // 32)
        epoch = step * batches
        epochs = self.epochs if self.epochs is not None else default_epochs(batches)
        info["estimated_seconds_per_epoch"] = epoch
        info["candidate_epochs"] = epochs
        n_groups = len(backbone.parameter_groups())
        if counts.min() >= self.full_per_class:
            second = ("full fine-tune (layer decay 0.75)", FullFineTune(epochs=self.epochs, layer_decay=0.75), 1.0,
                      f"the smallest class has {counts.min()} examples (>= {self.full_per_class}): enough to update "
                      "every layer")
        else:
            second = ("LoRA", LoRA(epochs=self.epochs), 0.9,
                      f"the smallest class has {counts.min()} examples (< {self.full_per_class}): few trainable weights")
        options = [
            ("LP-FT", LPFT(epochs=self.epochs), 1.15, "starts from the probe's head"),  # + the probe (cached features)
            second,
            ("partial (top half)", PartialFreeze(epochs=self.epochs, n_trainable=max(1, n_groups // 2)), 0.6,
             "the cheapest fine-tuning"),
        ]
        chosen: list[tuple[str, Any]] = []
        planned = 0.0
        for name, strategy, factor, why in options:
            if len(chosen) == self.max_finetune or (name.startswith("partial") and chosen):
                break  # partial freezing only stands in when nothing better fits
            cost = factor * epochs * epoch
            left = None if budget is None else budget - (time.perf_counter() - start) - planned
            if left is None or cost <= left:
                info["reasons"].append(f"fine-tuning candidate {name} ({why}): {epochs} epochs, estimated {cost:.0f} s"
                                       + ("" if left is None else f" of {left:.0f} s left"))
                chosen.append((name, strategy))
                planned += cost
            else:
                info["reasons"].append(f"{name} would take about {cost:.0f} s, more than the {left:.0f} s left")
        return chosen

    def _refit_probe(self, ctx: FitContext, X: Any, y: np.ndarray, sample_weight: np.ndarray | None,
                     info: dict[str, Any], start: float) -> AutoModel:
        from ._probe import LinearProbe

        probe = LinearProbe()
        info.setdefault("choice", "linear probe")
        model = probe.fit_transfer(ctx, X, y, sample_weight)
        info["seconds"] = time.perf_counter() - start
        return AutoModel(model, probe, "linear probe")

    def load_model(self, folder: Path, config: dict[str, Any], ctx: FitContext) -> Any:
        from ..estimators._folder import strategy_from_config

        name = config.get("auto_choice", "linear probe")
        if config.get("chosen_strategy") is None:
            return AutoModel(BaselineModel(load_sklearn(folder / config["baseline_file"]), config["modality"]), None, name)
        chosen = strategy_from_config(config["chosen_strategy"])
        return AutoModel(chosen.load_model(folder, config, ctx), chosen, name)
