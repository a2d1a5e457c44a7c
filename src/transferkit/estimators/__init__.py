"""scikit-learn estimators over pretrained backbones, and their model folders."""

from ._classifier import TransferClassifier
from ._folder import check_writable, load_model, read_config, save_model
from ._lr_find import LRFindResult, lr_find
from ._multitask import MultiTaskClassifier

__all__ = ["LRFindResult", "MultiTaskClassifier", "TransferClassifier", "check_writable", "load_model", "lr_find", "read_config", "save_model"]
