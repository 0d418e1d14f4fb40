"""Market data: providers, the local price cache and the aligned price panel.

Modules (imported on demand; nothing heavy happens at ``import engine.data``):

- :mod:`engine.data.bars` — the normalised bar frame (columns, units) and its validation rules;
- :mod:`engine.data.providers` — ``local`` files, ``akshare``, ``yfinance`` behind one ``fetch(code, start, end)``;
- :mod:`engine.data.chain` — fallback chain with timeouts, retries with back-off and per-provider rate limits;
- :mod:`engine.data.cache` — per-symbol parquet files + ``manifest.json``, atomic writes, validated reads;
- :mod:`engine.data.fetch` — incremental fetch of missing ranges / offline listing of them;
- :mod:`engine.data.importer` — ``data import`` of per-symbol CSVs and the long market parquet;
- :mod:`engine.data.verify` — suspect-row rules of ``data verify``;
- :mod:`engine.data.calendars` — XSHG / XHKG / A+H sessions with a fallback past the calendars' end;
- :mod:`engine.data.panel` — the :class:`~engine.data.panel.Panel` container;
- :mod:`engine.data.load` — ``load_panel(codes, start, end, ...)``, the entry point for every other stage, and
  ``panel_from_long`` for the long market file.
"""
