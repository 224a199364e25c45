"""The pipeline framework, and the steps each pipeline runs."""

from __future__ import annotations

import pytest

from stigmer.api.kinds import AGENT
from stigmer.errors import Conflict, Forbidden, InvalidResource, NotFound, StepFailed
from stigmer.reconcilers.catalog import AGENT_APPLY, DELETE, INSTANCE_APPLY, pipeline_for
from stigmer.reconcilers.framework import (
    Context,
    Pipeline,
    Request,
    RetryableError,
    TerminalError,
    is_terminal,
)


def test_the_agent_apply_pipeline_runs_its_steps_in_order() -> None:
    assert AGENT_APPLY.step_names == [
        "ValidateFieldConstraints",
        "Authorize",
        "ResolveSlug",
        "CheckDuplicate",
        "SetDefaults",
        "Persist",
        "IndexReferences",
        "CreateIamPolicies",
        "CreateDefaultInstance",
        "UpdateAgentStatusWithDefaultInstance",
        "ConvergeInstances",
        "Publish",
        "TransformResponse",
        "SendResponse",
    ]


def test_instance_and_delete_pipelines_reuse_the_generic_steps() -> None:
    generic = set(AGENT_APPLY.step_names) - {
        "CreateDefaultInstance",
        "UpdateAgentStatusWithDefaultInstance",
        "ConvergeInstances",
    }
    assert generic <= set(INSTANCE_APPLY.step_names)
    assert {"Authorize", "Publish", "TransformResponse", "SendResponse"} <= set(DELETE.step_names)
    assert pipeline_for(AGENT, "diff") is AGENT_APPLY


def test_the_first_error_stops_the_pipeline_and_names_the_step() -> None:
    ran: list[str] = []

    def ok(ctx: Context) -> None:
        ran.append("ok")

    def bad(ctx: Context) -> None:
        raise InvalidResource("broken", path="spec.x")

    def never(ctx: Context) -> None:
        ran.append("never")

    pipeline = Pipeline("test", (("First", ok), ("Second", bad), ("Third", never)))
    ctx = Context(Request("apply", AGENT), txn=None, actor="a", authorizer=None, now_ns=0)  # type: ignore[arg-type]
    with pytest.raises(StepFailed) as info:
        pipeline.run(ctx)
    assert ran == ["ok"]
    assert info.value.step == "Second"
    assert str(info.value) == "Second: spec.x: broken"
    assert info.value.terminal


def test_errors_that_are_not_stigmers_are_not_wrapped() -> None:
    def boom(ctx: Context) -> None:
        raise MemoryError("the host is dying")

    ctx = Context(Request("apply", AGENT), txn=None, actor="a", authorizer=None, now_ns=0)  # type: ignore[arg-type]
    with pytest.raises(MemoryError):
        Pipeline("t", (("Boom", boom),)).run(ctx)


@pytest.mark.parametrize(
    ("error", "terminal"),
    [
        (TerminalError("x"), True),
        (InvalidResource("x"), True),
        (Forbidden("x"), True),
        (RetryableError("x"), False),
        (Conflict("x"), False),
        (NotFound("x"), False),
    ],
)
def test_terminal_and_retryable_errors(error: Exception, terminal: bool) -> None:
    assert is_terminal(error) is terminal
