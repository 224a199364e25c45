"""The steps of kinds with no reconciler of their own (Environment, Skill, McpServer).

Such an object is whole once it is valid and stored: its status says so with
``Ready=True`` for the generation it was computed for, so ``get`` and
``describe`` read every kind's readiness alike.
"""

from __future__ import annotations

from stigmer.reconcilers import conditions
from stigmer.reconcilers.framework import Context

ACCEPTED = "Accepted"


def set_ready(ctx: Context) -> None:
    """Ready=True and observed_generation on the new state (no write: Persist writes it)."""
    obj = ctx.new
    assert obj is not None
    generation = obj.metadata.generation
    obj.status.observed_generation = generation
    conditions.set_condition(
        obj.status,
        conditions.READY,
        conditions.TRUE,
        ACCEPTED,
        f"the {ctx.request.kind.singular} is valid and stored",
        generation=generation,
        now_ns=ctx.now_ns,
    )
