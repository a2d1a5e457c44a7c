"""Shared test set-up: an isolated feature cache, offline hubs with empty caches, seeded randomness."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

import numpy as np
import pytest

# Hubs are unreachable on the test machines; offline mode makes that fail fast and deterministically.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# ... and the hubs' caches are empty folders of the run's own: a model that happens to be cached on the
# machine (a developer's resnet18 or BERT) would load offline and turn "fails with a clear message" into
# a pass or a failure that depends on the machine. Packaged weights come from their pip packages.
_HOME = tempfile.mkdtemp(prefix="transferkit-tests-home-")
atexit.register(shutil.rmtree, _HOME, ignore_errors=True)
for _name in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "TRANSFORMERS_CACHE", "SENTENCE_TRANSFORMERS_HOME"):
    os.environ.pop(_name, None)  # each would override HF_HOME
os.environ["HF_HOME"] = os.path.join(_HOME, "huggingface")
os.environ["TORCH_HOME"] = os.path.join(_HOME, "torch")


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test gets a private feature cache folder; the user's cache is never touched."""
    monkeypatch.setenv("TRANSFERKIT_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)
