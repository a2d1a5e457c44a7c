"""Fine-tunes a tiny CNN with checkpoints; optionally SIGKILLs itself right after a checkpoint.

usage: resume_script.py CKPT_DIR OUT_NPZ KILL_AFTER_EPOCH(-1: never) RESUME(0/1)"""

from __future__ import annotations

import os
import signal
import sys

import numpy as np
from tests.helpers import stripe_images

from transferkit import TransferClassifier
from transferkit.strategies import Augment, GradualUnfreeze
from transferkit.training import _checkpoint


def main() -> None:
    ckpt, out, kill_after, resume = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1"
    original = _checkpoint.save_checkpoint

    def save_then_maybe_die(trainer, folder, epoch):  # type: ignore[no-untyped-def]
        path = original(trainer, folder, epoch)
        if epoch == kill_after:
            os.kill(os.getpid(), signal.SIGKILL)
        return path

    _checkpoint.save_checkpoint = save_then_maybe_die
    X, y = stripe_images(16)
    strategy = GradualUnfreeze(epochs=4, lr=1e-2, batch_size=8, val_fraction=0.25, min_val_size=0, patience=10,
                               augment=Augment(rotation=20, flip=True), checkpoint_dir=ckpt, resume=resume)
    clf = TransferClassifier(backbone="tiny-cnn", strategy=strategy, cache=False, device="cpu").fit(X, y)
    hist = clf.model_.history
    np.savez(out, proba=clf.predict_proba(X), val_loss=[e["val_loss"] for e in hist.epochs],
             resumed=clf.fit_info_.get("resumed_from", ""))


if __name__ == "__main__":
    main()
