"""GradualUnfreeze, LP-FT, LoRA, regularisers and augmentation on tiny random backbones."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from tests.helpers import blobs, polarity_texts, stripe_images

from transferkit import MultiTaskClassifier, TransferClassifier, load_model
from transferkit.errors import StrategyError
from transferkit.features import shared_backbone
from transferkit.strategies import (
    LPFT,
    Augment,
    FullFineTune,
    GradualUnfreeze,
    LoRA,
    PartialFreeze,
    parse_augment,
    probe_head_weights,
)
from transferkit.training import weighted_cross_entropy
from transferkit.training._regularizers import bss_penalty, l2_sp_penalty


def _backbone_state(name: str = "tiny-cnn") -> dict[str, torch.Tensor]:
    bb = shared_backbone(name, True, None, None, None, 0, None)
    return {k: v.clone() for k, v in bb.state_dict().items()}


def _fitted_backbone(clf: TransferClassifier) -> dict[str, torch.Tensor]:
    return {k: v for k, v in clf.model_.net.backbone.state_dict().items()}


def test_strategies_are_cloneable_parameter_objects() -> None:
    s = GradualUnfreeze(epochs=3, unfreeze_every=2, augment=Augment(rotation=5.0))
    c = clone(s)
    assert c is not s and c.get_params(deep=False)["unfreeze_every"] == 2
    assert s.get_params(deep=True)["augment__rotation"] == 5.0
    assert repr(s) == "GradualUnfreeze(augment=Augment(rotation=5.0), epochs=3, unfreeze_every=2)"
    assert {"rank", "alpha", "target_modules", "lr"} <= set(LoRA._get_param_names())


def test_gradual_unfreeze_trains_only_the_groups_whose_epoch_has_come() -> None:
    X, y = stripe_images(12)
    before = _backbone_state()
    # tiny-cnn groups: stem, block, top. Two epochs: epoch 0 head only, epoch 1 head + top.
    clf = TransferClassifier(backbone="tiny-cnn", cache=False,
                             strategy=GradualUnfreeze(epochs=2, val_fraction=0.0, lr=1e-2)).fit(X, y)
    after = _fitted_backbone(clf)
    for k in before:
        same = torch.equal(before[k], after[k])
        if k.startswith("top.") and k.endswith("weight"):
            assert not same, f"{k} should have trained in epoch 1"
        elif k.startswith(("stem.", "block.")):
            # weights, biases and BatchNorm running statistics: all untouched while frozen
            assert same, f"{k} changed although its group was still frozen"


def test_gradual_unfreeze_with_every_group_reached_trains_everything() -> None:
    X, y = stripe_images(12)
    before = _backbone_state()
    clf = TransferClassifier(backbone="tiny-cnn", cache=False,
                             strategy=GradualUnfreeze(epochs=4, val_fraction=0.0, lr=1e-2)).fit(X, y)
    after = _fitted_backbone(clf)
    assert not torch.equal(before["stem.0.weight"], after["stem.0.weight"])


def test_partial_freeze_and_gradual_reject_bad_settings_before_training() -> None:
    X, y = stripe_images(6)
    with pytest.raises(StrategyError, match="has 3 parameter groups; cannot freeze 7"):
        TransferClassifier(backbone="tiny-cnn", cache=False, strategy=PartialFreeze(n_frozen=7)).fit(X, y)
    with pytest.raises(StrategyError, match="unfreeze_every"):
        TransferClassifier(backbone="tiny-cnn", cache=False, strategy=GradualUnfreeze(unfreeze_every=0)).fit(X, y)
    for bad, match in (({"lr": -1.0}, "lr must be a positive number, got -1.0"),
                       ({"head_lr": float("nan")}, "head_lr must be a positive number"),
                       ({"lr": 0}, "lr must be a positive number, got 0"),
                       ({"weight_decay": -0.1}, "weight_decay must be a finite number >= 0, got -0.1")):
        with pytest.raises(StrategyError, match=match):
            TransferClassifier(backbone="tiny-cnn", cache=False, strategy=PartialFreeze(**bad)).fit(X, y)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_probe_head_weights_reproduce_the_logistic_regression(n_classes: int) -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = blobs(15, n_features=5, n_classes=n_classes, seed=1)
    X = X * np.arange(1, 6) + 3  # unequal scales and offsets: the folding must undo them
    y_enc = np.unique(y, return_inverse=True)[1]
    w, b = probe_head_weights(X, y_enc, n_classes, C=0.5, seed=0)
    scaler = StandardScaler().fit(X)
    scaler.scale_ = np.full(5, np.sqrt(scaler.var_.mean()))  # one global scale (see probe_head_weights)
    ref = make_pipeline(scaler, LogisticRegression(C=0.5, max_iter=2000, random_state=0))
    ref.steps[1][1].fit(scaler.transform(X), y_enc)
    logits = X @ w.T + b
    proba = np.exp(logits - logits.max(1, keepdims=True))
    proba /= proba.sum(1, keepdims=True)
    np.testing.assert_allclose(proba, ref.predict_proba(X), atol=1e-8)


def test_lpft_starts_from_the_probe() -> None:
    X, y = blobs(20, n_features=6)
    clf = TransferClassifier(backbone="tiny-mlp", cache=False,
                             strategy=LPFT(epochs=1, lr=1e-12, head_lr=1e-12, val_fraction=0.0)).fit(X, y)
    # with a learning rate of ~0 the fitted network is the warm start: the probe's accuracy on blobs
    assert clf.fit_info_["probe_train_accuracy"] == 1.0
    assert clf.score(X, y) == 1.0


def test_lora_trains_adapters_only_and_reloads_identically(tmp_path) -> None:  # type: ignore[no-untyped-def]
    X, y = stripe_images(12)
    before = _backbone_state()
    clf = TransferClassifier(backbone="tiny-cnn", cache=False,
                             strategy=LoRA(rank=2, epochs=3, val_fraction=0.0)).fit(X, y)
    info = clf.fit_info_["lora"]
    assert info["adapted_layers"] == 3 and 0 < info["adapter_parameters"] < info["backbone_parameters"]
    after = _fitted_backbone(clf)
    assert set(after) == set(before)  # merged: no adapter modules left in the inference network
    assert torch.equal(before["stem.1.running_mean"], after["stem.1.running_mean"])
    assert not torch.equal(before["stem.0.weight"], after["stem.0.weight"])  # B @ A merged in
    folder = clf.save(tmp_path / "m")
    assert (folder / "adapters.safetensors").exists() and not (folder / "model.safetensors").exists()
    again = load_model(folder)
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))


def test_lora_with_absent_target_modules_fails_before_training() -> None:
    X, y = polarity_texts(6)
    with pytest.raises(StrategyError, match=r"LoRA target modules \['q_proj'\] are not in backbone 'tiny-text'"):
        TransferClassifier(backbone="tiny-text", cache=False, strategy=LoRA(target_modules=["q_proj"])).fit(X, y)
    X, y = stripe_images(6)
    with pytest.raises(StrategyError, match=r"\['stme.0'\] are not in backbone 'tiny-cnn'; its linear/conv layers are: stem.0"):
        TransferClassifier(backbone="tiny-cnn", cache=False, strategy=LoRA(target_modules=["stem.0", "stme.0"])).fit(X, y)


def test_l2_sp_and_bss_penalties() -> None:
    w = torch.tensor([1.0, -2.0], requires_grad=True)
    pen = l2_sp_penalty([w], [torch.tensor([1.0, 0.0])], alpha=0.1)
    assert float(pen.detach()) == pytest.approx(0.5 * 0.1 * 4.0)
    pen.backward()
    assert torch.allclose(w.grad, torch.tensor([0.0, -0.2]))
    feats = torch.tensor([[3.0, 0.0], [0.0, 0.5], [0.0, 0.0]])
    assert float(bss_penalty(feats, 2.0, k=1)) == pytest.approx(2.0 * 0.25)
    assert float(bss_penalty(feats, 1.0, k=2)) == pytest.approx(9.0 + 0.25)


def test_l2_sp_keeps_weights_near_the_pretrained_ones() -> None:
    X, y = stripe_images(12)
    before = _backbone_state()

    def drift(l2_sp: float) -> float:
        clf = TransferClassifier(backbone="tiny-cnn", cache=False, strategy=FullFineTune(
            epochs=3, lr=3e-2, l2_sp=l2_sp, val_fraction=0.0, weight_decay=0.0)).fit(X, y)
        after = _fitted_backbone(clf)
        return sum(float(((after[k] - before[k]) ** 2).sum()) for k in before if k.endswith("weight"))

    assert drift(50.0) < 0.5 * drift(0.0)


def test_bss_gradient_shrinks_the_smallest_singular_value() -> None:
    torch.manual_seed(0)
    x = torch.randn(32, 8)
    layer = torch.nn.Linear(8, 6)
    opt = torch.optim.SGD(layer.parameters(), lr=0.005)
    start = torch.linalg.svdvals(layer(x).detach())
    for _ in range(40):
        opt.zero_grad()
        bss_penalty(layer(x), 1.0).backward()
        opt.step()
    end = torch.linalg.svdvals(layer(x).detach())
    assert float(end[-1]) < 0.1 * float(start[-1])  # the smallest direction is shrunk ...
    torch.testing.assert_close(end[:-1], start[:-1], atol=0.05, rtol=0.0)  # ... the others are left alone


def test_bss_and_l2_sp_run_through_the_loop() -> None:
    X, y = blobs(16, n_features=4)
    plain = TransferClassifier(backbone="tiny-mlp", cache=False, strategy=FullFineTune(epochs=2, lr=1e-2)).fit(X, y)
    reg = TransferClassifier(backbone="tiny-mlp", cache=False,
                             strategy=FullFineTune(epochs=2, lr=1e-2, bss=1.0, l2_sp=0.1)).fit(X, y)
    assert np.isfinite(reg.model_.history.epochs[-1]["train_loss"])
    assert not np.allclose(plain.predict_proba(X), reg.predict_proba(X))


def test_augment_transforms_parsing_and_bad_input() -> None:
    a = parse_augment("rotation=10,shift=0.05,flip=false,policy=trivialaugment,mixup=0.2")
    assert (a.rotation, a.shift, a.flip, a.policy, a.mixup) == (10.0, 0.05, False, "trivialaugment", 0.2)
    assert parse_augment("default").get_params() == Augment().get_params()
    with pytest.raises(StrategyError, match="unknown augmentation setting 'spin'"):
        parse_augment("spin=3")
    with pytest.raises(StrategyError, match="rotation must be a number"):
        parse_augment("rotation=lots")
    with pytest.raises(StrategyError, match="unknown augmentation policy 'autoaugment'"):
        parse_augment("policy=autoaugment")
    with pytest.raises(StrategyError, match="^augmentation setting 'rotation' is given twice"):
        parse_augment("rotation=10,rotation=20")  # the last silently won
    with pytest.raises(StrategyError, match="^an empty augmentation names no setting; give 'default'"):
        parse_augment("  ")  # silently meant the default
    for spec, example in [("flip=", "flip=true or flip=false"), ("policy=", "policy=trivialaugment or policy=none"),
                          ("rotation=10,mixup= ", "mixup=0.1")]:  # flip= and policy= were read as the defaults
        with pytest.raises(StrategyError, match=f"has an empty value; give one \\({example}\\)$"):
            parse_augment(spec)
    assert parse_augment("flip").flip is True and parse_augment("policy=none").policy is None
    X, _ = stripe_images(2)
    grid = Augment(rotation=30).samples([X[0]], n_variants=3)
    assert len(grid) == 4 and grid[0].shape == (28, 28, 3)
    assert any(not np.array_equal(grid[0], g) for g in grid[1:])


def test_augment_rejects_text_backbones() -> None:
    X, y = polarity_texts(6)
    with pytest.raises(StrategyError, match="augmentation applies to image backbones"):
        TransferClassifier(backbone="tiny-text", cache=False, strategy=FullFineTune(augment=Augment())).fit(X, y)


def test_mixup_trains_on_soft_labels(tmp_path) -> None:  # type: ignore[no-untyped-def]
    X, y = stripe_images(12)
    strategy = FullFineTune(epochs=2, augment=Augment(mixup=0.4, cutmix=1.0, flip=False), val_fraction=0.0)
    clf = TransferClassifier(backbone="tiny-cnn", cache=False, strategy=strategy).fit(X, y)
    assert np.isfinite(clf.model_.history.epochs[-1]["train_loss"])
    again = load_model(clf.save(tmp_path / "m"))  # the nested Augment survives the model folder
    assert again.strategy.augment.get_params() == strategy.augment.get_params()
    soft = torch.tensor([[0.7, 0.3], [0.0, 1.0]])
    logits = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    expected = -(soft * torch.log_softmax(logits, 1)).sum(1).mean()
    assert torch.allclose(weighted_cross_entropy()(logits, soft, None), expected)


def test_fine_tuning_hyperparameters_are_grid_searchable() -> None:
    X, y = blobs(12, n_features=4)
    search = GridSearchCV(
        TransferClassifier(backbone="tiny-mlp", cache=False, strategy=GradualUnfreeze(epochs=2, val_fraction=0.0)),
        {"strategy__unfreeze_every": [1, 2], "strategy__lr": [1e-2]}, cv=2, scoring="neg_log_loss",
    ).fit(X, y)
    every_1, every_2 = search.cv_results_["mean_test_score"]
    assert every_1 != every_2  # seeded fits: equal scores would mean both candidates trained the same net
    best = search.best_estimator_
    chosen = search.best_params_["strategy__unfreeze_every"]
    assert best.strategy_.unfreeze_every == chosen
    # tiny-mlp has two groups, "out" (top) and "inp". In 2 epochs unfreeze_every=1 trains "out" from epoch 1
    # and unfreeze_every=2 trains neither, so the refit differs from the other value's fit in "out" only.
    other = clone(best).set_params(strategy__unfreeze_every=3 - chosen).fit(X, y)
    groups = [{g.name: g.params for g in m.model_.net.backbone.parameter_groups()} for m in (best, other)]
    assert all(torch.equal(p, q) for p, q in zip(groups[0]["inp"], groups[1]["inp"], strict=True))
    assert not all(torch.equal(p, q) for p, q in zip(groups[0]["out"], groups[1]["out"], strict=True))


def test_lr_find_suggests_a_rate_from_the_sweep() -> None:
    from transferkit import lr_find
    from transferkit.training._lr_finder import suggest_lr

    lrs = np.logspace(-6, 0, 50)
    losses = 1.0 / (1.0 + np.exp(4 * (np.log10(lrs) + 3)))  # falls fastest at 1e-3
    losses[-5:] = 5.0  # divergence after the minimum is ignored
    suggested = suggest_lr(lrs, losses)
    assert suggested is not None and 3e-4 < suggested < 3e-3
    rising = np.linspace(0.7, 5.0, 20)  # the loss never falls: every rate is too large, nothing to suggest
    assert suggest_lr(np.logspace(3, 8, 20), rising) is None
    assert suggest_lr(np.logspace(3, 8, 20), np.r_[0.7, 1e8, [np.nan] * 18]) is None  # diverged at once
    X, y = stripe_images(8)
    with pytest.raises(StrategyError, match=r"lr_find needs a fine-tuning strategy .*; got 'linear' \(the default\)$"):
        lr_find(TransferClassifier(backbone="tiny-cnn", cache=False), X, y)
    with pytest.raises(StrategyError, match=r"lr_find sweeps one task's loss"):
        lr_find(MultiTaskClassifier(backbone="tiny-cnn", cache=False), X, y)  # its default, finetune, is no cause
    result = lr_find(TransferClassifier(backbone="tiny-cnn", cache=False, strategy=FullFineTune(batch_size=4)),
                     X, y, num_steps=10)
    assert len(result.lrs) == len(result.losses) <= 10 and result.lrs[0] == pytest.approx(1e-7)
    by_name = lr_find(TransferClassifier(backbone="tiny-cnn", cache=False, strategy="finetune"), X, y, num_steps=10)
    assert len(by_name.lrs) <= 10  # a registered name, as fit reads it (was refused as "got str")


def test_lr_find_sweeps_the_applied_rate_of_the_top_group(monkeypatch: pytest.MonkeyPatch) -> None:
    """With gradient accumulation the sweep counts optimisation steps (it counted mini-batches and stopped
    at 4e-5 of a sweep to 10); with layer decay and gradual unfreezing it records the rate the top
    backbone group really gets (it recorded the deepest group's, 2.6**2 below, while that group was frozen)."""
    from transferkit import lr_find
    from transferkit.training import Trainer

    applied: list[float] = []
    real_step = Trainer.train_step

    def spy(self, batch):  # type: ignore[no-untyped-def]
        rate = min((g["depth"], g["lr"]) for g in self.optimizer.param_groups if g["depth"] >= 0)[1]
        out = real_step(self, batch)
        if self.accelerator.sync_gradients:  # the top backbone group's rate in the step just taken
            applied.append(rate)
        return out

    monkeypatch.setattr(Trainer, "train_step", spy)
    X, y = stripe_images(16)
    for strategy in (FullFineTune(batch_size=2, grad_accum=4), GradualUnfreeze(batch_size=4)):
        applied.clear()
        result = lr_find(TransferClassifier(backbone="tiny-cnn", cache=False, strategy=strategy), X, y,
                         start_lr=1e-6, end_lr=10.0, num_steps=12, diverge=1e9)
        assert len(result.lrs) == 12 and result.lrs[-1] == pytest.approx(10.0)
        np.testing.assert_allclose(result.lrs, applied[:12], rtol=1e-6)


def test_lr_find_leaves_a_fitted_estimator_as_it_was() -> None:
    from transferkit import lr_find

    X, y = blobs()
    clf = TransferClassifier(backbone="tiny-mlp", cache=False, strategy=FullFineTune(epochs=1)).fit(X, y)
    before = clf.predict_proba(X)
    lr_find(clf, np.hstack([X, X[:, :2]]), y, num_steps=5)
    assert clf.n_features_in_ == X.shape[1]
    np.testing.assert_array_equal(clf.predict_proba(X), before)


def test_lpft_keeps_batchnorm_statistics_so_the_probe_fits_the_features() -> None:
    X, y = stripe_images(12)
    before = _backbone_state()
    clf = TransferClassifier(backbone="tiny-cnn", cache=False,
                             strategy=LPFT(epochs=2, lr=1e-2, val_fraction=0.0)).fit(X, y)
    after = _fitted_backbone(clf)
    assert torch.equal(before["stem.1.running_mean"], after["stem.1.running_mean"])  # statistics fixed
    assert not torch.equal(before["stem.0.weight"], after["stem.0.weight"])  # weights trained
    plain = TransferClassifier(backbone="tiny-cnn", cache=False,
                               strategy=FullFineTune(epochs=2, lr=1e-2, val_fraction=0.0)).fit(X, y)
    assert not torch.equal(before["stem.1.running_mean"], _fitted_backbone(plain)["stem.1.running_mean"])


def test_lora_on_torch_attention_layers_acts_in_training_and_validation() -> None:
    """On nn.TransformerEncoderLayer backbones (tiny-text), torch's fused inference path read the layers'
    weights directly: validation measured the network without its adapters (0.17 off in predict_proba),
    and adapters on nn.MultiheadAttention's out_proj never trained."""
    from types import SimpleNamespace

    from transferkit.strategies._lora import (
        default_lora_targets,
        inject_lora,
        merge_lora,
        without_attention_fastpath,
    )

    torch.manual_seed(0)
    encoder = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(16, 2, 32, batch_first=True), 2)
    targets = default_lora_targets(encoder)
    assert not any(t.endswith("out_proj") for t in targets)
    net = SimpleNamespace(backbone=encoder)
    inject_lora(net, rank=2, alpha=2.0, dropout=0.0, targets=targets, backbone_name="enc")  # type: ignore[arg-type]
    for name, p in encoder.named_parameters():
        if "lora_B" in name:
            torch.nn.init.normal_(p)
    x = torch.randn(3, 5, 16)
    encoder.eval()
    with torch.no_grad(), without_attention_fastpath():
        unmerged = encoder(x)
    merge_lora(net)  # type: ignore[arg-type]
    with torch.no_grad():
        merged = encoder(x)
    torch.testing.assert_close(unmerged, merged, atol=1e-5, rtol=1e-5)
    assert torch.backends.mha.get_fastpath_enabled(), "the fused path is back on afterwards"
    X, y = polarity_texts(6)
    with pytest.raises(StrategyError, match=r"cannot adapt .*self_attn.out_proj.* uses its output projection"):
        TransferClassifier(backbone="tiny-text", cache=False, strategy=LoRA(target_modules=["out_proj"])).fit(X, y)


