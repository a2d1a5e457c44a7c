"""Distance between two datasets as one backbone sees them, and its report.

Both datasets go through the same backbone (features cached on disk, as for a ranking); the distances
of :data:`transferkit.selection.DISTANCES` then compare the two feature samples. A small distance says
a model transferred from one set should carry over to the other; a large one warns of a domain shift.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import DataError
from ._rank import BackboneChoice, check_backbone_modality, check_backbones, check_items, feature_extractor

if TYPE_CHECKING:
    from ..evaluation import Report

__all__ = ["DEFAULT_METRICS", "check_distance_request", "distance_report", "domain_distance", "format_distance",
           "per_class_samples", "unlabelled_sides"]

DEFAULT_METRICS = ("mmd_rbf", "proxy_a", "coral")

#: What a dataset of each modality holds, as a message says it ("holds a table", not "holds table").
_HOLDS = {"table": "a table", "text": "text", "image": "images"}

METRIC_DESCRIPTIONS = {
    "mmd_rbf": "Unbiased squared maximum mean discrepancy, Gaussian kernel with the median bandwidth "
               "(Gretton et al., JMLR 2012); about 0 for one distribution, up to 2.",
    "proxy_a": "Proxy A-distance 2(1 - 2 err) of a logistic regression told to separate the sets "
               "(Ben-David et al., NeurIPS 2007); 0: indistinguishable, 2: linearly separable.",
    "coral": "CORAL distance: squared Frobenius distance between the feature covariances / (4 d^2) "
             "(Sun and Saenko, ECCV 2016 workshops); 0 for equal covariances.",
}


def format_distance(value: float) -> str:
    """A distance as shown in a console or a report: 3 significant digits, so that a small value stays
    readable (a CORAL distance of small-norm embeddings, ``7.14e-10``, is not ``0.0000``) and two small
    values stay apart.

    >>> format_distance(7.1432e-10), format_distance(0.13734), format_distance(2.0), format_distance(0.0)
    ('7.14e-10', '0.137', '2', '0')
    """
    return f"{float(value):.3g}"


def check_metrics(metrics: Sequence[str]) -> tuple[str, ...]:
    """The requested distance names, checked: known (:data:`~transferkit.selection.DISTANCES`) and none
    twice. Raises :class:`DataError`."""
    from . import DISTANCES

    names = (metrics,) if isinstance(metrics, str) else tuple(metrics)
    if not names:
        raise DataError(f"no distance requested; choose from: {', '.join(DISTANCES)}")
    unknown = [m for m in names if m not in DISTANCES]
    if unknown:
        raise DataError(f"unknown distance {unknown[0]!r}; choose from: {', '.join(DISTANCES)}")
    if len(set(names)) != len(names):
        raise DataError(f"distance {next(m for m in names if names.count(m) > 1)!r} is requested twice")
    return names


def check_distance_request(backbone: str, metrics: Sequence[str]) -> tuple[BackboneChoice, tuple[str, ...]]:
    """The backbone and metric names of a distance, checked before any data is read."""
    names = check_metrics(metrics)
    return check_backbones([backbone])[0], names


def unlabelled_sides(A: Any, B: Any) -> list[str]:
    """Which of two datasets, ``"first"`` and/or ``"second"``, carry no labels (anything but a
    :class:`~transferkit.data.Dataset` with ``y``): those a per-class cap cannot apply to."""
    from ..data import Dataset

    return [side for side, data in (("first", A), ("second", B)) if not (isinstance(data, Dataset) and data.y is not None)]


def per_class_samples(A: Any, B: Any, per_class: int, *, random_state: int = 0) -> tuple[Any, Any]:
    """Both datasets capped at ``per_class`` examples of each class, drawn reproducibly (the draw that
    ``--per-class`` makes from folders and table files: :func:`transferkit.workflows.subsample`).

    Both need labels. A cap on one side only would compare a class-balanced sample with the other side's
    own class mix, and the distances would report that change of class proportions (made by the cap, not
    present in the data) as domain shift; so an unlabelled side is refused rather than left whole.

    Raises
    ------
    DataError
        ``per_class`` is not an integer ``>= 1``, or a dataset has no labels (the message names it).
    """
    from ..data import Dataset
    from ..workflows import subsample
    from ._checks import check_positive_int

    cap = check_positive_int(per_class, "per_class", minimum=1)
    missing = unlabelled_sides(A, B)
    if missing:
        data = A if missing[0] == "first" else B
        what = (f" ({data.source})" if getattr(data, "source", "") else "") if isinstance(data, Dataset) else \
            f" (a {type(data).__name__}, not a labelled Dataset)"
        raise DataError(f"per_class={cap} caps each class of both datasets, but the {missing[0]} dataset{what} has "
                        "no labels; capping one side only would count the changed class proportions as domain shift. "
                        "Leave per_class out (a distance needs no labels) or give both datasets labels")
    return subsample(A, cap, random_state), subsample(B, cap, random_state)


def domain_distance(
    A: Any,
    B: Any,
    *,
    backbone: str,
    metrics: Sequence[str] = DEFAULT_METRICS,
    image_size: int | None = None,
    max_length: int | None = None,
    cache: bool | str | Path = True,
    random_state: int = 0,
    per_class: int | None = None,
) -> dict[str, float]:
    """Distances between two datasets in the feature space of one backbone (lower: closer domains).

    Parameters
    ----------
    A, B : array-like or Dataset
        Samples of the two domains (images, texts or numeric tables), of the same modality; labels are
        not needed (except for ``per_class``). At least two samples each; tables of the same width.
    backbone : str
        Backbone name; ``random:<name>`` for its architecture with random weights.
    metrics : sequence of str, default=("mmd_rbf", "proxy_a", "coral")
        Names from :data:`transferkit.selection.DISTANCES`.
    image_size, max_length, cache, random_state :
        As in :func:`rank_backbones`; ``random_state`` also seeds MMD subsampling, the proxy
        A-distance folds and the ``per_class`` draw.
    per_class : int, optional
        Compare at most this many examples of each class from *each* dataset
        (:func:`per_class_samples`): both become class-capped samples (class-balanced where every class
        has that many), so a difference in class proportions counts less and the distances say more about
        how the classes themselves look. Both
        datasets must be labelled :class:`~transferkit.data.Dataset` objects: with one side unlabelled
        the cap would apply to the other side only, and the distances would report the class mix the
        cap changed as a domain shift, so that is an error, not a silent one-sided subsample. The
        classes are not paired: this is one distance between two capped samples, not one per class.

    Returns
    -------
    dict of str to float
        One value per metric, in the order asked.

    Raises
    ------
    DataError
        Unknown metric, an empty or single-sample set, sets of different modalities or table widths, a
        backbone that reads another modality, or ``per_class`` with a dataset that has no labels.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> a, b = rng.normal(size=(60, 3)), rng.normal(size=(60, 3))
    >>> near = domain_distance(a, b, backbone="identity", metrics=["mmd_rbf"], cache=False)
    >>> far = domain_distance(a, b + 3, backbone="identity", metrics=["mmd_rbf"], cache=False)
    >>> near["mmd_rbf"] < far["mmd_rbf"]
    True
    """
    from . import DISTANCES

    choice, names = check_distance_request(backbone, metrics)
    from ..data import Dataset

    if per_class is not None:  # before any feature work: an unlabelled side is refused here
        A, B = per_class_samples(A, B, per_class, random_state=random_state)

    if isinstance(A, Dataset) and isinstance(B, Dataset):  # named table columns: matched by name, not position
        from ..workflows import match_columns

        B = match_columns(A, B, "the second table")
    sets = []
    for label, data in (("first", A), ("second", B)):
        try:
            items, modality = check_items(data)
        except DataError as exc:
            raise DataError(f"the {label} dataset: {exc}") from exc
        if len(items) < 2:
            raise DataError(f"the {label} dataset has a single sample; a domain distance needs at least two")
        sets.append((items, modality))
    (xa, ma), (xb, mb) = sets
    if ma != mb:
        raise DataError(f"the first dataset holds {_HOLDS.get(ma, ma)} and the second {_HOLDS.get(mb, mb)}; "
                        "both must be of one modality")
    if ma == "table" and xa.shape[1] != xb.shape[1]:
        raise DataError(f"the first table has {xa.shape[1]} columns and the second {xb.shape[1]}")
    check_backbone_modality(choice, ma)
    extractor = feature_extractor(choice, image_size=image_size, max_length=max_length, cache=cache,
                                  random_state=random_state, verbose=0).fit(xa)
    fa, fb = extractor.transform(xa), extractor.transform(xb)
    out = {}
    for name in names:
        fn = DISTANCES[name]
        kwargs = {"random_state": random_state} if "random_state" in inspect.signature(fn).parameters else {}
        out[name] = float(fn(fa, fb, **kwargs))
    return out


def distance_report(distances: dict[str, float], *, backbone: str, title: str = "transferkit domain distance",
                    summary: dict[str, Any] | None = None, per_class: int | None = None) -> Report:
    """An HTML report of :func:`domain_distance`: the values with what they mean, and what was compared
    (``per_class``: the cap on each class of both datasets, when one was applied)."""
    from ..evaluation import Report

    report = Report(title)
    report.paragraph(f"Both datasets pass through {backbone}; lower distances mean closer domains.")
    if per_class is not None:
        report.paragraph(f"Both datasets were capped at {per_class} examples of each class before the comparison "
                         "(both are labelled): the distances compare these class-capped samples, not the datasets "
                         "as they are, and are not computed class by class.")
    report.table([{"distance": k, "value": format_distance(v), "meaning": METRIC_DESCRIPTIONS.get(k, "")}
                  for k, v in distances.items()])
    if summary:
        report.heading("Data")
        report.table([{"property": k, "value": v} for k, v in summary.items()])
    report.paragraph("Values depend on the backbone and on the sample sizes: compare them across pairs of "
                     "datasets measured the same way, not against fixed thresholds. They are shown to 3 significant "
                     "digits (distance.json holds them in full): the CORAL distance goes as the fourth power of the "
                     "features' size, so embeddings of small norm give tiny values that still tell pairs apart.")
    return report
