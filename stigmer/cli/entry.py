"""The console script: ``stigmer``. Answers ``--version`` before importing the app.

Importing typer costs ~45 ms, so the one command that must feel instant is
answered here, and everything else is handed to the typer app.

This is the one place that controls Python's cyclic garbage collector
(docs/architecture.md, "Threads and the garbage collector"): the switch is
process-wide, so library code, which may share its process with other
threads or an asyncio server, leaves it alone.

Start-up (typer, protobuf, the command's module) makes some 30,000 objects
that live as long as the process, and no garbage. Left to the collector,
they would be walked by every collection on the way and by the last one at
exit; so the collector is off while they are made, and they are frozen
(ignored by later collections) before the command runs. For ``stigmer get``
that is a tenth of the instructions and ~15% of the time.

A command that ends by itself then runs with the collector still off:
applying or loading 10,000 manifests keeps millions of small objects alive,
each collection walks all of them (a third of an apply's time), and the work
makes no reference cycles worth collecting. A command that keeps running
(``serve``, ``--watch``) gets the collector back.
"""

from __future__ import annotations

import gc
import sys


def collects(args: list[str], command: str | None) -> bool:
    """Whether ``stigmer ARGS`` needs the collector: a command that keeps running does.

    That is ``serve``, and ``get`` or ``sync`` with ``--watch``, or ``-w``
    alone or among other short flags (``-Aw``).
    """
    short = (a for a in args if a.startswith("-") and not a.startswith("--"))
    return command == "serve" or "--watch" in args or any("w" in a for a in short)


def main() -> None:
    args = sys.argv[1:]
    if args in (["--version"], ["-V"]):
        from stigmer import __version__

        sys.stdout.write(f"stigmer {__version__}\n")
        return
    gc.disable()
    try:
        from stigmer.cli.app import command_word, program

        app = program(args)
    finally:
        gc.freeze()
        gc.enable()
    if not collects(args, command_word(args)):
        gc.disable()
    app(prog_name="stigmer")


if __name__ == "__main__":
    main()
