"""Domain adaptation on feature arrays: importance reweighting and feature mappings.

Everything follows one data convention, ``X, y, sample_domain``: ``sample_domain`` is positive on
source rows and negative on target rows, and target labels are unknown (masked with -1/NaN, never used
for training). Pure functions work on ``(source, target)`` arrays; the scikit-learn adapters wrap them:

- reweighting (weights for source rows, handed on as ``sample_weight``): :func:`kmm_weights`
  / :class:`KMMReweighter`, :func:`kliep_weights` / :class:`KLIEPReweighter`,
  :func:`discriminator_weights` / :class:`DiscriminatorReweighter`;
- mapping (new features): :func:`coral` / :class:`CORALAdapter`, :func:`subspace_alignment`
  / :class:`SubspaceAlignmentAdapter`, :func:`tca` / :class:`TCAAdapter`;
- chaining an adapter with any estimator: :class:`DAPipeline` (:func:`make_da_pipeline`) and
  :class:`ReweightedClassifier`.

scikit-learn metadata routing is not used: inside a plain ``Pipeline`` nothing passes ``sample_domain``
to an adapter, so call the adapter's ``fit(X, sample_domain=...)`` yourself or use :class:`DAPipeline`.
"""

from ._domain import DomainSplit, check_domains, check_source_target, split_domains
from ._estimators import (
    BaseReweighter,
    CORALAdapter,
    DiscriminatorReweighter,
    KLIEPReweighter,
    KMMReweighter,
    SubspaceAlignmentAdapter,
    TCAAdapter,
)
from ._mapping import coral, subspace_alignment, tca
from ._pipeline import DAPipeline, ReweightedClassifier, make_da_pipeline
from ._reweight import discriminator_weights, kliep_weights, kmm_weights

__all__ = [
    "BaseReweighter",
    "CORALAdapter",
    "DAPipeline",
    "DiscriminatorReweighter",
    "DomainSplit",
    "KLIEPReweighter",
    "KMMReweighter",
    "ReweightedClassifier",
    "SubspaceAlignmentAdapter",
    "TCAAdapter",
    "check_domains",
    "check_source_target",
    "coral",
    "discriminator_weights",
    "kliep_weights",
    "kmm_weights",
    "make_da_pipeline",
    "split_domains",
    "subspace_alignment",
    "tca",
]
