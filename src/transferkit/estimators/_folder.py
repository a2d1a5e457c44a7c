"""A saved model is a folder: ``transferkit.json`` (config, label map, checksums), ``labels.json``,
weight files (safetensors for networks, skops for scikit-learn heads), and optionally ``report.html``.
No pickle anywhere. Saving writes a temporary sibling folder and renames it, so a crash or an error
never leaves a half-written model, and an existing model is replaced only once the new one is complete.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import shutil
import uuid
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import clone

from .. import __version__
from .._atomic import sha256_file
from .._outputs import check_replaceable_folder
from ..backbones import backbone_modality
from ..errors import ModelFolderError, TransferkitError, error_cause
from ..strategies import STRATEGIES, Augment, Strategy
from ..strategies._serialize import load_sklearn, save_sklearn

FORMAT = "transferkit-model"
FORMAT_VERSION = 1
_PARAMS = ("backbone", "pretrained", "image_size", "weights", "max_length", "batch_size", "device")  # + the seed


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, Augment):
        return {"class": "Augment", "params": {k: _jsonable(v) for k, v in value.get_params(deep=False).items()}}
    raise TypeError(f"cannot store {type(value).__name__} in JSON")


#: The unfitted ``head`` parameter of a strategy that was given one (the fitted head is a file of its own).
HEAD_PARAM_FILE = "strategy_head.skops"


def _strategy_config(strategy: Strategy) -> dict[str, Any]:
    """The strategy's parameters as JSON. Not in it: ``head`` (an estimator: :data:`HEAD_PARAM_FILE` holds
    it, ``"head_file"`` says so) and a ``teacher`` estimator (a distilled student predicts alone; a teacher
    given as a member spec or folder path is a string and is kept, so a refit of the loaded student works)."""
    params = {k: _jsonable(v) for k, v in strategy.get_params(deep=False).items() if k not in ("head", "teacher")}
    teacher = getattr(strategy, "teacher", None)
    if isinstance(teacher, str | os.PathLike):
        params["teacher"] = os.fsdecode(teacher)
    config: dict[str, Any] = {"class": type(strategy).__name__, "params": params}
    if getattr(strategy, "head", None) is not None:
        config["head_file"] = HEAD_PARAM_FILE
    return config


def portable_settings(est: Any) -> dict[str, Any]:
    """Settings saved so that a loaded model's ``get_params`` (and a refit of its clone) match the fitted one:
    ``verbose``, and ``cache`` when it is on or off (a cache folder is this machine's path: a loaded model
    gets the default cache folder, ``cache=True``)."""
    settings: dict[str, Any] = {}
    if hasattr(est, "verbose"):
        settings["verbose"] = _jsonable(est.verbose)
    if isinstance(est.cache, bool | np.bool_):
        settings["cache"] = bool(est.cache)
    return settings


def check_writable(path: Path, *, overwrite: bool) -> None:
    """Fail early (before any training) when ``path`` cannot receive a model folder: it exists (without
    ``overwrite``), or holds anything but an earlier model (see :func:`~transferkit._outputs.check_replaceable_folder`)."""
    check_replaceable_folder(path, overwrite=overwrite, marker="transferkit.json", what="transferkit model folder",
                             error=ModelFolderError)


@contextmanager
def atomic_folder(path: Path, *, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary sibling of ``path`` to write into; on success it replaces ``path`` (an existing
    folder only once the new one is complete), on any error it is removed and ``path`` is untouched."""
    check_writable(path, overwrite=overwrite)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.tmp-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        yield tmp
        old = None
        if path.exists():
            old = path.parent / f".{path.name}.old-{uuid.uuid4().hex[:8]}"
            os.replace(path, old)
        os.replace(tmp, path)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_config(folder: Path, est: Any, config: dict[str, Any]) -> None:
    """Write ``labels.json`` and ``transferkit.json`` (format header, classes and the SHA-256 of every
    file below ``folder``, sub-folders included) for the fitted classifier ``est``.

    A multi-task classifier (``tasks_``) keeps each task's classes: ``labels.json`` maps each task's name to
    its label map, ``transferkit.json`` lists the tasks (name, classes, their dtype) and holds no ``classes``."""
    tasks = getattr(est, "tasks_", None)
    if tasks is not None:
        task_list = [{"name": str(name), "classes": [_jsonable(c) for c in cls.tolist()], "classes_dtype": str(cls.dtype)}
                     for name, cls in zip(tasks, est.classes_, strict=True)]
        labels = {"tasks": {t["name"]: {str(i): c for i, c in enumerate(t["classes"])} for t in task_list}}
        class_config: dict[str, Any] = {"tasks": task_list, "task_weights": est.task_weights_}
    else:
        classes = [_jsonable(c) for c in est.classes_.tolist()]
        labels = {str(i): c for i, c in enumerate(classes)}
        class_config = {"classes": classes, "classes_dtype": str(est.classes_.dtype)}
    (folder / "labels.json").write_text(json.dumps(labels, indent=2, ensure_ascii=False))
    mask = os.umask(0)
    os.umask(mask)
    paths = sorted(p for p in folder.rglob("*") if p.is_file())
    for p in paths:  # safetensors writes 0600: give the weights the mode of every other file
        p.chmod(0o666 & ~mask)
    files = {p.relative_to(folder).as_posix(): sha256_file(p) for p in paths}
    header = {"format": FORMAT, "format_version": FORMAT_VERSION, "transferkit_version": __version__,
              "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"), "estimator": type(est).__name__}
    full = {**header, **config, **class_config, "files": files}
    (folder / "transferkit.json").write_text(json.dumps(full, indent=2, ensure_ascii=False))


