"""The data layer: every image, text and table enters transferkit through here.

:func:`load_data` reads image folders, table files (CSV, TSV, JSON Lines, JSON, Parquet), DataFrames,
arrays and lists into a :class:`Dataset`; :func:`load_image` turns any image into an RGB ``uint8``
array. Errors are :class:`~transferkit.errors.DataError` messages that name the offending item.
"""

from transferkit.data._dataset import Dataset, load_data
from transferkit.data._images import IMAGE_EXTENSIONS, is_image_path, load_image, load_images
from transferkit.data._tables import TABLE_EXTENSIONS, read_table
from transferkit.data._validation import check_labels, check_texts, infer_modality

__all__ = [
    "IMAGE_EXTENSIONS",
    "TABLE_EXTENSIONS",
    "Dataset",
    "check_labels",
    "check_texts",
    "infer_modality",
    "is_image_path",
    "load_data",
    "load_image",
    "load_images",
    "read_table",
]
