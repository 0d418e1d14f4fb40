"""String columns of the scoring tables as numpy arrays, cheaply, whether they are categoricals or strings.

The scoring stage holds repetitive string columns as pandas categoricals (:data:`engine.score.CATEGORICAL_COLUMNS`);
these helpers turn a column into an object array or integer codes without one Python string per row where possible.
Missing values become ``""``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["as_strings", "factorize_strings"]


def factorize_strings(col: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """``(codes, uniques)``: int64 codes into an object array of distinct strings (``""`` for missing)."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        cats = np.asarray(col.cat.categories.astype(str), dtype=object)
        codes = col.cat.codes.to_numpy(dtype=np.int64)
        if (codes < 0).any():
            cats = np.append(cats, "").astype(object)
            codes = np.where(codes < 0, len(cats) - 1, codes)
        return codes, cats
    codes, uniques = pd.factorize(col.fillna("").astype(str), use_na_sentinel=False)
    return codes.astype(np.int64), np.asarray(uniques, dtype=object)


def as_strings(col: pd.Series) -> np.ndarray:
    """The column as an object array of Python strings (``""`` for missing)."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        codes, uniques = factorize_strings(col)
        return uniques[codes]
    return col.fillna("").astype(str).to_numpy(dtype=object)