def save_model(est: Any, path: Path, *, overwrite: bool = False, extra_files: dict[str, bytes] | None = None) -> Path:
    """Write ``est`` (a fitted TransferClassifier) to the folder ``path``, atomically."""
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(est, "model_")
    with atomic_folder(path, overwrite=overwrite) as tmp:
        model_cfg = est.model_.save(tmp)
        for name, data in (extra_files or {}).items():
            (tmp / name).write_bytes(data)
        head = getattr(est.strategy_, "head", None)
        if head is not None:
            save_sklearn(clone(head), tmp / HEAD_PARAM_FILE)
        write_config(tmp, est, {
            "params": {**{k: _jsonable(getattr(est, k)) for k in _PARAMS}, **portable_settings(est),
                       # the seed a fit drew for None/RandomState
                       "random_state": _jsonable(getattr(est, "random_seed_", est.random_state))},  # (a RandomState
            # itself is no JSON): the same random weights on load, and random_state reads back as that int
            **table_columns(est),
            "strategy": _strategy_config(est.strategy_),
            "model": {"kind": est.model_.kind, **model_cfg},
            "backbone_fingerprint": _backbone_fingerprint(est),
        })
    return path


def restore_seed(est: Any, params: dict[str, Any]) -> None:
    """Set ``random_seed_`` on a loaded ``est`` from the ``random_state`` its folder saved (the seed of the
    saved fit); folders written before the seed was kept may hold None, and then set none."""
    seed = params.get("random_state")
    if isinstance(seed, int) and not isinstance(seed, bool):
        est.random_seed_ = seed


def table_columns(est: Any) -> dict[str, Any]:
    """The width and column names of the table ``est`` was fitted on, for ``transferkit.json`` (None
    for images and texts, or when it was fitted without names)."""
    names = getattr(est, "feature_names_in_", None)
    return {"n_features_in": getattr(est, "n_features_in_", None),
            "feature_names_in": None if names is None else [str(n) for n in names]}


def restore_table_columns(est: Any, config: dict[str, Any]) -> None:
    """Set what :func:`table_columns` saved back on ``est`` (folders written before names were kept have
    none; ensemble folders before widths were kept, neither)."""
    if config.get("n_features_in") is not None:
        est.n_features_in_ = config["n_features_in"]
    if config.get("feature_names_in") is not None:
        est.feature_names_in_ = np.asarray(config["feature_names_in"], dtype=object)


def _backbone_fingerprint(est: Any) -> str | None:
    model = est.model_
    if model.kind == "probe":
        return model.extractor.backbone_.fingerprint()
    return None


