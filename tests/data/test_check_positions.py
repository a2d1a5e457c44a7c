"""The input checks of ``data._check`` (texts, table cells) name an item by its place in the data the user passed
(``item_positions``), as image errors do; a block ``of`` other data says which."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import BaseEstimator

from transferkit.data._check import check_input, check_table
from transferkit.data._images import data_position, item_name, item_positions, load_image
from transferkit.errors import DataError, ImageLoadError

TEXTS = ["fine", "good", "  "]  # item 2 is empty


def _nan_table() -> np.ndarray:
    X = np.ones((3, 2))
    X[2, 1] = np.nan
    return X


def test_outside_any_block_an_item_is_named_by_its_place_in_the_input() -> None:
    assert data_position(2) == (2, None) and item_name("row", 2) == "row 2"
    with pytest.raises(DataError, match=r"^text item 2 is empty"):
        check_input(TEXTS, "text")
    with pytest.raises(DataError, match=r"^X has NaN in row 2, column 1"):
        check_table(BaseEstimator(), _nan_table(), reset=True)


def test_in_a_block_texts_and_table_cells_are_named_by_their_place_in_the_data() -> None:
    with item_positions([10, 11, 12]):
        with pytest.raises(DataError, match=r"^text item 12 is empty"):
            check_input(TEXTS, "text")
        with pytest.raises(DataError, match=r"^text item 11 is int, not a string"):
            check_input(["fine", 3], "text")
        with pytest.raises(DataError, match=r"^X has NaN in row 12, column 1"):
            check_table(BaseEstimator(), _nan_table(), reset=True)
        with item_positions([2, 0]), pytest.raises(DataError, match=r"^text item 10 is empty"):  # nested
            check_input(["fine", ""], "text")


def test_an_item_whose_place_in_the_data_is_unknown_gets_no_number() -> None:
    with item_positions([10]):
        with pytest.raises(DataError, match=r"^a text item is empty"):
            check_input(TEXTS, "text")
        with pytest.raises(DataError, match=r"^X has NaN in a row, column 1"):
            check_table(BaseEstimator(), _nan_table(), reset=True)


def test_a_block_of_other_data_names_it_and_is_no_part_of_an_outer_block() -> None:
    with item_positions([10, 11, 12]), item_positions([0, 1, 2], of="the test set"):
        assert data_position(1) == (1, "the test set")  # not 11: the test set is no part of the outer data
        with pytest.raises(DataError, match=r"^text item 2 of the test set is empty"):
            check_input(TEXTS, "text")
        with pytest.raises(DataError, match=r"^X has NaN in row 2 of the test set, column 1"):
            check_table(BaseEstimator(), _nan_table(), reset=True)
        with pytest.raises(ImageLoadError, match=r"^Image array \(item 2 of the test set\) has shape"):
            load_image(np.zeros((4, 4, 5)), index=2)
        with item_positions([2]):  # a subset of the test set: mapped, and still of the test set
            assert item_name("item", 0) == "item 2 of the test set"
    assert data_position(1) == (1, None)  # the blocks are left
