"""The console script: ``stigmer``. Answers ``--version`` before importing the app.

Importing typer costs ~45 ms, so the one command that must feel instant is
answered here, and everything else is handed to the typer app.
"""

from __future__ import annotations

import sys


def main() -> None:
    if sys.argv[1:] in (["--version"], ["-V"]):
        from stigmer import __version__

        sys.stdout.write(f"stigmer {__version__}\n")
        return
    from stigmer.cli.app import run

    run()


if __name__ == "__main__":
    main()