@pytest.mark.parametrize("make, match", [
    (lambda v: FullFineTune(l2_sp=v), "l2_sp must be a finite number >= 0"),
    (lambda v: FullFineTune(bss=v), "bss must be a finite number >= 0"),
    (lambda v: FullFineTune(weight_decay=v), "weight_decay must be a finite number >= 0"),
    (lambda v: LoRA(alpha=v), "LoRA needs rank >= 1, alpha > 0"),
    (lambda v: LPFT(probe_C=v), "probe_C must be a finite number > 0"),
    (lambda v: FullFineTune(augment=Augment(mixup=v)), "mixup and cutmix must be finite numbers"),
    (lambda v: FullFineTune(augment=Augment(rotation=v)), "augment needs rotation >= 0"),
])
@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_non_finite_regularisers_are_refused_not_silently_ignored(make, match: str, value: float) -> None:  # type: ignore[no-untyped-def]
    X, y = stripe_images(6)
    with pytest.raises(StrategyError, match=match):
        TransferClassifier(backbone="tiny-cnn", cache=False, strategy=make(value)).fit(X, y)


@pytest.mark.parametrize("budget", ["nans", "nan", "infm", float("nan")])
def test_a_non_finite_time_budget_is_refused(budget: object) -> None:
    from transferkit.strategies._auto import parse_budget

    with pytest.raises(StrategyError, match="the time budget must be a positive, finite time"):
        parse_budget(budget)  # type: ignore[arg-type]
