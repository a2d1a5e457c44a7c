"""Feature extraction with an on-disk cache keyed by backbone, preprocessing and item content."""

from ._cache import FeatureCache, default_cache_dir
from ._extractor import FeatureExtractor, batched_inference, extract_features, resolve_device, shared_backbone

__all__ = ["FeatureCache", "FeatureExtractor", "batched_inference", "default_cache_dir", "extract_features", "resolve_device", "shared_backbone"]
