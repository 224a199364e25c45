"""How fast this machine is right now: a fixed pure-Python loop, timed.

Run: .venv/bin/python -m bench.calibrate
This shared VM has slow spells in which everything takes ~1.5x as long; run
this before and after a benchmark to tell a spell from a regression.
"""

from __future__ import annotations

import time

from bench._common import emit


def main() -> None:
    started = time.perf_counter()
    x = 0
    for i in range(3_000_000):
        x += i * i % 7
    emit({"calibration_loop_s": round(time.perf_counter() - started, 3)})


if __name__ == "__main__":
    main()
