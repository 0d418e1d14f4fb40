"""Reports and structured sources → the normalised signals table (columns in :mod:`engine.signals.schema`).

Entry points: :func:`engine.signals.ingest.ingest_paths` (files, folders, globs → signals + per-file messages),
:func:`engine.signals.extract.extract_report` (one report's text), :func:`engine.signals.scales.load_registry`
(broker rating scales), :func:`engine.signals.security_master.load_security_master` (names → codes).
"""
