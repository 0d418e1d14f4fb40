"""The ``ratingbt`` process settings (engine.commands._process): speed only, never results."""

from __future__ import annotations

import subprocess
import sys
import types

import pytest

from engine.commands._process import _NumbaStartup, _load_overload_without_refresh, _patch_numba_caching
from engine.paths import REPO_ROOT


@pytest.mark.parametrize("module, done_name, blocked", [
    ("numba.np.arraymath", "_HAVE_BLAS", "scipy.linalg"),
    ("numba.core.typing.cffi_utils", "SUPPORTED", "cffi"),
])
def test_probe_finder_fails_the_probed_import_only_during_numba_probe(monkeypatch, module, done_name, blocked):
    finder = _NumbaStartup()
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


def test_cached_kernels_load_without_context_refresh_and_give_the_same_answers(tmp_path):
    """A tuned process loads cached kernels (serial and parallel) without importing numba's implementation
    registries, gets the same numbers as an untuned process, and still compiles new functions afterwards."""
    code = ("import sys, os\n"
            "if sys.argv[1] == 'tuned':\n"
            "    from engine.commands._process import tune_process\n"
            "    tune_process()\n"
            "import numpy as np\n"
            "from engine.kernels.forward_returns import last_bar_index_nb, forward_returns_nb\n"
            "rng = np.random.default_rng(7)\n"
            "close = np.cumprod(1 + rng.normal(0, 0.02, (60, 5)), axis=0)\n"
            "close[rng.random(close.shape) < 0.1] = np.nan\n"
            "a = last_bar_index_nb(close)\n"
            "n = 40\n"
            "cols, idx = np.arange(n, dtype=np.int64) % 4, rng.integers(0, 50, n).astype(np.int64)\n"
            "b = np.column_stack(forward_returns_nb(close, a, cols, np.full(n, 4, np.int64), idx, idx + 10,\n"
            "                                       np.full(n, 0.0), np.full(n, np.nan), 0))\n"
            "print('numba.np.random.generator_methods' in sys.modules)\n"
            "print(repr(a.tolist()), repr(np.nan_to_num(b, nan=-9.0).round(12).tolist()))\n"
            "import numba\n"
            "twice = numba.njit(lambda x: 2 * x.sum())\n"
            "print(twice(np.ones(4)))\n")
    env = {"PYTHONPATH": str(REPO_ROOT), "PATH": "/usr/bin:/bin", "NUMBA_CACHE_DIR": str(tmp_path)}
    runs = {}
    for mode in ("plain", "tuned", "tuned"):  # the first run fills the cache; the tuned ones load from it
        out = subprocess.run([sys.executable, "-c", code, mode], capture_output=True, text=True, cwd=REPO_ROOT,
                             env=env)
        assert out.returncode == 0, out.stderr
        runs[mode] = out.stdout.splitlines()
    assert runs["plain"][0] == "True"  # numba's own loader refreshed the context
    assert runs["tuned"][0] == "False"  # the tuned loader did not: implementation registries never imported
    assert runs["tuned"][1:] == runs["plain"][1:] and runs["tuned"][2] == "8.0"


def test_caching_patch_only_replaces_the_loader_it_was_written_against():
    class Expected:
        def load_overload(self, sig, target_context):
            target_context.refresh()
            with self._guard_against_spurious_io_errors():
                return self._load_overload(sig, target_context)

    class Other:
        def load_overload(self, sig, target_context):
            return self._load_overload(sig, target_context)

    expected, other = types.ModuleType("expected"), types.ModuleType("other")
    expected.Cache, other.Cache = Expected, Other
    _patch_numba_caching(expected)
    _patch_numba_caching(other)
    _patch_numba_caching(types.ModuleType("no_cache_class"))
    assert Expected.load_overload is _load_overload_without_refresh
    assert Other.load_overload is not _load_overload_without_refresh
