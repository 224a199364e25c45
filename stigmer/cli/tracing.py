"""What ``apply -v`` prints: each pipeline step of each object, with its time.

On stderr, so that ``apply -v -o name`` still prints only names on stdout.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from stigmer.cli.escaping import escape

if TYPE_CHECKING:
    from stigmer.client import Result


def _ms(ns: int) -> str:
    return f"{ns / 1e6:.3f} ms"


def explain_steps(results: list[Result]) -> str:
    """A block per object: its outcome and total time, then one line per step run.

    A failed object's block ends at the step that failed, marked as such.
    """
    out = []
    for r in results:
        total = sum(ns for _, ns in r.steps)
        out.append(f"{r.kind.singular}/{escape(r.name)}: {r.outcome} in {_ms(total)}\n")
        width = max((len(name) for name, _ in r.steps), default=0)
        for i, (name, ns) in enumerate(r.steps, 1):
            failed = not r.ok and i == len(r.steps)
            mark = "  (failed)" if failed else ""
            out.append(f"  {i:>2}. {name.ljust(width)}  {_ms(ns):>12}{mark}\n")
    return "".join(out)
