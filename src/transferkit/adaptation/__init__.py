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

- deep adaptation as loss terms of the one training loop: :class:`DeepDA` (DANN, DAN-style multi-kernel
  MMD, Deep CORAL; maths in :func:`gradient_reversal`, :func:`mk_mmd`, :func:`coral_loss`);
- :class:`TrAdaBoostClassifier` when a few target labels exist;
- :class:`DomainAdaptClassifier`: every method (or ``method="auto"``) on images, texts or tables;
- choosing without target labels: :class:`DEVScorer`, :class:`ImportanceWeightedScorer`,
  :class:`PredictionEntropyScorer` with the splitter :class:`SourceHoldoutSplit` (for ``GridSearchCV``),
  and the negative-transfer guard (:func:`negative_transfer_guard`, :func:`unsupervised_guard`).

scikit-learn metadata routing is not used: a plain ``Pipeline`` passes ``sample_domain`` to an adapter
only as a fit parameter (``adapter__sample_domain=``) and fits its later steps on every row, so call the
adapter's ``fit(X, sample_domain=...)`` yourself or use :class:`DAPipeline`. The adapters have
``get_feature_names_out``, so ``set_output(transform="pandas")`` works. In a grid search,
:class:`SourceHoldoutSplit` takes ``sample_domain`` as ``groups``.
"""

from ._choose import MethodScores, choose_method, score_methods
from ._classifier import DomainAdaptClassifier
from ._deep import DEEP_METHODS, BottleneckBackbone, DeepDA, domain_loader
from ._deep_losses import coral_loss, dann_lambda, gradient_reversal, mk_mmd
from ._deep_terms import CORALTerm, DANNTerm, DomainDiscriminator, MMDTerm
from ._domain import DomainSplit, check_domains, check_source_target, split_domain_labels, split_domains
from ._estimators import (
    BaseReweighter,
    CORALAdapter,
    DiscriminatorReweighter,
    KLIEPReweighter,
    KMMReweighter,
    SubspaceAlignmentAdapter,
    TCAAdapter,
)
from ._guard import GuardVerdict, negative_transfer_guard, unsupervised_guard
from ._inputs import check_adaptation_data, stack_domains
from ._mapping import coral, subspace_alignment, tca
from ._methods import METHOD_DESCRIPTIONS, METHODS, SOURCE_ONLY, default_candidates, make_method
from ._pipeline import DAPipeline, ReweightedClassifier, make_da_pipeline
from ._reweight import discriminator_weights, kliep_weights, kmm_weights
from ._scorers import (
    SCORERS,
    DEVScorer,
    ImportanceWeightedScorer,
    PredictionEntropyScorer,
    PublishedDEVScorer,
    SourceHoldoutSplit,
    dev_risk,
    importance_weighted_accuracy,
    prediction_entropy,
)
from ._tradaboost import TrAdaBoostClassifier

__all__ = [
    "BaseReweighter",
    "BottleneckBackbone",
    "CORALAdapter",
    "CORALTerm",
    "DANNTerm",
    "DAPipeline",
    "DEEP_METHODS",
    "DEVScorer",
    "PublishedDEVScorer",
    "DeepDA",
    "DiscriminatorReweighter",
    "DomainAdaptClassifier",
    "DomainDiscriminator",
    "DomainSplit",
    "GuardVerdict",
    "ImportanceWeightedScorer",
    "KLIEPReweighter",
    "KMMReweighter",
    "METHODS",
    "METHOD_DESCRIPTIONS",
    "MethodScores",
    "MMDTerm",
    "PredictionEntropyScorer",
    "ReweightedClassifier",
    "SCORERS",
    "SOURCE_ONLY",
    "SourceHoldoutSplit",
    "SubspaceAlignmentAdapter",
    "TCAAdapter",
    "TrAdaBoostClassifier",
    "check_adaptation_data",
    "check_domains",
    "check_source_target",
    "choose_method",
    "coral",
    "coral_loss",
    "dann_lambda",
    "default_candidates",
    "dev_risk",
    "discriminator_weights",
    "domain_loader",
    "gradient_reversal",
    "importance_weighted_accuracy",
    "kliep_weights",
    "kmm_weights",
    "make_da_pipeline",
    "make_method",
    "mk_mmd",
    "negative_transfer_guard",
    "prediction_entropy",
    "score_methods",
    "split_domain_labels",
    "split_domains",
    "stack_domains",
    "subspace_alignment",
    "tca",
    "unsupervised_guard",
]
