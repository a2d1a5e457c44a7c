"""Trains one small model; run plainly or under ``accelerate launch --num_processes 2 --cpu``.

Writes the test accuracy and training history (rank 0) to the JSON file named by argv[1]."""

from __future__ import annotations

import gc
import json
import sys

import numpy as np

from transferkit import TransferClassifier
from transferkit.strategies import STRATEGIES


def main() -> None:
    out, strategy = sys.argv[1], sys.argv[2]
    rng = np.random.default_rng(0)
    X = rng.normal(size=(480, 8)).astype(np.float32)
    w = rng.normal(size=8)
    y = np.where(X @ w + 0.3 * rng.normal(size=480) > 0, "pos", "neg")
    params = {"epochs": 6, "lr": 3e-3, "head_lr": 3e-2, "batch_size": 16, "val_fraction": 0.2, "min_val_size": 0,
              "patience": 10}
    clf = TransferClassifier(backbone="tiny-mlp", strategy=STRATEGIES[strategy](**params), cache=False, device="cpu")
    clf.fit(X[:400], y[:400])
    from accelerate import PartialState

    if PartialState().is_main_process:
        hist = clf.model_.history
        result = {"accuracy": float(clf.score(X[400:], y[400:])), "processes": PartialState().num_processes,
                  "epochs": len(hist.epochs), "val_accuracy": hist.epochs[-1]["val_accuracy"]}
        with open(out, "w") as f:
            json.dump(result, f)
    # Shut the process group down before the interpreter exits: left to exit-time teardown, gloo's threads
    # were once destroyed still joinable ("terminate called without an active exception", SIGABRT on rank 1).
    # And not while the other rank is still at work: rank 0 scores and writes above while rank 1 went on to
    # the teardown (SIGABRT on rank 0 once, with destroy_process_group alone). The model, whose DDP wrapper
    # holds gloo work, goes before the group does.
    PartialState().wait_for_everyone()
    del clf
    gc.collect()
    PartialState().destroy_process_group()


if __name__ == "__main__":
    main()
