from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from transferkit.training import (
    Callback,
    EarlyStopping,
    TrainConfig,
    Trainer,
    make_loader,
    warmup_cosine,
    weighted_cross_entropy,
)


def test_warmup_cosine_shape() -> None:
    values = [warmup_cosine(s, 100, 10) for s in range(101)]
    assert values[0] == 0.0 and values[10] == 1.0 and abs(values[100]) < 1e-12
    assert all(a <= b for a, b in zip(values[:10], values[1:11], strict=True))  # rising warm-up
    assert all(a >= b for a, b in zip(values[10:-1], values[11:], strict=True))  # decaying after
    assert warmup_cosine(5, 100, 0) < 1.0


def test_weighted_loss_equals_duplication() -> None:
    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    targets = torch.tensor([0, 1, 0])
    loss = weighted_cross_entropy()
    weighted = loss(logits, targets, torch.tensor([2.0, 1.0, 1.0]))
    duplicated = loss(logits[[0, 0, 1, 2]], targets[[0, 0, 1, 2]], None)
    assert torch.allclose(weighted, duplicated)


class _Model(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(2, 2)

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.lin(batch["features"])


def _data(n: int = 64) -> tuple[np.ndarray, np.ndarray]:
    r = np.random.default_rng(0)
    X = r.normal(size=(n, 2)).astype(np.float32)
    return X, (X[:, 0] + X[:, 1] > 0).astype(int)


def _prep(items):  # type: ignore[no-untyped-def]
    return {"features": torch.as_tensor(np.asarray(items), dtype=torch.float32)}


def _train(epochs: int = 5, callbacks=(), seed: int = 0):  # type: ignore[no-untyped-def]
    torch.manual_seed(seed)
    X, y = _data()
    model = _Model()
    train = make_loader(X[:48], y[:48], preprocess=_prep, batch_size=8, shuffle=True, seed=seed)
    val = make_loader(X[48:], y[48:], preprocess=_prep, batch_size=16, shuffle=False, seed=seed)
    trainer = Trainer(TrainConfig(epochs=epochs, device="cpu"), weighted_cross_entropy(), callbacks=list(callbacks))
    hist = trainer.fit(model, [{"params": list(model.parameters()), "lr": 0.1}], train, val)
    return trainer.unwrapped_model, hist


def test_training_learns_and_is_deterministic() -> None:
    m1, h1 = _train()
    m2, _ = _train()
    assert h1.epochs[-1]["val_accuracy"] >= 0.85
    assert h1.epochs[-1]["train_loss"] < h1.epochs[0]["train_loss"]
    for a, b in zip(m1.parameters(), m2.parameters(), strict=True):
        assert torch.equal(a, b)


def test_early_stopping_stops_and_restores_the_best_epoch() -> None:
    class _WorseEachEpoch(Callback):
        """Fakes a validation loss that is best at epoch 1 and then rises."""

        def on_epoch_end(self, trainer, epoch, logs):  # type: ignore[no-untyped-def]
            logs["val_loss"] = abs(epoch - 1) + 1.0
            if epoch == 1:
                self.weights = {k: v.clone() for k, v in trainer.unwrapped_model.state_dict().items()}

    fake = _WorseEachEpoch()
    model, hist = _train(epochs=10, callbacks=[fake, EarlyStopping("val_loss", patience=2)])
    assert len(hist.epochs) == 4 and hist.stopped_early and hist.best_epoch == 1
    for k, v in model.state_dict().items():
        assert torch.equal(v, fake.weights[k])


class _FakeScores(Callback):
    """Replaces each epoch's validation accuracy and loss with given ones and keeps each epoch's weights."""

    def __init__(self, scores: list[tuple[float, float]]) -> None:
        self.scores, self.weights = scores, []  # type: ignore[var-annotated]

    def on_epoch_end(self, trainer, epoch, logs):  # type: ignore[no-untyped-def]
        logs["val_accuracy"], logs["val_loss"] = self.scores[epoch]
        self.weights.append({k: v.clone() for k, v in trainer.unwrapped_model.state_dict().items()})


def test_early_stopping_on_accuracy_keeps_the_most_accurate_epoch_and_breaks_ties_on_the_loss() -> None:
    # epoch 2 ties epoch 1's accuracy with a lower loss (it wins); epoch 3 ties it with a higher one (it does not)
    fake = _FakeScores([(0.5, 0.9), (0.7, 0.6), (0.7, 0.5), (0.7, 0.8), (0.6, 0.4), (0.65, 0.3), (0.9, 0.1)])
    stopper = EarlyStopping("val_accuracy", patience=3)
    model, hist = _train(epochs=10, callbacks=[fake, stopper])
    assert len(hist.epochs) == 6 and hist.stopped_early and hist.best_epoch == 2
    assert stopper.best_ == (-0.7, 0.5)
    for k, v in model.state_dict().items():
        assert torch.equal(v, fake.weights[2][k])
    # on the loss, the same epochs keep improving: no stop, the last (lowest loss) epoch kept
    fake = _FakeScores([(0.5, 0.9), (0.7, 0.6), (0.7, 0.5), (0.7, 0.8), (0.6, 0.4), (0.65, 0.3), (0.9, 0.1)])
    _, hist = _train(epochs=7, callbacks=[fake, EarlyStopping("val_loss", patience=3)])
    assert len(hist.epochs) == 7 and not hist.stopped_early and hist.best_epoch == 6


def test_early_stopping_state_of_an_older_checkpoint_still_loads() -> None:
    stopper = EarlyStopping("val_loss", patience=3)
    stopper.load_state_dict({"best": 0.42, "best_epoch": 3, "wait": 1, "best_state": None})  # before (value, tie)
    assert stopper.best_ == (0.42, 0.0) and (stopper.best_epoch_, stopper.wait_) == (3, 1)
    stopper.load_state_dict(stopper.state_dict())
    assert stopper.best_ == (0.42, 0.0)
    stopper.load_state_dict({**stopper.state_dict(), "best": [-0.7, 0.5]})  # a tuple that went through JSON
    assert stopper.best_ == (-0.7, 0.5)


def test_extra_loss_terms_are_added() -> None:
    seen = []

    def term(step):  # type: ignore[no-untyped-def]
        seen.append((step.features, step.progress))
        return 0.0 * step.logits.sum()

    X, y = _data(16)
    model = _Model()
    loader = make_loader(X, y, preprocess=_prep, batch_size=8, shuffle=False, seed=0)
    Trainer(TrainConfig(epochs=1, device="cpu"), weighted_cross_entropy(), terms=[term]).fit(
        model, [{"params": list(model.parameters()), "lr": 0.1}], loader)
    assert len(seen) == 2
    assert seen[0][0] is None and seen[0][1] == 0.0 and seen[1][1] == 0.5


def test_terms_can_ask_for_features_and_unlabeled_rows_carry_no_task_loss() -> None:
    from transferkit.backbones import create_backbone
    from transferkit.training import UNLABELED

    class _FeatureTerm:
        needs_features = True

        def __init__(self) -> None:
            self.shapes: list[tuple[int, ...]] = []

        def __call__(self, step):  # type: ignore[no-untyped-def]
            self.shapes.append(tuple(step.features.shape))
            return step.features.pow(2).mean() * 0.0

    torch.manual_seed(0)
    net = create_backbone("tiny-mlp", in_features=2).with_head(2)
    term = _FeatureTerm()
    X, y = _data(16)
    y = y.copy()
    y[8:] = UNLABELED
    loader = make_loader(X, y, preprocess=net.backbone.preprocess, batch_size=8, shuffle=False, seed=0)
    hist = Trainer(TrainConfig(epochs=1, device="cpu"), weighted_cross_entropy(), terms=[term]).fit(
        net, [{"params": list(net.parameters()), "lr": 0.1}], loader)
    assert term.shapes == [(8, net.backbone.num_features)] * 2
    assert np.isfinite(hist.epochs[0]["train_loss"])
    # the task loss ignores unlabeled rows: equal to the loss over the labeled rows alone
    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    loss = weighted_cross_entropy()
    assert torch.allclose(loss(logits, torch.tensor([0, UNLABELED, 1]), None),
                          loss(logits[[0, 2]], torch.tensor([0, 1]), None))
    assert float(loss(logits, torch.full((3,), UNLABELED), None)) == 0.0


@pytest.mark.parametrize("accum", [1, 2])
def test_gradient_accumulation_steps_every_accum_batches(accum: int) -> None:
    """4 batches make 4 optimisation steps, or 2 when gradients accumulate over 2 batches."""

    from torch.optim.optimizer import register_optimizer_step_post_hook

    class _CountSteps(Callback):
        def __init__(self) -> None:
            self.steps = 0

        def on_step_end(self, trainer, loss):  # type: ignore[no-untyped-def]
            self.steps += 1

    torch.manual_seed(0)
    X, y = _data(16)
    model = _Model()
    loader = make_loader(X, y, preprocess=_prep, batch_size=4, shuffle=False, seed=0)
    counter = _CountSteps()
    moved: list[int] = []  # optimiser steps that changed the weights
    before = [p.detach().clone() for p in model.parameters()]

    def weights_moved(optimizer, args, kwargs):  # type: ignore[no-untyped-def]
        after = [p.detach().clone() for p in model.parameters()]
        moved.append(int(any(not torch.equal(a, b) for a, b in zip(before, after, strict=True))))
        before[:] = after

    trainer = Trainer(TrainConfig(epochs=1, device="cpu", grad_accum=accum, max_grad_norm=None, warmup_ratio=0.0),
                      weighted_cross_entropy(), callbacks=[counter])
    hook = register_optimizer_step_post_hook(weights_moved)  # global: the optimiser is built in fit
    try:
        hist = trainer.fit(model, [{"params": list(model.parameters()), "lr": 0.1}], loader)
    finally:
        hook.remove()
    assert np.isfinite(hist.epochs[0]["train_loss"])
    assert counter.steps == 4 // accum
    assert sum(moved) == 4 // accum


def test_conv_nets_train_channels_last_on_cpu_and_come_back_in_the_default_layout(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import torch
    from tests.helpers import stripe_images

    from transferkit import TransferClassifier
    from transferkit.strategies import FullFineTune

    seen: list[bool] = []
    conv_forward = torch.nn.Conv2d.forward

    def spy(self, x):  # type: ignore[no-untyped-def]
        if self.training:
            seen.append(x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous())
        return conv_forward(self, x)

    X, y = stripe_images(10)

    def fit() -> TransferClassifier:
        return TransferClassifier(backbone="tiny-cnn", cache=False, device="cpu",
                                  strategy=FullFineTune(epochs=2, val_fraction=0.2, min_val_size=0,
                                                        lr=1e-2)).fit(X, y)

    with monkeypatch.context() as m:
        m.setattr(torch.nn.Conv2d, "forward", spy)
        clf = fit()
    assert seen and all(seen)  # every training convolution saw channels-last input
    assert all(p.is_contiguous() for p in clf.model_.net.parameters())  # saved and served as usual
    monkeypatch.setattr(Trainer, "_on_cpu", lambda self: False)  # the default layout (still on this CPU)
    plain = fit()
    losses = [[e[k] for e in c.model_.history.epochs for k in ("train_loss", "val_loss")] for c in (clf, plain)]
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-4)  # the same training, only faster
    np.testing.assert_allclose(clf.predict_proba(X), plain.predict_proba(X), atol=1e-4)


def test_a_run_resumed_after_it_stopped_early_still_says_so(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The history's stopped_early flag comes back with the checkpoint (it was lost on resume)."""

    class _StopAtEpochOne(Callback):
        def __init__(self, stop: bool) -> None:
            self.stop = stop

        def on_epoch_end(self, trainer, epoch, logs):  # type: ignore[no-untyped-def]
            trainer.should_stop = self.stop and epoch == 1

    X, y = _data()

    def run(resume: bool):  # type: ignore[no-untyped-def]
        torch.manual_seed(0)
        model = _Model()
        train = make_loader(X[:48], y[:48], preprocess=_prep, batch_size=8, shuffle=True, seed=0)
        config = TrainConfig(epochs=5, device="cpu", checkpoint_dir=str(tmp_path), resume=resume, run_key="k")
        # only the first run's callback stops: a resumed run that trained again would run all 5 epochs
        trainer = Trainer(config, weighted_cross_entropy(), callbacks=[_StopAtEpochOne(stop=not resume)])
        return trainer, trainer.fit(model, [{"params": list(model.parameters()), "lr": 0.1}], train, None)

    trainer, first = run(False)
    assert first.stopped_early and len(first.epochs) == 2 and trainer.resumed_from is None
    trainer, again = run(True)
    assert trainer.resumed_from == tmp_path / "epoch-0002"
    assert again.stopped_early and again.epochs == first.epochs


def test_a_checkpoint_keeps_the_fp16_loss_scale(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """fp16 runs on a GPU carry a GradScaler whose scale and growth counter must survive a resume.

    No GPU here, so a CPU GradScaler stands in for Accelerate's CUDA one: the checkpoint code only sees
    ``accelerator.scaler``."""
    from transferkit.training import CheckpointError
    from transferkit.training._checkpoint import load_checkpoint, save_checkpoint

    X, y = _data()
    torch.manual_seed(0)
    model = _Model()
    train = make_loader(X[:48], y[:48], preprocess=_prep, batch_size=8, shuffle=True, seed=0)
    trainer = Trainer(TrainConfig(epochs=1, device="cpu", run_key="k"), weighted_cross_entropy())
    trainer.fit(model, [{"params": list(model.parameters()), "lr": 0.1}], train, None)

    scaler = torch.amp.GradScaler("cpu", init_scale=2.0**12, growth_interval=100)
    scaler.scale(torch.ones(()))  # the scale tensor is created lazily
    scaler.update(2.0**9)
    trainer.accelerator.scaler = scaler
    path = save_checkpoint(trainer, tmp_path, 0)

    trainer.accelerator.scaler = fresh = torch.amp.GradScaler("cpu", growth_interval=100)
    load_checkpoint(trainer, path)
    assert fresh.get_scale() == 2.0**9 and fresh.state_dict() == scaler.state_dict()

    trainer.accelerator.scaler = None  # an fp32 run must not take an fp16 run's checkpoint, nor the reverse
    with pytest.raises(CheckpointError, match="another mixed precision"):
        load_checkpoint(trainer, path)
