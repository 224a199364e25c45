"""The ``stigmer`` command: a typer app and its printers (the only typer/rich user)."""
