"""``TransferClassifier``: a scikit-learn classifier on top of a pretrained backbone."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.utils.validation import check_is_fitted

from ..backbones import backbone_modality
from ..backbones._providers import resolve_seed
from ..backbones._registry import check_backbone_options
from ..data._check import check_data
from ..errors import DataError, StrategyError
from ..features._extractor import check_batch_size, check_cache, check_switch, check_verbose, resolve_device
from ..strategies import STRATEGIES, FitContext, LinearProbe, Strategy, TransferModel, check_strategy_name


def check_one_label_type(values: Any) -> None:
    """Refuse labels that mix strings and other values (numpy would turn ``[1, "a"]`` into two strings)."""
    first = next((v for v in values if isinstance(v, str)), None)
    other = next((v for v in values if not isinstance(v, str) and v is not None and v == v), None)  # NaN != NaN
    if first is not None and other is not None:
        raise DataError(f"The labels mix strings and other values (e.g. {first!r} and {other!r}); make them all "
                        "strings or all numbers.")


def check_targets(y: Any, n_samples: int) -> np.ndarray:
    """1-D labels, as many as samples, none missing, at least two classes."""
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import column_or_1d

    if y is None:
        raise DataError("labels are required: this classifier requires y to be passed, but the target y is None")
    if isinstance(y, list | tuple) or (isinstance(y, np.ndarray) and y.dtype == object):
        # numpy would turn [1, "a"] into the strings "1" and "a", and ["a", nan] into "a" and "nan"
        nan_at = next((i for i, v in enumerate(y) if isinstance(v, float | np.floating) and v != v), None)
        if nan_at is not None:
            raise DataError(f"label {nan_at} is missing (NaN)")
        check_one_label_type(y)
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = column_or_1d(y, warn=True)
    if y.ndim != 1:
        raise DataError(f"labels must be one column, got an array of shape {y.shape}")
    if len(y) != n_samples:
        raise DataError(f"{n_samples} samples but {len(y)} labels: they must have the same length")
    if y.dtype == object and len(y) and not any(isinstance(v, str) for v in y):
        plain = np.asarray(y.tolist())  # numbers in an object array (a pandas object column): scikit-learn
        if plain.dtype.kind in "biuf":  # calls their type "unknown" and refuses them
            y = plain
    if y.dtype.kind == "f" and np.isnan(y).any():
        raise DataError(f"label {int(np.flatnonzero(np.isnan(y))[0])} is missing (NaN)")
    if y.dtype == object and any(v is None for v in y):
        raise DataError(f"label {next(i for i, v in enumerate(y) if v is None)} is missing (None)")
    if y.dtype.kind == "f" or (y.dtype == object and any(isinstance(v, float | np.floating) for v in y)):
        values = [v for v in dict.fromkeys(y.tolist()) if isinstance(v, float | np.floating) and not float(v).is_integer()]
        if values:  # sklearn would fail with "Unknown label type: continuous"
            shown = ", ".join(repr(float(v)) for v in values[:3]) + (", ..." if len(values) > 3 else "")
            raise DataError(f"labels such as {shown} are continuous (non-integer) numbers, not classes; transferkit "
                            "classifies, so round or bin them into classes, or use strings as labels")
    check_classification_targets(y)
    classes = np.unique(y)
    if len(classes) == 0:
        raise DataError("no labels: the data is empty")
    if len(classes) < 2:
        raise DataError(f"only one class ({classes.tolist()[0]!r}) in the labels; a classifier needs at least two")
    return y


def check_sample_weight(sample_weight: Any, n_samples: int) -> np.ndarray | None:
    """``sample_weight`` as floats, one per sample, finite, non-negative and not all zero (None stays None)."""
    if sample_weight is None:
        return None
    sample_weight = np.asarray(sample_weight, dtype=np.float64)
    if sample_weight.shape != (n_samples,):
        raise DataError(f"sample_weight has shape {sample_weight.shape}, expected ({n_samples},)")
    if (sample_weight < 0).any() or not np.isfinite(sample_weight).all():
        raise DataError("sample_weight must be finite and non-negative")
    if sample_weight.sum() <= 0:
        raise DataError("sample_weight sums to zero: no example would count")
    return sample_weight


class TransferClassifier(ClassifierMixin, BaseEstimator):
    """Classify images, texts or feature rows by transferring a pretrained backbone.

    Parameters
    ----------
    backbone : str, default="minilm-l6"
        Backbone name; see :func:`transferkit.backbones.list_backbones`.
    strategy : Strategy or str, optional
        How to transfer: :class:`~transferkit.strategies.LinearProbe` (default) or
        :class:`~transferkit.strategies.FullFineTune`. Its parameters are searchable as
        ``strategy__<param>``. A name of :data:`transferkit.strategies.STRATEGIES` (``"linear"``,
        ``"finetune"``, ... as the CLI takes them) means that strategy with its default parameters.
    pretrained : bool, default=True
        False uses random weights (a negative control).
    image_size : int, optional
        Square input size for image backbones, at least 16 (default: the backbone's own).
    weights : str, optional
        Local weight file for architectures named by provider prefix.
    max_length : int, optional
        Token limit for text backbones, at least 8 (default: the backbone's own). Fine-tuning cost grows
        with it.
    batch_size : int, default=64
        Inference batch size.
    cache : bool or path, default=True
        Feature cache for probe strategies (see :class:`~transferkit.FeatureExtractor`).
    device : str, default="auto"
        ``"auto"`` (CUDA when available, else CPU), ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"mps"``.
    verbose : int, default=0
        1 shows progress bars.
    random_state : int, RandomState or None, default=0
        Seeds head initialisation, data order, validation split and random weights. None draws a fresh
        seed at each fit (not reproducible); a ``numpy.random.RandomState`` draws it from that generator.
        The seed used is ``random_seed_``.

    Attributes
    ----------
    classes_ : ndarray
        Class labels, in the order of ``predict_proba``'s columns.
    model_ : TransferModel
        The fitted model (probe or network).
    strategy_ : Strategy
        The strategy fitted (a copy of ``strategy``, or the one its name stands for).
    random_seed_ : int
        The seed this fit used (``random_state`` itself when it is an int).
    fit_seconds_ : float

    Examples
    --------
    >>> import numpy as np
    >>> from transferkit import TransferClassifier
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.normal(size=(40, 4)), np.repeat(["a", "b"], 20)
    >>> X[y == "b"] += 2
    >>> clf = TransferClassifier(backbone="tiny-mlp", cache=False).fit(X, y)
    >>> clf.predict(X[:2]).tolist(), clf.score(X, y) > 0.9
    (['a', 'a'], True)
    """

    def __init__(
        self,
        *,
        backbone: str = "minilm-l6",
        strategy: Strategy | str | None = None,
        pretrained: bool = True,
        image_size: int | None = None,
        weights: str | None = None,
        max_length: int | None = None,
        batch_size: int = 64,
        cache: bool | str | Path = True,
        device: str = "auto",
        verbose: int = 0,
        random_state: Any = 0,
    ) -> None:
        self.backbone = backbone
        self.strategy = strategy
        self.pretrained = pretrained
        self.image_size = image_size
        self.weights = weights
        self.max_length = max_length
        self.batch_size = batch_size
        self.cache = cache
        self.device = device
        self.verbose = verbose
        self.random_state = random_state

    # --- helpers ---------------------------------------------------------------------------------
    @property
    def modality(self) -> str | None:
        """What the backbone reads ("image", "text", "table"); None for an unknown name."""
        try:
            return backbone_modality(self.backbone)
        except KeyError:
            return None

    def _validate_X(self, X: Any, *, reset: bool) -> Any:
        """``X`` checked for the backbone's modality: at fit (``reset``) the ``backbone`` parameter's, kept
        as ``modality_``; after it the fitted one's, whatever ``set_params(backbone=...)`` did since."""
        fitted = None if reset else getattr(self, "modality_", None)
        modality = str(fitted) if fitted is not None else backbone_modality(self.backbone)  # unknown names fail here
        X = check_data(self, X, modality, reset=reset)
        if reset:
            self.modality_ = modality
        return X

    def _strategy(self) -> Strategy:
        """A fresh copy of ``strategy``; a name stands for that strategy with its defaults (``self.strategy``
        itself is left as given, as scikit-learn's ``clone`` requires)."""
        strategy = self.strategy
        if strategy is None:
            return LinearProbe()
        if isinstance(strategy, str):
            return STRATEGIES[check_strategy_name(strategy)]()
        if not isinstance(strategy, Strategy):
            raise StrategyError(f"strategy must be a Strategy such as LinearProbe() or one of the names "
                                f"{', '.join(STRATEGIES)}; got {type(strategy).__name__} {strategy!r:.60}")
        return clone(strategy)

    def set_params(self, **params: Any) -> TransferClassifier:
        """scikit-learn's ``set_params``; a strategy given by name (``strategy="finetune"``, here or already)
        together with its parameters (``strategy__epochs=3``) becomes that strategy with its defaults first,
        so a grid can search names and their parameters at once (``{"strategy": ["finetune", "lora"],
        "strategy__epochs": [3, 10]}``; a string has no parameters to set)."""
        name = params.get("strategy", self.strategy)
        if isinstance(name, str) and any(key.startswith("strategy__") for key in params):
            params = {**params, "strategy": STRATEGIES[check_strategy_name(name)]()}
        return super().set_params(**params)

    def _context(self, n_classes: int) -> FitContext:
        # the seed of this fit (a model loaded from a folder: the one saved; older folders: random_state)
        seed = getattr(self, "random_seed_", None)
        return FitContext(
            backbone=self.backbone, pretrained=self.pretrained, image_size=self.image_size, weights=self.weights,
            max_length=self.max_length, in_features=getattr(self, "n_features_in_", None), batch_size=self.batch_size, cache=self.cache,
            device=self.device, verbose=self.verbose, random_state=resolve_seed(self.random_state) if seed is None else seed,
            n_classes=n_classes, classes=getattr(self, "classes_", None),
            feature_names=getattr(self, "feature_names_in_", None),
        )

    def _begin_fit(self, X: Any) -> tuple[Strategy, int, Any]:
        """The settings checked before any work (a batch size of 0 or -1 would run no batch at all), the
        strategy to fit, this fit's seed, and ``X`` validated."""
        check_batch_size(self.batch_size)
        check_backbone_options(self.backbone, image_size=self.image_size, max_length=self.max_length)
        resolve_device(self.device)
        check_cache(self.cache)
        check_switch(self.pretrained, "pretrained")
        check_verbose(self.verbose)
        strategy = self._strategy()
        seed = resolve_seed(self.random_state)
        return strategy, seed, self._validate_X(X, reset=True)

    # --- scikit-learn API ------------------------------------------------------------------------
    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> TransferClassifier:
        """Fit the strategy on ``X``, ``y``. Returns self."""
        strategy, seed, X = self._begin_fit(X)
        y = check_targets(y, len(X))
        self.classes_, y_enc = np.unique(y, return_inverse=True)
        sample_weight = check_sample_weight(sample_weight, len(y))
        start = time.perf_counter()
        self.strategy_ = strategy
        self.random_seed_ = seed
        ctx = self._context(len(self.classes_))
        self.model_: TransferModel = self.strategy_.fit_transfer(ctx, X, y_enc, sample_weight)
        self.fit_info_ = ctx.info
        self.fit_seconds_ = time.perf_counter() - start
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, columns in the order of ``classes_``."""
        check_is_fitted(self, "model_")
        return self.model_.predict_proba(self._validate_X(X, reset=False))

    def predict(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "model_")
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def transform_features(self, X: Any) -> np.ndarray:
        """Backbone features of ``X`` as the fitted model sees them (probe models): an array, or a DataFrame
        under ``sklearn.set_config(transform_output="pandas")``.

        Raises
        ------
        StrategyError
            The model was fine-tuned (or is the auto strategy's no-transfer baseline): its backbone was
            trained together with its head, so there are no frozen features to return.
        """
        check_is_fitted(self, "model_")
        if not hasattr(self.model_, "features"):
            used = getattr(self.model_, "name", None) or type(self.strategy_).cli_name or type(self.strategy_).__name__
            raise StrategyError(
                f"transform_features returns the frozen backbone features a linear probe reads, but this model "
                f"was fitted with strategy {used!r} ({self.model_.kind} model), which has none; only "
                "strategy 'linear' (LinearProbe, also 'auto' when it picks the probe) keeps the backbone frozen")
        return self.model_.features(self._validate_X(X, reset=False))

    # --- persistence -----------------------------------------------------------------------------
    def save(self, path: str | Path, *, overwrite: bool = False, extra_files: dict[str, bytes] | None = None) -> Path:
        """Save to a model folder (safetensors/skops weights, JSON config, label map); atomic."""
        from ._folder import save_model

        return save_model(self, Path(path), overwrite=overwrite, extra_files=extra_files)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        if self.modality == "text":
            tags.input_tags.two_d_array = False
            tags.input_tags.string = True
        elif self.modality == "image":
            tags.input_tags.two_d_array = False
            tags.input_tags.three_d_array = True
        tags.non_deterministic = False
        return tags
