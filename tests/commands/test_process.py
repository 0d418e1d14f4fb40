"""The ``ratingbt`` process settings (engine.commands._process): speed only, never results."""

from __future__ import annotations

import subprocess
import sys
import types

import pytest

from engine.commands._process import _SkipNumbaProbes
from engine.paths import REPO_ROOT


@pytest.mark.parametrize("module, done_name, blocked", [
    ("numba.np.arraymath", "_HAVE_BLAS", "scipy.linalg"),
    ("numba.core.typing.cffi_utils", "SUPPORTED", "cffi"),
])
def test_probe_finder_fails_the_probed_import_only_during_numba_probe(monkeypatch, module, done_name, blocked):
    finder = _SkipNumbaProbes()
    monkeypatch.delitem(sys.modules, blocked, raising=False)
    probing = types.ModuleType(module)  # mid-import: the probe's result is not set yet
    monkeypatch.setitem(sys.modules, module, probing)
    with pytest.raises(ImportError, match="probe"):
        finder.find_spec(blocked)
    assert finder.find_spec("scipy.stats") is None and finder.find_spec("pandas") is None
    setattr(probing, done_name, False)  # probe over: the package imports normally again
    assert finder.find_spec(blocked) is None
    monkeypatch.delitem(sys.modules, module)
    assert finder.find_spec(blocked) is None


def test_tuned_process_scores_the_same_and_numba_still_does_linear_algebra():
    """In a fresh process: after tune_process numba loads without scipy.linalg, cffi and huge-page advice, a kernel
    gives the same answer, np.dot inside numba still works (scipy is imported on demand) and cffi still imports."""
    code = ("import sys\n"
            "from engine.commands._process import tune_process\n"
            "tune_process()\n"
            "import numpy as np, numba\n"
            "from engine.kernels.forward_returns import last_bar_index_nb\n"
            "close = np.array([[1.0, np.nan], [2.0, np.nan], [np.nan, 3.0]])\n"
            "assert last_bar_index_nb(close).tolist() == [1, 2]\n"
            "from numpy._core.multiarray import _get_madvise_hugepage\n"
            "print('scipy.linalg' in sys.modules, 'pycparser' in sys.modules, _get_madvise_hugepage())\n"
            "dot = numba.njit(lambda a, b: np.dot(a, b))\n"
            "assert dot(np.ones(3), np.ones(3)) == 3.0\n"
            "import cffi\n"
            "cffi.FFI()\n"
            "print('scipy.linalg' in sys.modules, 'pycparser' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT, check=True,
                         env={"PYTHONPATH": str(REPO_ROOT), "PATH": "/usr/bin:/bin"})
    assert out.stdout.split() == ["False", "False", "False", "True", "True"], out.stdout + out.stderr
