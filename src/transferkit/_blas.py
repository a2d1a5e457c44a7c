"""Thread limits for many small dense fits (heads on extracted features)."""

from __future__ import annotations

from typing import Any


def one_blas_thread() -> Any:
    """A context in which BLAS (every OpenBLAS/MKL copy loaded: numpy's, scipy's) runs on one thread.

    A head search fits hundreds of small models (a few hundred rows by at most a few thousand
    features). Their matrix products are too small to split across threads, and numpy and scipy each
    ship their own OpenBLAS, whose idle threads spin-wait for work while the other's run: on 2 cores the
    trials of a 20-trial logistic search on image features took 24-26 s with threaded BLAS and 3.1-3.4 s
    on one thread, and single fits run 1.0-2.6x faster (docs/BENCHMARKS.md, "Hyperparameter search").
    Torch's own threads are not touched.
    """
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")
