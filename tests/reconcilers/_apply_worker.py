"""A program the concurrency tests run: apply shared and own agents, several times.

python -m tests.reconcilers._apply_worker DATA_DIR NAME ROUNDS
"""

from __future__ import annotations

import sys

from stigmer.client import Client
from tests.reconcilers.helpers import new_agent, new_instance


def main() -> None:
    data_dir, name, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with Client(data_dir, actor=name) as client:
        for _ in range(rounds):
            shared = [new_agent(f"Shared {i}") for i in range(10)]
            own = [new_agent(f"{name} {i}") for i in range(5)]
            extra = [new_instance(f"{name} extra", "shared-0")]
            results = client.apply([*shared, *own, *extra])
            failed = [str(r.error) for r in results if not r.ok]
            if failed:
                raise SystemExit("\n".join(failed))


if __name__ == "__main__":
    main()
