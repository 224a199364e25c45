"""Status conditions, as in Kubernetes: Ready with a CamelCase reason."""

from __future__ import annotations

from typing import Any

from stigmer.reconcilers import audits

READY = "Ready"
TRUE, FALSE, UNKNOWN = "True", "False", "Unknown"


def set_condition(
    status: Any,
    type_: str,
    value: str,
    reason: str,
    message: str,
    *,
    generation: int,
    now_ns: int,
    found: dict[str, Any] | None = None,
) -> bool:
    """Sets a condition on a status message; returns True when anything changed.

    The transition time moves only when the value does, so a reconcile that
    finds everything as it was changes nothing. ``found``: the status's
    ``by_type``, when the caller walked its conditions already.
    """
    cond = get_condition(status, type_) if found is None else found.get(type_)
    if cond is None:
        cond = status.conditions.add(type=type_)
    elif (cond.status, cond.reason, cond.message, cond.observed_generation) == (
        value,
        reason,
        message,
        generation,
    ):
        return False
    if cond.status != value:
        audits.stamp(cond.last_transition_time, now_ns)
    cond.status, cond.reason, cond.message = value, reason, message
    cond.observed_generation = generation
    return True


def get_condition(status: Any, type_: str) -> Any | None:
    """The condition of a type, or None."""
    # By index: a for loop over a upb list ends in an IndexError, which costs more
    # than the few conditions it walks, on every status step of every object.
    found = status.conditions
    for i in range(len(found)):
        if found[i].type == type_:
            return found[i]
    return None


def by_type(status: Any) -> dict[str, Any]:
    """Each condition of a status by its type (the first of a type, as ``get_condition``).

    One walk for a step that reads or sets several conditions of one status.
    """
    found = status.conditions
    out: dict[str, Any] = {}
    for i in range(len(found)):  # by index, as get_condition
        cond = found[i]
        out.setdefault(cond.type, cond)
    return out
