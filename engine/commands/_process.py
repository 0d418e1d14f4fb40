"""Settings of the ``ratingbt`` process itself, applied once by :func:`engine.cli.main` before any command runs.

Only the command line's own process is tuned; a Python session that imports :mod:`engine` is left as it is (the
README's speed notes say how to apply the same settings there). These settings change speed, never results:

- **numpy's huge-page advice off** (``NUMPY_MADVISE_HUGEPAGE=0`` unless already set). numpy asks the kernel for
  transparent huge pages on every array of 4 MB or more. With the common kernel setting
  ``/sys/kernel/mm/transparent_hugepage/defrag = madvise`` each such request may compact memory synchronously: on
  the reference VM a fresh 30 MB panel array took 80-100 ms instead of 17 ms, and ``ratingbt score`` of 100 k signals
  over the whole market 4.3 s instead of 3.7 s (median of five runs each, bench/RESULTS.md).
- **numba's BLAS and cffi probes skipped.** When numba loads its first function it imports its implementation
  modules, two of which probe for optional packages at import: ``numba.np.arraymath`` imports all of
  ``scipy.linalg`` (0.2-0.4 s) only to learn whether a BLAS exists for ``np.correlate`` / ``np.convolve``, and
  ``numba.core.typing.cffi_utils`` builds a ``cffi.FFI()`` (pycparser's lexer tables, 0.1 s) to support cffi
  functions inside jitted code. No ratingbt kernel uses either, so both probes are answered "not installed": numba
  uses its plain loop for those two functions and has no cffi support in this process. ``np.dot`` and
  ``np.linalg`` still import scipy when a function using them is compiled, and cffi imports normally for anyone
  else (only the import made *during* numba's probe is refused).
- **numba's cached kernels loaded without a full context refresh.** Before loading a function from its on-disk
  cache (``cache=True``), numba's ``Cache.load_overload`` refreshes the whole compilation context: it imports and
  installs every implementation registry (unicode, typed containers, random, jitclass ...), 0.3-0.5 s of Python work
  that only *compiling* needs. Loading machine code needs numba's runtime (NRT) only, so in this process the loader
  initialises the runtime and loads. A cache miss compiles as usual (numba's compiler refreshes the context itself).
  Applied when ``numba.core.caching`` is imported, and only if its ``load_overload`` is the one this was written
  against (it calls ``refresh`` then ``_load_overload``); any other numba version is left alone.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import os
import sys

__all__ = ["tune_process"]

#: numba module that probes at import → the name it sets once the probe is over → the imports it probes with.
_PROBES = {
    "numba.np.arraymath": ("_HAVE_BLAS", ("scipy", "scipy.linalg", "scipy.linalg.cython_blas")),
    "numba.core.typing.cffi_utils": ("SUPPORTED", ("cffi",)),
}


def _load_overload_without_refresh(self, sig, target_context):  # noqa: ANN001 - numba's Cache method
    """``numba.core.caching.Cache.load_overload`` minus the context refresh: initialise the runtime, then load."""
    from numba.core.runtime import rtsys

    rtsys.initialize(target_context)
    with self._guard_against_spurious_io_errors():
        return self._load_overload(sig, target_context)
    # None returned if the `with` block swallows an exception (as numba's own method)


def _patch_numba_caching(module) -> None:  # noqa: ANN001 - the freshly imported numba.core.caching
    """Install :func:`_load_overload_without_refresh` if ``module.Cache.load_overload`` is the expected one."""
    cache = getattr(module, "Cache", None)
    method = getattr(cache, "load_overload", None)
    names = getattr(getattr(method, "__code__", None), "co_names", ())
    if {"refresh", "_load_overload", "_guard_against_spurious_io_errors"} <= set(names):
        cache.load_overload = _load_overload_without_refresh


#: module → function applied to it right after its import (post-import hooks of :class:`_NumbaStartup`).
_AFTER_IMPORT = {"numba.core.caching": _patch_numba_caching}


class _PatchAfterImport(importlib.abc.Loader):
    """Loader wrapper: runs the real loader, then the module's hook of :data:`_AFTER_IMPORT`."""

    def __init__(self, loader: importlib.abc.Loader, hook) -> None:  # noqa: ANN001
        self._loader, self._hook = loader, hook

    def create_module(self, spec):  # noqa: ANN001, ANN201 - importlib's loader protocol
        return self._loader.create_module(spec)

    def exec_module(self, module) -> None:  # noqa: ANN001
        self._loader.exec_module(module)
        self._hook(module)


class _NumbaStartup:
    """Meta-path finder that fails the probed imports of :data:`_PROBES` only while the probing numba module runs
    (it is in ``sys.modules`` but has not set its name yet), and hooks the modules of :data:`_AFTER_IMPORT`; every
    other import, and the same packages at any other time, are untouched."""

    def find_spec(self, name: str, path=None, target=None):  # noqa: ANN001 - importlib's finder protocol
        if name in sys.modules:
            return None
        if name in _AFTER_IMPORT:
            spec = importlib.machinery.PathFinder.find_spec(name, path, target)
            if spec is not None and spec.loader is not None and hasattr(spec.loader, "exec_module"):
                spec.loader = _PatchAfterImport(spec.loader, _AFTER_IMPORT[name])
            return spec
        for module, (done_name, probed) in _PROBES.items():
            if name in probed:
                probing = sys.modules.get(module)
                if probing is not None and not hasattr(probing, done_name):
                    raise ImportError(f"{name} not imported for {module}'s probe (engine.commands._process)")
        return None


def tune_process() -> None:
    """Apply this module's settings to the current process (idempotent); call before numpy and numba load."""
    os.environ.setdefault("NUMPY_MADVISE_HUGEPAGE", "0")
    if "numpy" in sys.modules:  # already imported (e.g. tests calling main()): set it through numpy itself
        try:
            from numpy._core.multiarray import _set_madvise_hugepage
        except ImportError:  # pragma: no cover - a numpy without the switch: leave it
            pass
        else:
            _set_madvise_hugepage(os.environ["NUMPY_MADVISE_HUGEPAGE"] != "0")
    if not all(module in sys.modules for module in (*_PROBES, *_AFTER_IMPORT)) and \
            not any(isinstance(f, _NumbaStartup) for f in sys.meta_path):
        sys.meta_path.insert(0, _NumbaStartup())

