"""Small scikit-learn fits run on one BLAS thread wherever transferkit makes them (see transferkit._blas);
the caller's limits come back afterwards."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from tests.helpers import BlasThreadsSpy, blobs
from threadpoolctl import threadpool_info, threadpool_limits

from transferkit import LinearProbe, TransferClassifier, evaluate
from transferkit.audit import _labels
from transferkit.ensembles import TransferEnsemble
from transferkit.selection import _distances
from transferkit.strategies import AutoStrategy
from transferkit.strategies import _probe as _probe_module
from transferkit.tuning import Float, tune


def _label_probe(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_labels, "LogisticRegression", BlasThreadsSpy)
    X, y = blobs(10)
    _labels.out_of_fold_probabilities(X, np.unique(y, return_inverse=True)[1], np.arange(len(y)), cv=2)


def _proxy_a_distance(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_distances, "LogisticRegression", BlasThreadsSpy)
    X, _ = blobs(10)
    _distances.proxy_a_distance(X[:10], X[10:], cv=2)


def _ensemble(monkeypatch: pytest.MonkeyPatch) -> None:
    X, y = blobs(10)
    TransferEnsemble(members=[("spy", BlasThreadsSpy())], method="stacking", cv=2).fit(X, y)


def _search(monkeypatch: pytest.MonkeyPatch) -> None:
    X, y = blobs(12)
    tune(X, y, backbone="tiny-mlp", head=BlasThreadsSpy(), space={"C": Float(0.1, 10, log=True)}, n_trials=2, cv=2,
         cache=False)


def _probe(monkeypatch: pytest.MonkeyPatch) -> None:
    X, y = blobs(12)
    TransferClassifier(backbone="tiny-mlp", strategy=LinearProbe(head=BlasThreadsSpy()), cache=False).fit(X, y)


def _evaluate(monkeypatch: pytest.MonkeyPatch) -> None:
    X, y = blobs(10)
    evaluate({"spy": BlasThreadsSpy()}, X, y, cv=2, baseline=BlasThreadsSpy(), modality="table")


def _auto_cv(monkeypatch: pytest.MonkeyPatch) -> None:  # the CV of probe and baseline inside the strategy
    monkeypatch.setattr(_probe_module, "default_head", BlasThreadsSpy)
    X, y = blobs(20)
    TransferClassifier(backbone="tiny-mlp", strategy=AutoStrategy(max_finetune=0), cache=False).fit(X, y)


@pytest.mark.parametrize("run", [_label_probe, _proxy_a_distance, _ensemble, _search, _probe, _evaluate, _auto_cv])
def test_internal_fits_use_one_blas_thread(run: Callable[[Any], None], monkeypatch: pytest.MonkeyPatch) -> None:
    BlasThreadsSpy.seen.clear()
    with threadpool_limits(limits=2, user_api="blas"):
        run(monkeypatch)
        after = {p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"}
    assert len(BlasThreadsSpy.seen) >= 2 and set(BlasThreadsSpy.seen) == {1}
    assert after == {2}
