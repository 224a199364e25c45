"""``python -m stigmer`` runs the CLI."""

from stigmer.cli.entry import main

main()
