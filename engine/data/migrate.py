"""Migrate a cache of the old layout (``bars/<code>.parquet`` + ``manifest.json``) into the store, once.

What is carried over: bars fetched from providers (rows whose ``source`` does not start with ``local:``) as origin
``net``, with the covered ranges of codes that held no local rows, and the remembered failures. Rows that came
from local files are *not* carried over: the old cache did not record which file each row came from, and serving
them to a config that names other files is the bug the store fixes; they are re-read from the files a config or
``data import`` names. Unreadable old files are skipped and counted. The old files are renamed
(``bars.migrated/``, ``manifest.json.migrated``) so the migration runs once; delete them when satisfied.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd

__all__ = ["migrate_old_cache", "old_layout_present"]


def old_layout_present(root: Path) -> bool:
    """True when ``root`` holds an old-layout cache (a manifest or a ``bars/`` folder of parquet files)."""
    bars = root / "bars"
    return (root / "manifest.json").is_file() or (bars.is_dir() and any(bars.glob("*.parquet")))


def _read_old(path: Path):
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    df = table.to_pandas()
    md = table.schema.metadata or {}
    entry = json.loads(md[b"ratingbt"]) if b"ratingbt" in md else {}
    return df, entry


def migrate_old_cache(store, con) -> str | None:
    """Move an old-layout cache under ``store.root`` into the store (one transaction); returns the note to show,
    or None when there was nothing to migrate."""
    from engine.data.bars import BAR_COLUMNS

    root = store.root
    if not old_layout_present(root):
        return None
    manifest: dict = {}
    with_manifest = root / "manifest.json"
    if with_manifest.is_file():
        try:
            manifest = json.loads(with_manifest.read_text(encoding="utf-8"))
        except (ValueError, OSError):
            manifest = {}
    frames, coverage, skipped, local_dropped = [], [], [], 0
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    updates = []
    for path in sorted((root / "bars").glob("*.parquet")) if (root / "bars").is_dir() else []:
        code = path.name[: -len(".parquet")]
        try:
            df, entry = _read_old(path)
            df = df[list(BAR_COLUMNS)]
        except Exception:  # noqa: BLE001 - a torn or foreign file: counted, not migrated
            skipped.append(code)
            continue
        local = df["source"].astype(str).str.startswith("local")
        local_dropped += int(local.sum())
        net = df[~local]
        if len(net):
            frames.append(net.assign(code=code, origin="net"))
            updates.append((code, "net", str(entry.get("source", "net")), now))
        if not local.any():
            for a, b in entry.get("covered", []):
                coverage.append((code, "net", pd.Timestamp(a).date(), pd.Timestamp(b).date()))
    failures = []
    for code, found in (manifest.get("failures") or {}).items():
        for f in [found] if isinstance(found, dict) else found:
            try:
                failures.append((code, pd.Timestamp(f["start"]).date(), pd.Timestamp(f["end"]).date(),
                                 pd.Timestamp(f["at"]).tz_convert(None).to_pydatetime() if pd.Timestamp(f["at"]).tz
                                 else pd.Timestamp(f["at"]).to_pydatetime(),
                                 str(f.get("error", ""))[:500], ",".join(f.get("providers", []))))
            except (KeyError, ValueError, TypeError):
                continue
    con.execute("BEGIN TRANSACTION")
    try:
        rows = 0
        if frames:
            all_bars = pd.concat(frames, ignore_index=True)
            all_bars["date"] = pd.to_datetime(all_bars["date"]).dt.date
            all_bars = all_bars.astype({"source": object, "code": object, "origin": object})
            rows = len(all_bars)
            con.register("old_bars", all_bars)
            con.execute("INSERT INTO bars SELECT code, origin, date, open, high, low, close, volume, raw_close, "
                        "adj_factor, source FROM old_bars ORDER BY code, date")
            con.unregister("old_bars")
            con.execute("INSERT INTO spans SELECT code, origin, min(date), max(date), count(*) FROM bars "
                        "GROUP BY code, origin")
        if coverage:
            con.executemany("INSERT INTO coverage VALUES (?, ?, ?, ?)", coverage)
        if updates:
            con.executemany("INSERT INTO updates VALUES (?, ?, ?, ?)", updates)
        if failures:
            con.executemany("INSERT INTO failures VALUES (?, ?, ?, ?, ?, ?)", failures)
        con.execute("INSERT OR REPLACE INTO meta VALUES ('migrated_from_files', ?)", [now.isoformat()])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    if with_manifest.is_file():
        with_manifest.replace(root / "manifest.json.migrated")
    if (root / "bars").is_dir():
        target = root / "bars.migrated"
        if target.exists():
            target = root / f"bars.migrated-{now:%Y%m%dT%H%M%S}"
        (root / "bars").replace(target)
    parts = [f"migrated the old cache in {root} (bars/*.parquet + manifest.json) into {store.path}: "
             f"{len(updates)} symbol(s), {rows} provider row(s), {len(failures)} remembered failure(s)"]
    if local_dropped:
        parts.append(f"{local_dropped} row(s) read from local files were not carried over (they are re-read from "
                     "the files your config or `data import` names)")
    if skipped:
        parts.append(f"{len(skipped)} unreadable file(s) skipped: {', '.join(skipped[:5])}")
    parts.append("old files kept as bars.migrated/ and manifest.json.migrated")
    return "; ".join(parts)
