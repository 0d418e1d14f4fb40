"""Reports and structured sources → the normalised signals table (columns in :mod:`engine.signals.schema`)."""
