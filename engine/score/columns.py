"""String columns of the scoring tables as numpy arrays, cheaply, whether they are categoricals or strings.

The scoring stage holds repetitive string columns as pandas categoricals (:data:`engine.score.CATEGORICAL_COLUMNS`);
these helpers turn a column into an object array or integer codes without one Python string per row where possible.
Missing values become ``""``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["as_strings", "factorize_strings", "categorical_from_codes"]


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


def categorical_from_codes(codes: np.ndarray, labels: np.ndarray) -> pd.Categorical:
    """Categorical of ``labels[codes]`` (``codes`` int, -1 = missing) without building one Python string per row.

    Only the labels in use become categories, sorted as strings (so sorting the column sorts like strings); equal
    labels at several codes are merged.
    """
    codes = np.asarray(codes, dtype=np.int64)
    labels = np.asarray(labels, dtype=object)
    if len(labels) == 0:
        return pd.Categorical.from_codes(np.full(len(codes), -1, dtype=np.int64), categories=pd.Index([], dtype=str))
    used = np.bincount(codes + 1, minlength=len(labels) + 1)[1:] > 0  # codes + 1: -1 (missing) counts in bin 0
    names = np.array([str(x) for x in labels], dtype=object)
    categories = np.array(sorted(set(names[used])), dtype=object)
    small = np.int8 if len(categories) < 127 else np.int16 if len(categories) < 32_767 else np.int32
    remap = np.full(len(labels) + 1, -1, dtype=small)  # remap[0]: missing
    remap[1:][used] = np.searchsorted(categories, names[used])
    return pd.Categorical.from_codes(remap[codes + 1], categories=pd.Index(categories, dtype=str))
