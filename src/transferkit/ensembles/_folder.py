"""A fitted :class:`TransferEnsemble` as a model folder, without pickle.

Layout: ``transferkit.json`` (``"estimator": "TransferEnsemble"``, the ensemble's parameters, its members
and the SHA-256 of every file below the folder), ``labels.json``, ``ensemble.skops`` (scikit-learn's fitted
voting or stacking object, the combiner included, with each member replaced by a placeholder) and
``members/<i>/``, one folder per member: a transferkit model folder for a :class:`TransferClassifier`,
``member.skops`` for a scikit-learn estimator such as the no-transfer baseline. Loading puts the members
back into scikit-learn's object, so predictions are scikit-learn's own code path, bit for bit.

The saved ``random_state`` is the seed the fit used (``random_seed_``), as in a TransferClassifier's
folder: an ensemble fitted with ``random_state=None`` or a ``RandomState`` loads with that int as its
``random_state`` and ``random_seed_``, and a refit of it repeats the saved fit.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.utils import Bunch
from sklearn.utils.validation import check_is_fitted

from ..errors import ModelFolderError
from ._members import EnsembleError, NamedMember
from ._modality import MODALITIES

_PLACEHOLDER = "transferkit-member:"
_PARAMS = ("method", "cv", "n_estimators", "modality", "image_size", "max_length")  # and the seed, as random_state


def _skops_bytes(obj: Any, what: str) -> bytes:
    """``obj`` as a skops file's bytes; refuses, before anything is written, an object that
    :func:`~transferkit.strategies._serialize.load_sklearn` would not load back."""
    import skops.io as sio

    from ..strategies._serialize import is_trusted_type

    try:
        data = sio.dumps(obj)
        untrusted = sio.get_untrusted_types(data=data)
    except Exception as exc:  # skops cannot represent it at all
        raise EnsembleError(f"{what} cannot be saved without pickle: {exc}") from exc
    refused = [t for t in untrusted if not is_trusted_type(t)]
    if refused:
        raise EnsembleError(f"{what} cannot be saved: it holds types a model folder may not load "
                            f"({', '.join(refused)})")
    return data


def _save_member(est: Any, name: str, folder: Path) -> dict[str, Any]:
    from ..estimators import TransferClassifier, save_model

    if isinstance(est, TransferClassifier):
        try:
            save_model(est, folder)
        except (TypeError, ValueError) as exc:
            raise EnsembleError(f"ensemble member {name!r} cannot be saved: {exc}") from exc
        return {"name": name, "kind": "transferkit", "folder": folder.name}
    data = _skops_bytes(est, f"ensemble member {name!r}")
    folder.mkdir()
    (folder / "member.skops").write_bytes(data)
    return {"name": name, "kind": "sklearn", "folder": folder.name}


def _members_param(ens: Any) -> Any:
    specs = [ens.members] if isinstance(ens.members, str) else list(ens.members)
    if all(isinstance(m, str) for m in specs):
        return [m.strip() for s in specs for m in s.split(",") if m.strip()]
    return None  # user (name, estimator) pairs: the fitted members stand in for them on load


def _saved_seed(ens: Any) -> int:
    """The seed of the fit: ``random_seed_`` (an ensemble fitted before it was kept: its int ``random_state``)."""
    seed = getattr(ens, "random_seed_", ens.random_state)
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):  # no seed of the fit is known
        raise EnsembleError(f"the ensemble cannot be saved: the seed of its fit is unknown (random_state="
                            f"{ens.random_state!r} and no random_seed_); fit it again")
    return int(seed)


def save_ensemble(ens: Any, path: Path, *, overwrite: bool = False) -> Path:
    """Write the fitted ensemble ``ens`` to the folder ``path``, atomically (nothing is left on error)."""
    from ..estimators._folder import _jsonable, atomic_folder, portable_settings, table_columns, write_config

    check_is_fitted(ens, "ensemble_")
    skeleton = copy.copy(ens.ensemble_)  # shallow: the members are swapped out, the original is untouched
    holders = [f"{_PLACEHOLDER}{i}" for i in range(len(ens.ensemble_.estimators_))]
    skeleton.estimators_ = list(holders)
    skeleton.estimators = [(key, h) for (key, _), h in zip(ens.ensemble_.estimators, holders, strict=True)]
    skeleton.named_estimators_ = Bunch(**{key: h for (key, _), h in zip(ens.ensemble_.estimators, holders, strict=True)})
    combiner = _skops_bytes(skeleton, "the ensemble's combiner")  # checked before anything is written
    seed = _saved_seed(ens)
    with atomic_folder(path, overwrite=overwrite) as tmp:
        (tmp / "members").mkdir()
        members = [_save_member(m.estimator_, m.name, tmp / "members" / str(i))
                   for i, m in enumerate(ens.ensemble_.estimators_)]
        (tmp / "ensemble.skops").write_bytes(combiner)
        write_config(tmp, ens, {
            "params": {**{k: _jsonable(getattr(ens, k)) for k in _PARAMS}, **portable_settings(ens),
                       "random_state": seed},
            **table_columns(ens),
            "member_specs": _members_param(ens),
            "custom_final_estimator": ens.final_estimator is not None,
            "fitted_modality": ens._modality(),
            "members": members,
        })
    return path


def _load_member(path: Path, entry: dict[str, Any]) -> Any:
    from ..estimators import load_model
    from ..strategies._serialize import load_sklearn

    folder = path / "members" / entry["folder"]
    if entry["kind"] == "transferkit":
        return load_model(folder)
    if entry["kind"] == "sklearn":
        return load_sklearn(folder / "member.skops")
    raise ModelFolderError(f"member {entry['name']!r} in {str(path)!r} has an unknown kind {entry['kind']!r}")


def load_ensemble(path: Path, config: dict[str, Any]) -> Any:
    """The :class:`TransferEnsemble` saved in ``path`` (``config``: its checked ``transferkit.json``)."""
    from ..estimators._folder import restore_seed, restore_table_columns
    from ..strategies._serialize import load_sklearn
    from ._ensemble import TransferEnsemble

    skeleton = load_sklearn(path / "ensemble.skops")
    fitted = []
    for entry in config["members"]:
        est = _load_member(path, entry)
        member = NamedMember(estimator=est, name=entry["name"])
        member.estimator_, member.classes_ = est, est.classes_
        fitted.append(member)
    if len(fitted) != len(skeleton.estimators_):
        raise ModelFolderError(f"{str(path)!r} lists {len(fitted)} members but its ensemble has "
                               f"{len(skeleton.estimators_)}")
    keys = [key for key, _ in skeleton.estimators]
    skeleton.estimators_ = fitted
    skeleton.estimators = list(zip(keys, fitted, strict=True))
    skeleton.named_estimators_ = Bunch(**dict(zip(keys, fitted, strict=True)))
    specs = config["member_specs"]
    members = specs if specs is not None else [(m.name, m.estimator_) for m in fitted]
    final = skeleton.final_estimator if config.get("custom_final_estimator") else None
    ens = TransferEnsemble(members=members, final_estimator=final, **config["params"])
    ens.ensemble_ = skeleton
    restore_seed(ens, config["params"])
    ens.classes_ = np.asarray(config["classes"], dtype=config["classes_dtype"])
    ens.modality_ = config["fitted_modality"] if "fitted_modality" in config else ens._modality()  # older folders
    if ens.modality_ not in (*MODALITIES, None):
        raise ModelFolderError(f"the model in {str(path)!r} cannot be loaded: its transferkit.json gives the unknown "
                               f"modality {ens.modality_!r}; its transferkit.json was edited or the folder is damaged")
    restore_table_columns(ens, config)
    return ens


__all__ = ["load_ensemble", "save_ensemble"]