def read_config(path: Path) -> dict[str, Any]:
    cfg_path = path / "transferkit.json"
    if path.is_file():
        raise ModelFolderError(f"{str(path)!r} is a file, not a model folder; pass the folder that `transferkit fit "
                               "--out` wrote")
    if not path.is_dir():
        raise ModelFolderError(f"model folder {str(path)!r} does not exist")
    if not cfg_path.exists():
        raise ModelFolderError(f"{str(path)!r} is not a transferkit model folder (no transferkit.json)")
    try:
        config = json.loads(cfg_path.read_text())
    except json.JSONDecodeError as exc:
        raise ModelFolderError(f"{str(cfg_path)!r} is not valid JSON ({exc.msg}, line {exc.lineno})") from exc
    if not isinstance(config, dict):
        raise ModelFolderError(f"{str(cfg_path)!r} holds a JSON {type(config).__name__}, not a model description; "
                               "it was edited or damaged")
    if config.get("format") != FORMAT or config.get("format_version") != FORMAT_VERSION:
        raise ModelFolderError(f"{str(path)!r} has format {config.get('format')!r} version "
                               f"{config.get('format_version')!r}, this transferkit reads {FORMAT!r} version "
                               f"{FORMAT_VERSION!r}")
    files = config.get("files")
    if not isinstance(files, dict) or not files:
        raise ModelFolderError(f"{str(cfg_path)!r} lists no model files to check; it was edited or damaged")
    for name, digest in files.items():
        f = path / name
        if not f.exists():
            raise ModelFolderError(f"model file {str(f)!r} is missing")
        if sha256_file(f) != digest:
            raise ModelFolderError(f"model file {str(f)!r} is corrupt or was modified (checksum mismatch)")
    _check_class_list(path, config)
    return config


def _check_class_list(path: Path, config: dict[str, Any]) -> None:
    """Refuse a ``classes`` list in transferkit.json that differs from labels.json, which the checksums vouch
    for: a reordered or renamed list would load and predict wrong labels without a word."""
    if "labels.json" not in config["files"] or not isinstance(config.get("classes"), list):
        return
    try:
        labels = json.loads((path / "labels.json").read_text(encoding="utf-8"))
        vouched = [labels[str(i)] for i in range(len(labels))]
    except (json.JSONDecodeError, KeyError, TypeError, UnicodeDecodeError):
        return  # a labels.json of another layout: its checksum held, so nothing to compare with
    if config["classes"] != vouched:
        listed = np.asarray(config["classes"], dtype=object)
        raise ModelFolderError(
            f"the model in {str(path)!r} cannot be loaded: its transferkit.json lists the classes "
            f"({_shown_classes(listed)}) but its labels.json, which the checksums vouch for, lists "
            f"({_shown_classes(np.asarray(vouched, dtype=object))}); its transferkit.json was edited or the "
            "folder is damaged")


def strategy_from_config(config: dict[str, Any], *, where: str = "the model folder") -> Strategy:
    """Rebuild a strategy from what :func:`_strategy_config` stored."""
    strategy_cls = {c.__name__: c for c in STRATEGIES.values()}.get(config["class"])
    if strategy_cls is None:
        raise ModelFolderError(f"unknown strategy {config['class']!r} in {where!r}")
    params = dict(config["params"])
    if isinstance(params.get("augment"), dict):  # nested parameter object
        params["augment"] = Augment(**params["augment"]["params"])
    return strategy_cls(**params)


def load_model(path: str | Path) -> Any:
    """Load a model folder written by :meth:`TransferClassifier.save` or :meth:`TransferEnsemble.save
    <transferkit.ensembles.TransferEnsemble.save>`.

    Checks the format version and every weight file's checksum; for probe models also that the
    backbone weights are the ones the head was trained on.
    """
    path = Path(path)
    config = read_config(path)
    try:
        return _load_checked(path, config)
    except TransferkitError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, EOFError, zipfile.BadZipFile, RuntimeError) as exc:
        # RuntimeError: torch's load_state_dict when the weights do not match the description (e.g. classes)
        detail = f"no {exc.args[0]!r} entry" if isinstance(exc, KeyError) and exc.args else error_cause(exc)
        if isinstance(exc, RuntimeError):
            lines = [line.strip() for line in str(exc).splitlines() if "mismatch" in line or "Missing" in line]
            detail = "its weights do not fit its description" + (f" ({lines[0].rstrip('.')})" if lines else "")
        raise ModelFolderError(f"the model in {str(path)!r} cannot be loaded: {detail}; its transferkit.json "
                               "was edited or the folder is damaged") from exc


