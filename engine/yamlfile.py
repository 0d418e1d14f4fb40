"""YAML of the project's own files (run configs, the scale registry, broker aliases): one safe loader for all.

libyaml's C loader (``yaml.CSafeLoader``, in PyYAML's wheels) is used when installed: 5-10× faster than PyYAML's pure
Python loader, which matters for the 60-odd registry files read by every scoring run. Same results (both are
PyYAML's safe schema). Errors are ``yaml.YAMLError``; callers name the file in their own message.
"""

from __future__ import annotations

from pathlib import Path

import yaml

__all__ = ["SAFE_LOADER", "parse_yaml", "read_yaml_cached"]

#: The safe loader used for every project YAML file.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_CACHE: dict[Path, tuple[tuple[int, int], object]] = {}


def parse_yaml(text: str) -> object:
    """``text`` parsed with :data:`SAFE_LOADER` (``yaml.safe_load`` semantics)."""
    return yaml.load(text, Loader=SAFE_LOADER)  # noqa: S506 - a safe loader


def read_yaml_cached(path: Path) -> object:
    """The file's YAML, parsed once per process while its modification time and size are unchanged. The object is
    shared between callers: read it, do not modify it."""
    stat = path.stat()
    stamp = (stat.st_mtime_ns, stat.st_size)
    hit = _CACHE.get(path)
    if hit is not None and hit[0] == stamp:
        return hit[1]
    data = parse_yaml(path.read_text(encoding="utf-8"))
    _CACHE[path] = (stamp, data)
    return data
