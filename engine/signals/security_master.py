"""Security master: stock names ↔ canonical codes, so that reports naming stocks without codes can be resolved.

Sources, in order of precedence (later ones only add names the earlier ones lack):

1. names files the user passes (``--names FILE``), CSV with columns ``code,name`` (optional ``source``);
2. the project's ``configs/security_names.csv`` (names from the seed reports, each with its provenance);
3. when ``online=True``: akshare's A-share list ``stock_info_a_code_name()`` (columns ``code``, ``name``) and HK list
   ``stock_hk_spot_em()`` (columns ``代码``, ``名称``), cached as CSV under ``<cache>/security_master/`` so later runs
   work offline.

Names are matched after normalisation: spaces, full-width characters and the ``*ST``/``ST`` prefixes are ignored
(``*ST慧辰`` and ``慧辰`` both find ``688500.SH`` when no other ``慧辰`` exists).
"""

from __future__ import annotations

import csv
import logging
import unicodedata
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from engine.paths import REPO_ROOT, cache_dir
from engine.symbols import SymbolError, normalize_symbol

__all__ = ["SecurityMaster", "normalize_name", "default_names_file", "load_security_master"]

log = logging.getLogger(__name__)


def default_names_file() -> Path:
    return REPO_ROOT / "configs" / "security_names.csv"


def normalize_name(name: str) -> str:
    """Canonical matching key of a stock name: NFKC, no spaces/markup, no ``*ST``/``ST`` prefix, upper-case Latin."""
    text = unicodedata.normalize("NFKC", str(name)).strip()
    text = text.replace("*", "").replace("【", "").replace("】", "").replace(" ", "")
    text = text.upper()
    if text.startswith("ST") and len(text) > 3:
        text = text[2:]
    return text


class SecurityMaster:
    """Name → code lookup (and code → first-seen name). Build with :func:`load_security_master`."""

    def __init__(self) -> None:
        self._by_name: dict[str, str] = {}
        self._names: dict[str, str] = {}
        self._ambiguous: set[str] = set()

    def __len__(self) -> int:
        return len(self._by_name)

    def add(self, code: str, name: str) -> None:
        """Register ``name`` for ``code``; a name already mapped to another code becomes ambiguous (not resolved)."""
        key = normalize_name(name)
        if not key:
            return
        existing = self._by_name.get(key)
        if existing is not None and existing != code:
            self._ambiguous.add(key)
            return
        self._by_name[key] = code
        self._names.setdefault(code, str(name).strip())

    def add_frame(self, frame: pd.DataFrame, code_col: str, name_col: str, *, overwrite: bool = False) -> int:
        """Add rows of ``frame``; rows whose code cannot be normalised are skipped. Returns the number added."""
        added = 0
        for code, name in zip(frame[code_col].astype(str), frame[name_col].astype(str)):
            try:
                canonical = normalize_symbol(code)
            except SymbolError:
                continue
            key = normalize_name(name)
            if not overwrite and key in self._by_name:
                continue
            self.add(canonical, name)
            added += 1
        return added

    def add_csv(self, path: str | Path) -> None:
        """Add a names file (``code,name[,source]``); raises ``ValueError`` naming the file, line and field."""
        path = Path(path)
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            missing = {"code", "name"} - set(reader.fieldnames or [])
            if missing:
                raise ValueError(f"{path}: names file needs columns code,name (missing: {', '.join(sorted(missing))})")
            for line_no, row in enumerate(reader, start=2):
                code, name = (row.get("code") or "").strip(), (row.get("name") or "").strip()
                if not code or not name:
                    raise ValueError(f"{path}:{line_no}: empty code or name")
                try:
                    canonical = normalize_symbol(code)
                except SymbolError as exc:
                    raise ValueError(f"{path}:{line_no}: field code: {exc}") from exc
                self.add(canonical, name)

    def lookup(self, name: str) -> str | None:
        """Canonical code for ``name`` or ``None`` (unknown or ambiguous)."""
        key = normalize_name(name)
        if key in self._ambiguous:
            return None
        return self._by_name.get(key)

    def name_of(self, code: str) -> str | None:
        return self._names.get(code)

    def names(self) -> list[str]:
        """Every known display name (for scanning text for names)."""
        return list(self._names.values())


def _cached_frame(name: str, fetch: Callable[[], pd.DataFrame], refresh: bool) -> pd.DataFrame | None:
    path = cache_dir() / "security_master" / f"{name}.csv"
    if path.exists() and not refresh:
        return pd.read_csv(path, dtype=str)
    try:
        frame = fetch()
    except Exception as exc:  # network errors of any kind: fall back to the files
        log.warning("security master: %s unavailable (%s); using names files only", name, exc)
        return pd.read_csv(path, dtype=str) if path.exists() else None
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return frame


def load_security_master(
    names_files: list[str | Path] | None = None,
    *,
    online: bool = False,
    refresh: bool = False,
    fetch_a: Callable[[], pd.DataFrame] | None = None,
    fetch_hk: Callable[[], pd.DataFrame] | None = None,
) -> SecurityMaster:
    """Build the master from user names files, the project names file and (``online``) akshare's lists.

    ``fetch_a`` / ``fetch_hk`` replace the akshare calls (tests pass fakes); results are cached under the cache dir.
    """
    master = SecurityMaster()
    for path in names_files or []:
        master.add_csv(path)
    if default_names_file().exists():
        master.add_csv(default_names_file())
    if online or fetch_a is not None or fetch_hk is not None:
        if fetch_a is None:
            def fetch_a() -> pd.DataFrame:
                import akshare as ak
                return ak.stock_info_a_code_name()
        if fetch_hk is None:
            def fetch_hk() -> pd.DataFrame:
                import akshare as ak
                return ak.stock_hk_spot_em()
        a_frame = _cached_frame("a_code_name", fetch_a, refresh)
        if a_frame is not None and {"code", "name"} <= set(a_frame.columns):
            master.add_frame(a_frame, "code", "name")
        hk_frame = _cached_frame("hk_code_name", fetch_hk, refresh)
        if hk_frame is not None and {"代码", "名称"} <= set(hk_frame.columns):
            frame = hk_frame.copy()
            frame["代码"] = frame["代码"].astype(str).str.zfill(5) + ".HK"
            master.add_frame(frame, "代码", "名称")
    return master
