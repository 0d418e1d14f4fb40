"""Settings of the ``ratingbt`` process itself, applied once by :func:`engine.cli.main` before any command runs.

Only the command line's own process is tuned; a Python session that imports :mod:`engine` is left as it is (the
README's speed notes say how to apply the same settings there). Both settings change speed, never results:

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
"""

from __future__ import annotations

import os
import sys

__all__ = ["tune_process"]

#: numba module that probes at import → the name it sets once the probe is over → the imports it probes with.
_PROBES = {
    "numba.np.arraymath": ("_HAVE_BLAS", ("scipy", "scipy.linalg", "scipy.linalg.cython_blas")),
    "numba.core.typing.cffi_utils": ("SUPPORTED", ("cffi",)),
}


class _SkipNumbaProbes:
    """Meta-path finder that fails the probed imports of :data:`_PROBES` only while the probing numba module runs
    (it is in ``sys.modules`` but has not set its name yet); every other import, and the same packages at any other
    time, are untouched."""

    def find_spec(self, name: str, path=None, target=None):  # noqa: ANN001 - importlib's finder protocol
        if name in sys.modules:
            return None
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
    if not all(module in sys.modules for module in _PROBES) and \
            not any(isinstance(f, _SkipNumbaProbes) for f in sys.meta_path):
        sys.meta_path.insert(0, _SkipNumbaProbes())

