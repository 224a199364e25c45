"""A program the history crash test runs: edit one agent forever, until SIGKILL.

python -m tests.reconcilers._editing DATA_DIR

Generation N of the agent has the instructions "Edit number N.", so a kept
revision can be checked against its generation after the crash.
"""

from __future__ import annotations

import itertools
import sys

from stigmer.client import Client
from tests.reconcilers.helpers import new_agent


def main() -> None:
    with Client(sys.argv[1], actor="editor") as client:
        for n in itertools.count(1):
            client.apply([new_agent("Bot", instructions=f"Edit number {n}.", secret="sk-keep")])


if __name__ == "__main__":
    main()
