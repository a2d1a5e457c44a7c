"""A member given as a (name, estimator) pair exposes its parameters as ``<name>__<param>``, as
scikit-learn's VotingClassifier does, so GridSearchCV searches them; names that scikit-learn's
``set_params`` could not tell apart are refused before any work."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from transferkit.ensembles import EnsembleError, TransferEnsemble


def _table(n: int = 40, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    r = np.random.default_rng(seed)
    X = np.concatenate([r.normal(0.0, 1.0, (n, 4)), r.normal(0.7, 1.0, (n, 4))])
    return X, np.repeat(["a", "b"], n)


def _ensemble(**kw: object) -> TransferEnsemble:
    members = [("lr", make_pipeline(StandardScaler(), LogisticRegression())), ("knn", KNeighborsClassifier()),
               "baseline"]
    return TransferEnsemble(members=members, method="voting", **kw)


def test_deep_params_name_each_pair_member_and_its_parameters() -> None:
    ens = _ensemble()
    deep, shallow = ens.get_params(deep=True), ens.get_params(deep=False)
    assert deep["lr"] is ens.members[0][1] and deep["knn"] is ens.members[1][1]
    assert deep["lr__logisticregression__C"] == 1.0 and deep["knn__n_neighbors"] == 5
    assert not any(k.startswith("baseline") for k in deep)  # a spec string is built at fit: nothing to expose
    assert "lr" not in shallow and set(shallow) == set(TransferEnsemble._get_param_names())


def test_grid_search_reaches_a_member_and_the_fit_uses_the_value() -> None:
    X, y = _table()
    ens = _ensemble()
    search = GridSearchCV(ens, {"knn__n_neighbors": [1, 15]}, cv=StratifiedKFold(3, shuffle=True, random_state=0),
                          refit=True).fit(X, y)
    assert [p["knn__n_neighbors"] for p in search.cv_results_["params"]] == [1, 15]
    best = search.best_estimator_
    fitted_knn = best.ensemble_.estimators_[1].estimator_
    assert fitted_knn.n_neighbors == search.best_params_["knn__n_neighbors"]
    assert ens.members[1][1].n_neighbors == 5  # the searched clones, not the estimator given, took the values
    # the two settings give different ensembles: the parameter reached the fit
    one = clone(ens).set_params(knn__n_neighbors=1).fit(X, y).predict_proba(X)
    many = clone(ens).set_params(knn__n_neighbors=15).fit(X, y).predict_proba(X)
    assert not np.allclose(one, many)


def test_set_params_replaces_a_pair_in_a_new_list_keeping_order() -> None:
    members = [("lr", LogisticRegression()), "baseline", ("knn", KNeighborsClassifier())]
    ens = TransferEnsemble(members=members, method="voting")
    new = KNeighborsClassifier(n_neighbors=3)
    assert ens.set_params(knn=new, cv=3) is ens
    assert ens.members[2] == ("knn", new) and ens.members[:2] == members[:2] and ens.cv == 3
    assert members[2][1] is not new  # the list given is left as it was
    ens.set_params(members=[("svm", LogisticRegression(C=2.0))], svm__C=5.0)  # members first, then its params
    assert ens.members[0][1].C == 5.0
    tupled = TransferEnsemble(members=(("lr", LogisticRegression()),)).set_params(lr=new)
    assert tupled.members == (("lr", new),)


def test_unknown_member_parameter_is_refused_by_scikit_learn() -> None:
    with pytest.raises(ValueError, match="bogus"):
        _ensemble().set_params(bogus__C=1.0)


@pytest.mark.parametrize("name, why", [("cv", "is also a parameter of the ensemble"), ("my__lr", "contains '__'")])
def test_a_name_set_params_could_not_reach_is_refused_before_fitting(name: str, why: str) -> None:
    X, y = _table()
    ens = TransferEnsemble(members=[(name, LogisticRegression()), "baseline"], method="voting")
    deep = ens.get_params(deep=True)  # does not fail: the name is left out, the parameter keeps its value
    assert deep["cv"] == 5 and not any(k.startswith(name + "__") for k in deep if k != name)
    with pytest.raises(EnsembleError, match=f"member name '{name}' {why}"):
        ens.fit(X, y)
    assert not hasattr(ens, "ensemble_")


def test_a_transfer_member_head_is_searchable_through_the_ensemble() -> None:
    from transferkit import LinearProbe, TransferClassifier

    X, y = _table()
    head = make_pipeline(StandardScaler(), LogisticRegression())
    probe = TransferClassifier(backbone="tiny-mlp", strategy=LinearProbe(head=head), cache=False)
    ens = TransferEnsemble(members=[("probe", probe), "baseline"], method="voting", cache=False)
    key = "probe__strategy__head__logisticregression__C"
    search = GridSearchCV(ens, {key: [1e-4, 1.0]}, cv=StratifiedKFold(3, shuffle=True, random_state=0)).fit(X, y)
    fitted = search.best_estimator_.ensemble_.estimators_[0].estimator_
    assert fitted.get_params()[key.removeprefix("probe__")] == search.best_params_[key]
    assert head.get_params()["logisticregression__C"] == 1.0