def _task_classes(path: Path, config: dict[str, Any]) -> tuple[np.ndarray, list[np.ndarray]]:
    """A multi-task folder's task names and each task's classes, as its labels.json (which the checksums
    vouch for) and transferkit.json both list them; refused when they differ."""
    tasks = config["tasks"]
    names = np.asarray([str(t["name"]) for t in tasks], dtype=object)
    classes = [np.asarray(t["classes"], dtype=t["classes_dtype"]) for t in tasks]
    vouched = json.loads((path / "labels.json").read_text(encoding="utf-8"))["tasks"]
    listed = {str(t["name"]): {str(i): c for i, c in enumerate(t["classes"])} for t in tasks}
    if vouched != listed or len(set(names)) != len(names):
        raise ModelFolderError(f"the model in {str(path)!r} cannot be loaded: the tasks and classes its "
                               "transferkit.json lists differ from its labels.json, which the checksums vouch for; "
                               "its transferkit.json was edited or the folder is damaged")
    return names, classes


def _output_width(model: Any) -> int | None:
    """How many classes the fitted model predicts (the width of ``predict_proba``), or None if unknown."""
    task_heads = getattr(model, "task_heads", None)
    if task_heads:
        return sum(len(h.classes_) for h in task_heads)
    for attr in ("head", "pipeline"):  # probe head / auto strategy's baseline (AutoModel passes them on)
        fitted = getattr(model, attr, None)
        classes = getattr(fitted, "classes_", None) if fitted is not None else None
        if classes is not None:
            return len(classes)
    layer = getattr(getattr(model, "net", None), "head", None)
    out_features = getattr(layer, "out_features", None)
    return int(out_features) if isinstance(out_features, int) else None


def _shown_classes(classes: np.ndarray, limit: int = 5) -> str:
    shown = ", ".join(repr(c.item() if isinstance(c, np.generic) else c) for c in classes[:limit])
    return shown + (f" and {len(classes) - limit} more" if len(classes) > limit else "")


def _load_checked(path: Path, config: dict[str, Any]) -> Any:
    """:func:`load_model` once ``config`` (the folder's transferkit.json) passed :func:`read_config`."""
    from ._classifier import TransferClassifier
    from ._multitask import MultiTaskClassifier

    if config.get("estimator") == "TransferEnsemble":
        from ..ensembles._folder import load_ensemble

        return load_ensemble(path, config)
    strategy = strategy_from_config(config["strategy"], where=str(path))
    if "head_file" in config["strategy"]:
        strategy.set_params(head=load_sklearn(path / config["strategy"]["head_file"]))
    est: TransferClassifier
    if config.get("estimator") == "MultiTaskClassifier":
        est = MultiTaskClassifier(strategy=strategy, task_weights=config["task_weights"], **config["params"])
        est.tasks_, est.classes_ = _task_classes(path, config)  # type: ignore[assignment]
        est.task_weights_ = None if config["task_weights"] is None else tuple(config["task_weights"])
        class_lists = list(est.classes_)
    else:
        est = TransferClassifier(strategy=strategy, **config["params"])
        est.classes_ = np.asarray(config["classes"], dtype=config["classes_dtype"])
        class_lists = [est.classes_]
    restore_table_columns(est, config)
    est.modality_ = backbone_modality(est.backbone)
    est.strategy_ = strategy
    restore_seed(est, config["params"])
    n_classes = sum(len(c) for c in class_lists)
    ctx = est._context(n_classes)
    est.model_ = strategy.load_model(path, config["model"], ctx)
    width = _output_width(est.model_)
    if (width is not None and width != n_classes) or any(len(np.unique(c)) != len(c) for c in class_lists):
        found = f"a head with {width} outputs" if width is not None and width != n_classes else "repeated classes"
        shown = "; ".join(_shown_classes(c) for c in class_lists)
        raise ModelFolderError(
            f"the model in {str(path)!r} cannot be loaded: its transferkit.json lists {n_classes} classes "
            f"({shown}) but the model has {found}; its transferkit.json was edited or the folder is damaged"
        )
    expected = config.get("backbone_fingerprint")
    if expected is not None and _backbone_fingerprint(est) != expected:
        raise ModelFolderError(
            f"the backbone {config['params']['backbone']!r} installed here has different weights from the one "
            f"the model in {str(path)!r} was trained with; install the same weights"
        )
    est.fit_info_ = {}
    return est
