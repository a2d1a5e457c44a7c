"""scikit-learn estimators over pretrained backbones, and their model folders."""

from ._classifier import TransferClassifier
from ._folder import check_writable, load_model, read_config, save_model

__all__ = ["TransferClassifier", "check_writable", "load_model", "read_config", "save_model"]
