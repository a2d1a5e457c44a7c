"""Per-epoch checkpoints that a killed run resumes from, bit for bit.

A strategy's ``checkpoint_dir`` holds one folder per run, ``run-`` and the first 16 hex digits of the run's
key (a sha256 of its settings, backbone, data, labels and weights: ``FullFineTune.run_key``), made by
:func:`run_checkpoint_folder`. Runs on other data or settings (cross-validation folds, grid-search
candidates, a refit on all the data) so never meet each other's checkpoints, and a resumed run finds its
own. The trainer sees only its run's folder.

A checkpoint is a folder ``epoch-NNNN`` holding ``state.pt`` (model, optimiser, scheduler and RNG state, the
fp16 loss scaler's state where there is one, and the callbacks' state, loaded back with ``torch.load(weights_only=True)``: tensors and plain data only, no
code), ``trainer.json`` (epoch, history, the run key) and ``checksums.json`` (sha256 of both). It is written
into a temporary folder and renamed, so a run killed mid-write leaves no half checkpoint under a final
name; the previous checkpoint is removed only after the new one is in place. On resume every checksum is
verified first: a corrupt or truncated checkpoint is reported, never loaded.

The data order needs no saved state: the loader's order depends only on (seed, epoch)
(:class:`~transferkit.training._data.EpochSampler`).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from .._atomic import sha256_file
from ..errors import TransferkitError

if TYPE_CHECKING:
    from ._loop import Trainer

_PREFIX = "epoch-"
_RUN_PREFIX = "run-"
#: Hex digits of the run key in a run folder's name (64 bits: collisions are not a concern, and the whole
#: key is still checked against the one a checkpoint records before it is loaded).
RUN_KEY_CHARS = 16
_FILES = ("state.pt", "trainer.json")


class CheckpointError(TransferkitError):
    """A checkpoint cannot be used: corrupt, from another run, or in the way of a fresh run."""


def complete_checkpoints(folder: Path) -> list[Path]:
    """Finished checkpoints in ``folder``, oldest first (temporary folders of killed writes are ignored)."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_dir() and p.name.startswith(_PREFIX))


def run_checkpoint_folder(checkpoint_dir: str | os.PathLike[str], run_key: str) -> Path:
    """The folder in ``checkpoint_dir`` for the checkpoints of the run whose key is ``run_key``."""
    if len(run_key) < RUN_KEY_CHARS:
        raise ValueError(f"a checkpointed run needs a run key of at least {RUN_KEY_CHARS} characters, got {run_key!r}")
    return Path(checkpoint_dir) / f"{_RUN_PREFIX}{run_key[:RUN_KEY_CHARS]}"


def _is_checkpoint(path: Path) -> bool:
    """A checkpoint, or the temporary folder of a write that was killed."""
    return path.is_dir() and not path.is_symlink() and path.name.startswith((_PREFIX, ".tmp-"))


def _is_run_folder(path: Path) -> bool:
    """A run's folder of checkpoints (see :func:`run_checkpoint_folder`)."""
    return path.is_dir() and not path.is_symlink() and path.name.startswith(_RUN_PREFIX)


def checkpoint_folder_problem(folder: Path) -> str | None:
    """Why no checkpoint can ever be written into ``folder`` (it is a file, or lies inside one), as the end
    of a sentence that starts with the folder's name; None when it can. Checked before any training: the
    first checkpoint is written after a whole epoch."""
    if folder.exists() and not folder.is_dir():
        return "is a file, not a folder for checkpoints; move it away or choose another checkpoint folder"
    for parent in folder.parents:  # the nearest one that exists must be a folder
        if parent.exists():
            if not parent.is_dir():
                return f"lies inside {str(parent)!r}, which is a file, not a folder; choose another checkpoint folder"
            break
    return None


def check_checkpoint_folder(folder: Path) -> None:
    """Refuse, before any training, a checkpoint folder that is a file or holds anything but checkpoints:
    :func:`remove_checkpoints` must never have a user's file to delete."""
    problem = checkpoint_folder_problem(folder)
    if problem:
        raise CheckpointError(f"{str(folder)!r} {problem}")
    others: list[str] = []
    for path in sorted(folder.iterdir()) if folder.is_dir() else []:
        if _is_run_folder(path):
            others += [f"{path.name}/{p.name}" for p in sorted(path.iterdir()) if not _is_checkpoint(p)]
        elif not _is_checkpoint(path):
            others.append(path.name)
    if others:
        shown = ", ".join(repr(n) for n in others[:3]) + (", ..." if len(others) > 3 else "")
        raise CheckpointError(f"the checkpoint folder {str(folder)!r} holds other files ({shown}), not only "
                              "checkpoints; move them away or choose another checkpoint folder")


