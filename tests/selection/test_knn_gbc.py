"""kNN score and GBC: the definitions written literally, the properties they must have, bad parameters."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from sklearn.decomposition import PCA
from sklearn.neighbors import NearestNeighbors
from tests.helpers import blobs

from transferkit.errors import DataError
from transferkit.selection import _knn, gbc, knn_score


# --- kNN ---------------------------------------------------------------------------------------------
def _literal_knn(f: np.ndarray, y: np.ndarray, k: int, t: float) -> float:
    """One sample at a time: cosine similarity of the centred features to every other sample, the k
    largest vote with weight exp(s / t)."""
    z = f - f.mean(axis=0)
    z = z / np.linalg.norm(z, axis=1, keepdims=True)
    classes = list(np.unique(y))
    correct = 0
    for i in range(len(z)):
        others = [j for j in range(len(z)) if j != i]
        sims = np.array([z[i] @ z[j] for j in others])
        votes = dict.fromkeys(classes, 0.0)
        for pos in np.argsort(-sims)[:k]:
            votes[y[others[pos]]] += np.exp(sims[pos] / t)
        correct += max(votes, key=lambda c: votes[c]) == y[i]
    return correct / len(z)


def test_knn_matches_the_literal_definition() -> None:
    r = np.random.default_rng(0)
    y = r.choice(np.array(["a", "b", "c"]), 45)
    f = r.normal(size=(45, 6)) + (y == "a")[:, None] * 0.8 + 2.0  # an offset that centring removes
    for k, t in ((1, 0.07), (5, 0.07), (20, 0.5)):
        assert knn_score(f, y, n_neighbors=k, temperature=t) == pytest.approx(_literal_knn(f, y, k, t)), (k, t)


def test_knn_with_one_neighbour_agrees_with_scikit_learn_cosine_neighbours() -> None:
    r = np.random.default_rng(1)
    y = np.repeat([0, 1], 30)
    f = r.normal(size=(60, 4)) + y[:, None]
    centred = f - f.mean(axis=0)
    _, idx = NearestNeighbors(n_neighbors=2, metric="cosine").fit(centred).kneighbors(centred)
    assert knn_score(f, y, n_neighbors=1) == pytest.approx(np.mean(y[idx[:, 1]] == y))


def test_knn_is_invariant_to_translation_and_rotation_and_blocks_change_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    r = np.random.default_rng(2)
    y = np.repeat(["p", "q", "r"], 15)
    f = r.normal(size=(45, 5)) + np.repeat(np.eye(3, 5), 15, axis=0)
    base = knn_score(f, y)
    rotation, _ = np.linalg.qr(r.normal(size=(5, 5)))
    assert knn_score(f @ rotation + 50.0, y) == pytest.approx(base)
    monkeypatch.setattr(_knn, "_BLOCK_ROWS", 7)  # several blocks, the last one short
    assert knn_score(f, y) == pytest.approx(base)


def test_knn_is_perfect_on_blobs_and_near_chance_on_noise() -> None:
    r = np.random.default_rng(3)
    y = np.repeat(["a", "b", "c"], 20)
    x = r.normal(scale=0.3, size=(60, 4)) + 3 * np.repeat(np.eye(3, 4), 20, axis=0)  # means around the centre
    assert knn_score(x, y) == 1.0
    noise = np.random.default_rng(3).normal(size=(200, 8))
    assert abs(knn_score(noise, np.repeat(["a", "b"], 100)) - 0.5) < 0.12


def test_knn_lowers_the_neighbours_to_the_other_samples() -> None:
    x = np.array([[1.0, 0.0], [0.9, 0.1], [-1.0, 0.0], [-0.9, -0.1]])
    assert knn_score(x, [0, 0, 1, 1], n_neighbors=50) == knn_score(x, [0, 0, 1, 1], n_neighbors=3)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"n_neighbors": 0}, r"n_neighbors must be an integer >= 1, got 0"),
    ({"n_neighbors": 2.5}, r"n_neighbors must be an integer >= 1, got 2.5"),
    ({"temperature": 0.0}, r"temperature must be a positive number, got 0.0"),
    ({"temperature": float("nan")}, r"temperature must be a positive number, got nan"),
    ({"temperature": "0.1"}, r"temperature must be a positive number, got '0.1'"),
])
def test_knn_rejects_bad_parameters(kwargs: dict[str, object], message: str) -> None:
    x, y = blobs(n_per_class=5, n_features=3)
    with pytest.raises(DataError, match=message):
        knn_score(x, y, **kwargs)  # type: ignore[arg-type]


# --- GBC ---------------------------------------------------------------------------------------------
def _literal_gbc(f: np.ndarray, y: np.ndarray, n_components: int, spherical: bool) -> float:
    """Pándy et al. with scikit-learn's PCA: per class a mean and a (floored) variance per dimension,
    averaged to one for spherical Gaussians; minus the sum of exp(-D_B) over ordered pairs."""
    z = PCA(n_components=n_components, svd_solver="full").fit_transform(f)
    stats = {}
    for c in np.unique(y):
        var = np.maximum(z[y == c].var(axis=0), 1e-4)
        stats[c] = (z[y == c].mean(axis=0), np.full_like(var, var.mean()) if spherical else var)
    total = 0.0
    for a, b in itertools.permutations(stats, 2):
        (m1, s1), (m2, s2) = stats[a], stats[b]
        s = (s1 + s2) / 2
        d = np.sum((m1 - m2) ** 2 / s) / 8 + 0.5 * np.sum(np.log(s) - 0.5 * np.log(s1) - 0.5 * np.log(s2))
        total += np.exp(-d)
    return -total


@pytest.mark.parametrize("covariance", ["spherical", "diagonal"])
def test_gbc_matches_the_literal_definition(covariance: str) -> None:
    r = np.random.default_rng(4)
    y = r.integers(0, 4, 80)
    f = r.normal(size=(80, 12)) * np.linspace(0.5, 2.0, 12) + 0.7 * y[:, None]
    f = f / 2.0**np.round(np.log2(np.sqrt(np.mean(f**2))))  # at unit scale, where the variance floor applies
    expected = _literal_gbc(f, y, 5, covariance == "spherical")
    assert gbc(f, y, n_components=5, covariance=covariance) == pytest.approx(expected, rel=1e-9)  # type: ignore[arg-type]


def test_gbc_lies_between_total_overlap_and_zero() -> None:
    r = np.random.default_rng(5)
    same = r.normal(size=(20, 3))
    y = np.repeat(["a", "b", "c"], 20)
    assert gbc(np.tile(same, (3, 1)), y) == pytest.approx(-6.0)  # identical classes: K (K - 1) coefficients of 1
    means = 3.0 * np.repeat(np.eye(3), 20, axis=0)
    noise = r.normal(size=(60, 3))
    tight, loose, none = gbc(means + 0.2 * noise, y), gbc(means + noise, y), gbc(noise, y)
    assert -6.0 < none < loose < tight < 0.0


def test_gbc_is_invariant_to_translation_and_rotation() -> None:
    r = np.random.default_rng(6)
    y = np.repeat([0, 1, 2], 15)
    f = r.normal(size=(45, 6)) + np.repeat(np.eye(3, 6), 15, axis=0)
    rotation, _ = np.linalg.qr(r.normal(size=(6, 6)))
    assert gbc(f @ rotation - 30.0, y, n_components=4) == pytest.approx(gbc(f, y, n_components=4), rel=1e-8)


def test_gbc_keeps_no_more_components_than_the_features_span() -> None:
    r = np.random.default_rng(7)
    y = np.repeat([0, 1], 10)
    flat = np.c_[r.normal(size=(20, 2)) + y[:, None], np.zeros((20, 30))]  # rank 2 in 32 columns
    assert gbc(flat, y, n_components=64) == pytest.approx(gbc(flat[:, :2], y, n_components=2), rel=1e-9)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"n_components": 0}, r"n_components must be an integer >= 1, got 0"),
    ({"covariance": "full"}, r"covariance must be one of 'spherical', 'diagonal', got 'full'"),
])
def test_gbc_rejects_bad_parameters(kwargs: dict[str, object], message: str) -> None:
    x, y = blobs(n_per_class=5, n_features=3)
    with pytest.raises(DataError, match=message):
        gbc(x, y, **kwargs)  # type: ignore[arg-type]
