"""stigmer get for scripts: -o jsonpath, -o custom-columns, --sort-by, --field-selector, get all."""

from __future__ import annotations

import pytest

from stigmer.api.kinds import KINDS
from tests.cli.conftest import Run

TOKEN = "ghp_example_not_a_real_token"  # code-reviewer's secret in the examples


def _agent(name: str, *, description: str = "An agent.") -> str:
    return (
        "apiVersion: agentic.stigmer.ai/v1\nkind: Agent\n"
        f"metadata:\n  name: {name}\nspec:\n  description: {description}\n"
        "  instructions: Help the user well.\n"
    )


def test_jsonpath_prints_fields_every_item_and_one_item(applied: Run) -> None:
    names = applied("get", "agents", "-o", "jsonpath={.items[*].metadata.slug}")
    assert (names.exit_code, names.stdout) == (0, "code-reviewer support-agent")
    first = applied("get", "agents", "-o", "jsonpath={.items[1].metadata.labels.tier}")
    assert first.stdout == "gold"
    one = applied("get", "agent", "support-agent", "-o", "jsonpath=slug={.metadata.slug}")
    assert one.stdout == "slug=support-agent"  # a named object is itself, not a List


def test_jsonpath_range_and_end_print_one_line_per_object(applied: Run) -> None:
    template = '{range .items[*]}{.metadata.slug}{"\\t"}{.spec.agentId}{"\\n"}{end}'
    out = applied("get", "ai", "-o", f"jsonpath={template}")
    slugs = [line.split("\t")[0] for line in out.stdout.splitlines()]
    assert slugs == ["code-reviewer-default", "support-agent-default", "support-agent-eu"]
    assert all(line.split("\t")[1].startswith("agt-") for line in out.stdout.splitlines())


def test_custom_columns_print_a_table_of_paths(applied: Run) -> None:
    spec = "NAME:.metadata.slug,TIER:.metadata.labels.tier,READY:{.status.conditions[0].status}"
    rows = [
        r.split()
        for r in applied("get", "agents", "-o", f"custom-columns={spec}").stdout.splitlines()
    ]
    assert rows == [
        ["NAME", "TIER", "READY"],
        ["code-reviewer", "<none>", "True"],
        ["support-agent", "gold", "True"],
    ]


def test_secrets_stay_masked_in_jsonpath_and_custom_columns(applied: Run) -> None:
    path = ".spec.envSpec.data.GITHUB_TOKEN.value"
    for output in (f"jsonpath={{{path}}}", f"custom-columns=TOKEN:{path}"):
        masked = applied("get", "agent", "code-reviewer", "-o", output)
        assert masked.exit_code == 0 and "******" in masked.stdout
        assert TOKEN not in masked.stdout
        revealed = applied("get", "agent", "code-reviewer", "-o", output, "--show-secrets")
        assert TOKEN in revealed.stdout  # alice owns the store: an admin may ask
        everyone = applied("get", "agents", "-A", "-o", output.replace(path, ".."), user="bob")
        assert TOKEN not in everyone.stdout


def test_sort_by_orders_by_a_path_numbers_as_numbers(fresh: Run) -> None:
    for name in ("b", "a", "c"):
        assert fresh("apply", "-f", "-", input=_agent(name)).exit_code == 0
    for _ in range(8):  # b's resourceVersion grows past 9: a text sort would put it first
        text = _agent("b", description=f"Edited {_}.")
        assert fresh("apply", "-f", "-", input=text).exit_code == 0
    by_name = fresh("get", "agents", "-o", "name", "--sort-by", ".metadata.name")
    assert by_name.stdout.split() == ["agent/a", "agent/b", "agent/c"]
    by_version = fresh("get", "agents", "-o", "name", "--sort-by={.metadata.resourceVersion}")
    assert by_version.stdout.split() == ["agent/a", "agent/c", "agent/b"]


def test_field_selector_keeps_matching_objects(applied: Run) -> None:
    named = applied(
        "get", "agents", "--field-selector", "metadata.name=Support Agent", "-o", "name"
    )
    assert named.stdout.split() == ["agent/support-agent"]
    others = applied(
        "get", "ai", "--field-selector", "metadata.slug!=support-agent-eu", "-o", "name"
    )
    assert others.stdout.split() == [
        "agentinstance/code-reviewer-default",
        "agentinstance/support-agent-default",
    ]
    ready = applied("get", "agents", "--field-selector", "status.ready=True,metadata.org=local")
    assert ready.stdout.count("\n") == 3  # the header and both agents
    none = applied("get", "agents", "--field-selector", "status.ready=False")
    assert (none.stdout, none.stderr) == ("", "No resources found in org local\n")


def test_get_all_lists_every_kind_in_the_registry(applied: Run) -> None:
    every = applied("get", "all", "-o", "name").stdout.split()
    expected = [n for k in KINDS for n in applied("get", k.plural, "-o", "name").stdout.split()]
    # the examples hold an object of every kind
    assert every == expected and {n.split("/")[0] for n in every} == {k.singular for k in KINDS}
    table = applied("get", "all").stdout
    assert table.count("NAME ") == len(KINDS)  # one table per kind that has objects


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-o", "jsonpath={range .items[*]}{.metadata.name}"], '"{range}" without "{end}"'),
        (["-o", "jsonpath={.items[0"], 'unclosed "{"'),
        (["-o", "custom-columns=NAME"], '"NAME" is not HEADER:PATH'),
        (["-o", "xml"], "jsonpath=TEMPLATE"),
        (["--field-selector", "metadata name"], "expected PATH=VALUE"),
        (["-w", "-o", "jsonpath={.items}"], "-w prints table"),
    ],
)
def test_a_bad_template_or_selector_is_one_usage_line(
    applied: Run, args: list[str], message: str
) -> None:
    result = applied("get", "agents", *args)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith("error: ") and message in result.stderr
    assert result.stderr.count("\n") == 1