def remove_checkpoints(folder: Path) -> None:
    """Remove the checkpoints in ``folder`` and in its runs' folders (and killed writes' temporaries), then
    each folder that this empties; anything else in them stays."""
    if not folder.is_dir():
        return
    for path in folder.iterdir():
        if _is_run_folder(path):
            remove_checkpoints(path)
        elif _is_checkpoint(path):
            shutil.rmtree(path, ignore_errors=True)
    with contextlib.suppress(OSError):  # not empty: what is left is not ours
        folder.rmdir()


def _rng_state() -> dict[str, Any]:
    state: dict[str, Any] = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(trainer: Trainer, folder: Path, epoch: int) -> Path:
    """Write the state after ``epoch`` (0-based) into ``folder/epoch-NNNN``; keep only the newest."""
    acc = trainer.accelerator
    if acc.is_main_process:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=folder))
        state = {
            "model": trainer.unwrapped_model.state_dict(),
            "optimizer": trainer.optimizer.state_dict(),
            "scheduler": trainer.scheduler.state_dict(),
            "rng": _rng_state(),
            "callbacks": [cb.state_dict() for cb in trainer.callbacks],
        }
        if getattr(acc, "scaler", None) is not None:  # fp16 on a GPU: the loss scale and its growth counter
            state["scaler"] = acc.scaler.state_dict()
        torch.save(state, tmp / "state.pt")
        meta = {
            "epoch": epoch,
            "run_key": trainer.config.run_key,
            "should_stop": trainer.should_stop,
            "history": trainer.history.to_dict(),
        }
        (tmp / "trainer.json").write_text(json.dumps(meta, indent=1))
        sums = {name: sha256_file(tmp / name) for name in _FILES}
        (tmp / "checksums.json").write_text(json.dumps(sums, indent=1))
        for name in (*_FILES, "checksums.json"):
            with open(tmp / name, "rb") as f:
                os.fsync(f.fileno())
        final = folder / f"{_PREFIX}{epoch + 1:04d}"
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
        for old in complete_checkpoints(folder):
            if old != final:
                shutil.rmtree(old, ignore_errors=True)
    acc.wait_for_everyone()
    return folder / f"{_PREFIX}{epoch + 1:04d}"


def verify_checkpoint(path: Path) -> dict[str, Any]:
    """Check every file against its recorded sha256; return the trainer metadata."""
    sums_file = path / "checksums.json"
    if not sums_file.is_file():
        raise CheckpointError(f"checkpoint {str(path)!r} is incomplete: checksums.json is missing")
    try:
        sums = json.loads(sums_file.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"checkpoint {str(path)!r} is corrupt: checksums.json is unreadable ({exc})") from exc
    if not isinstance(sums, dict):
        raise CheckpointError(f"checkpoint {str(path)!r} is corrupt: checksums.json holds no checksums")
    for name in _FILES:
        file = path / name
        if not file.is_file():
            raise CheckpointError(f"checkpoint {str(path)!r} is incomplete: {name} is missing")
        if sha256_file(file) != sums.get(name):
            raise CheckpointError(
                f"checkpoint {str(path)!r} is corrupt: {name} does not match its sha256 checksum; "
                "it was not loaded (remove the folder to start over)"
            )
    meta: dict[str, Any] = json.loads((path / "trainer.json").read_text())
    return meta


def load_checkpoint(trainer: Trainer, path: Path) -> dict[str, Any]:
    """Restore ``trainer`` (already prepared) from a verified checkpoint; returns its metadata."""
    meta = verify_checkpoint(path)
    if meta.get("run_key") != trainer.config.run_key:
        raise CheckpointError(
            f"checkpoint {str(path)!r} was written by a different run (other data, backbone or settings); "
            "remove it or use another checkpoint folder"
        )
    state = torch.load(path / "state.pt", map_location="cpu", weights_only=True)
    trainer.unwrapped_model.load_state_dict(state["model"])
    trainer.optimizer.load_state_dict(state["optimizer"])
    trainer.scheduler.load_state_dict(state["scheduler"])
    _set_rng_state(state["rng"])
    scaler = getattr(trainer.accelerator, "scaler", None)
    if (scaler is not None) != ("scaler" in state):
        raise CheckpointError(
            f"checkpoint {str(path)!r} was written with another mixed precision (fp16 loss scaling "
            f"{'missing' if scaler is not None else 'present'}); remove it or use another checkpoint folder"
        )
    if scaler is not None:
        scaler.load_state_dict(state["scaler"])
    if len(state["callbacks"]) != len(trainer.callbacks):
        raise CheckpointError(f"checkpoint {str(path)!r} has state for another set of callbacks")
    for cb, cb_state in zip(trainer.callbacks, state["callbacks"], strict=True):
        cb.load_state_dict(cb_state)
    return meta
