"""Market data: providers, the price store and the aligned price panel.

Modules (imported on demand; nothing heavy happens at ``import engine.data``):

- :mod:`engine.data.bars` — the normalised bar frame (columns, units) and its validation rules;
- :mod:`engine.data.providers` — ``local`` files, ``akshare``, ``yfinance`` behind one ``fetch(code, start, end)``;
- :mod:`engine.data.chain` — fallback chain with timeouts, retries with back-off and per-provider rate limits;
- :mod:`engine.data.store` — the DuckDB store ``data_cache/ratingbt.duckdb``: lock, transactions, signals history;
- :mod:`engine.data.migrate` — one-time move of an old parquet + ``manifest.json`` cache into the store;
- :mod:`engine.data.cache` — prices in the store: bars per code and origin, coverage, failures, merging origins;
- :mod:`engine.data.localfiles` — local folders/files as sources: which file serves which code, re-reading changes;
- :mod:`engine.data.fetch` — incremental fetch of missing ranges / offline listing of them;
- :mod:`engine.data.importer` — ``data import`` of per-symbol CSVs and the long market parquet;
- :mod:`engine.data.verify` — suspect-row rules of ``data verify``;
- :mod:`engine.data.calendars` — XSHG / XHKG / A+H sessions with a fallback past the calendars' end;
- :mod:`engine.data.panel` — the :class:`~engine.data.panel.Panel` container;
- :mod:`engine.data.load` — ``load_panel(codes, start, end, ...)``, the entry point for every other stage, and
  ``panel_from_long`` for the long market file.
"""
