"""The ``ratingbt`` process settings (engine.commands._process): speed only, never results."""

from __future__ import annotations

import subprocess
import sys
import types

import pytest

from engine.commands._process import _SkipNumbaBlasProbe
from engine.paths import REPO_ROOT


def test_blas_probe_finder_fails_scipy_only_during_numba_probe(monkeypatch):
    finder = _SkipNumbaBlasProbe()
    for name in ("scipy", "scipy.linalg", "scipy.linalg.cython_blas"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    probing = types.ModuleType("numba.np.arraymath")  # mid-import: no _HAVE_BLAS yet
    monkeypatch.setitem(sys.modules, "numba.np.arraymath", probing)
    with pytest.raises(ImportError, match="numba's BLAS probe"):
        finder.find_spec("scipy.linalg")
    assert finder.find_spec("scipy.stats") is None and finder.find_spec("pandas") is None
    probing._HAVE_BLAS = False  # probe over: scipy imports normally again
    assert finder.find_spec("scipy.linalg") is None
    monkeypatch.delitem(sys.modules, "numba.np.arraymath")
    assert finder.find_spec("scipy.linalg") is None


def test_tuned_process_scores_the_same_and_numba_still_does_linear_algebra():
    """In a fresh process: after tune_process numba loads without scipy.linalg and without huge-page advice, a
    kernel gives the same answer as numpy, and np.dot inside numba still works (scipy is imported on demand)."""
    code = ("import sys\n"
            "from engine.commands._process import tune_process\n"
            "tune_process()\n"
            "import numpy as np, numba\n"
            "from engine.kernels.forward_returns import last_bar_index_nb\n"
            "close = np.array([[1.0, np.nan], [2.0, np.nan], [np.nan, 3.0]])\n"
            "assert last_bar_index_nb(close).tolist() == [1, 2]\n"
            "from numpy._core.multiarray import _get_madvise_hugepage\n"
            "print('scipy.linalg' in sys.modules, _get_madvise_hugepage())\n"
            "dot = numba.njit(lambda a, b: np.dot(a, b))\n"
            "assert dot(np.ones(3), np.ones(3)) == 3.0\n"
            "print('scipy.linalg' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT, check=True,
                         env={"PYTHONPATH": str(REPO_ROOT), "PATH": "/usr/bin:/bin"})
    assert out.stdout.split() == ["False", "False", "True"], out.stdout + out.stderr

