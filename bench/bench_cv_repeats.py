"""Does repeating the cross-validation change what auto sees on a tiny training set?

For the text runs of bench_strategies at 16 per class (32 training texts), the 5-fold CV accuracy of the
linear probe (MiniLM, 128 tokens) and of the TF-IDF baseline on the training texts, repeated 1, 3 and 10
times with 3 shuffles each, next to both models' accuracy on the 500 test texts ("TRUE").

    .venv/bin/python bench/bench_cv_repeats.py > bench/results/cv_repeats_text16.log
"""

from __future__ import annotations

import sys
from pathlib import Path

from sklearn.model_selection import RepeatedStratifiedKFold, cross_val_score
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).parent))
from bench_strategies import _data  # noqa: E402
from transferkit.evaluation import make_baseline  # noqa: E402
from transferkit.features import FeatureExtractor  # noqa: E402
from transferkit.strategies import default_head  # noqa: E402


def main() -> None:
    threadpool_limits(1, user_api="blas")
    for seed in (0, 1):
        Xtr, ytr, Xte, yte = _data("text", 16, seed)
        fe = FeatureExtractor(backbone="minilm-l6", max_length=128)
        F, Ft = fe.fit(Xtr).transform(Xtr), fe.transform(Xte)
        texts, test_texts = [str(t) for t in Xtr], [str(t) for t in Xte]
        true_p = default_head().fit(F, ytr).score(Ft, yte)
        true_b = make_baseline("text").fit(texts, ytr).score(test_texts, yte)
        out = []
        for reps in (1, 3, 10):
            for shuffle in (0, 1, 2):
                cv = RepeatedStratifiedKFold(n_splits=5, n_repeats=reps, random_state=shuffle)
                p = cross_val_score(default_head(), F, ytr, cv=cv).mean()
                b = cross_val_score(make_baseline("text"), texts, ytr, cv=cv).mean()
                out.append(f"r{reps}/s{shuffle}: {p:.3f} vs {b:.3f}")
        print(f"text 16 {seed} TRUE probe {true_p:.3f} base {true_b:.3f} |", "; ".join(out), flush=True)


if __name__ == "__main__":
    main()
