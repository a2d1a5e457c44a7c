from __future__ import annotations

from sklearn.utils.estimator_checks import parametrize_with_checks

from transferkit.feature_selection import CVFeatureSelector


@parametrize_with_checks([
    CVFeatureSelector(method="anova", cv=2),
    CVFeatureSelector(method="rfe", candidates=(1, 2), cv=2),
    CVFeatureSelector(method="chi2", cv=2),
])
def test_sklearn_contract(estimator, check) -> None:  # type: ignore[no-untyped-def]
    check(estimator)

