"""``ratingbt ingest --explain FILE``: every field of one report with where it was read.

:func:`explain_report` returns plain text lines (the command prints them): the report-level fields (broker,
publication date, type, industry rating, analysts, scale) with the offset in the file's text and a verbatim snippet,
then one block per stock (code, name, kind, rating and risk suffix, action, previous rating, target with its range
and horizon, price at report and its date, currency, band, confidence) with the snippet each field was read from,
then the file's messages. Offsets are character offsets in the text the reader gave (for PDFs, the extracted text).
"""

from __future__ import annotations

import json
import math

from engine.signals.extract import ReportExtract

__all__ = ["explain_report"]


def _value(v) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)) or v == "":
        return "—"
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def _where(prov: dict | None) -> str:
    if not prov:
        return ""
    parts = []
    if prov.get("page"):
        parts.append(f"page {prov['page']}")
    if prov.get("offset") is not None:
        parts.append(f"offset {prov['offset']}")
    snippet = prov.get("snippet") or ""
    return f"  [{', '.join(parts)}] «{snippet}»" if parts or snippet else ""


def explain_report(rep: ReportExtract) -> list[str]:
    """Human-readable lines: each field with its provenance (see module docstring)."""
    out = [f"report {rep.source}"]
    prov = rep.provenance
    scale = rep.scale
    fields = [
        ("broker", rep.broker, prov.get("broker")),
        ("report_date", f"{rep.report_date}{' (inferred from the price date)' if rep.date_inferred else ''}"
         if rep.report_date else "", prov.get("report_date")),
        ("report_type", rep.report_type, None),
        ("industry", rep.industry, None),
        ("industry_rating", " ".join(x for x in (rep.industry_rating, rep.industry_action) if x),
         prov.get("industry_rating")),
        ("analysts", "; ".join(rep.analysts), prov.get("analysts")),
        ("scale", (scale.source or "") if scale is not None else "", None),
    ]
    for name, value, where in fields:
        out.append(f"  {name:<16}{_value(value)}{_where(where)}")
    for row in rep.rows:
        try:
            row_prov = json.loads(row.get("provenance") or "{}")
        except ValueError:
            row_prov = {}
        out.append(f"stock {_value(row['code'])} {row['name']} ({row['kind']}, confidence "
                   f"{_value(row.get('confidence'))})")
        target = _value(row["target_price"])
        if not math.isnan(row.get("target_low", math.nan)) and row.get("target_low") != row.get("target_high"):
            target += f" (range {_value(row['target_low'])}-{_value(row['target_high'])})"
        if not math.isnan(row.get("target_horizon_months", math.nan)):
            target += f" ({row['target_horizon_months']:g} months)"
        items = [
            ("rating", " ".join(x for x in (row["rating"], f"-{row['risk_suffix']}" if row.get("risk_suffix") else "")
                                if x), "rating"),
            ("action", row["action"], "action"),
            ("previous_rating", row.get("previous_rating", ""), None),
            ("target_price", target, "target_price"),
            ("price_at_report", _value(row["price_at_report"]) + (f" on {row['price_date']}" if row["price_date"]
                                                                  else ""), "price_at_report"),
            ("currency", row["currency"], None),
            ("band", f"[{_value(row['band_low'])}, {_value(row['band_high'])}] vs {row['benchmark'] or '—'} over "
                     f"{row['horizon_months'] or '—'} months ({row.get('scale_source') or 'no scale'})"
             if row["kind"] == "rating" else "", None),
            ("code", row["code"], "code"),
        ]
        for name, value, key in items:
            out.append(f"  {name:<16}{_value(value)}{_where(row_prov.get(key) if key else None)}")
        if row.get("evidence"):
            out.append(f"  {'evidence':<16}«{row['evidence']}»")
    for m in rep.messages:
        out.append(f"{m.level}: {m.text}")
    return out
