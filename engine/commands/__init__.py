"""One module per CLI stage; each exposes a typer command function (``data`` exposes a sub-app)."""
