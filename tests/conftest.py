"""Shared test set-up: an isolated feature cache, offline hubs, seeded randomness."""

from __future__ import annotations

import os

import numpy as np
import pytest

# Hubs are unreachable on the test machines; offline mode makes that fail fast and deterministically.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test gets a private feature cache folder; the user's cache is never touched."""
    monkeypatch.setenv("TRANSFERKIT_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)
