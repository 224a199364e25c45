"""stigmer label, annotate and patch: one field of live objects, validated as an apply."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stigmer.manifests.patching import merge
from tests.cli.conftest import EXAMPLES, Run


def _view(run: Run, name: str = "support-agent") -> str:
    return run("get", "agent", name, "-o", "yaml").stdout


def _labels(run: Run, name: str = "support-agent") -> dict[str, str]:
    data = json.loads(run("get", "agent", name, "-o", "json").stdout)
    labels: dict[str, str] = data["metadata"].get("labels", {})
    return labels


def test_label_sets_and_removes(applied: Run) -> None:
    result = applied("label", "agent", "support-agent", "region=eu", "tier-")
    assert (result.exit_code, result.stdout) == (0, "agent/support-agent labeled\n")
    assert _labels(applied) == {"team": "support", "region": "eu"}
    labeled = _view(applied)
    again = applied("label", "agent/support-agent", "region=eu")
    assert (again.exit_code, again.stdout) == (0, "agent/support-agent not labeled\n")
    assert _view(applied) == labeled  # nothing written: the same resourceVersion


def test_changing_a_value_needs_overwrite(applied: Run) -> None:
    refused = applied("label", "agent", "support-agent", "tier=silver")
    assert refused.exit_code == 1
    assert refused.stderr == (
        'error: agent/support-agent: metadata.labels: "tier" already has a value (gold), '
        "and --overwrite is false\n"
    )
    assert _labels(applied)["tier"] == "gold"
    done = applied("label", "agent", "support-agent", "tier=silver", "--overwrite")
    assert done.stdout == "agent/support-agent labeled\n"
    assert _labels(applied)["tier"] == "silver"


def test_label_by_selector_and_all(applied: Run) -> None:
    picked = applied("label", "agents", "-l", "team=support", "picked=yes")
    assert picked.stdout == "agent/support-agent labeled\n"
    every = applied("label", "agents", "--all", "reviewed=no")
    assert sorted(every.stdout.splitlines()) == [
        "agent/code-reviewer labeled",
        "agent/support-agent labeled",
    ]
    assert _labels(applied, "code-reviewer") == {"team": "platform", "reviewed": "no"}
    assert (
        "reviewed"
        not in applied("get", "agent", "data-analyst", "--org", "acme", "-o", "yaml").stdout
    )


def test_an_invalid_label_is_refused_like_an_apply(applied: Run) -> None:
    before = _view(applied)
    result = applied("label", "agent", "support-agent", "bad key=1")
    assert result.exit_code == 1
    assert result.stderr.startswith('error: agent/support-agent: metadata.labels["bad key"]: ')
    assert result.stderr.count("\n") == 1
    assert _view(applied) == before


@pytest.mark.parametrize(
    "args",
    [
        ("label", "agent", "support-agent"),  # no change
        ("label", "agent", "support-agent", "=x"),
        ("label", "agent", "support-agent", "a=1", "a-"),
        ("label", "agents", "a=1"),  # neither names nor -l nor --all
        ("label", "agents", "support-agent", "--all", "a=1"),
        ("patch", "agent", "support-agent", "-p", "not json"),
        ("patch", "agent", "support-agent", "-p", "[]"),
        ("patch", "agent", "support-agent", "--type", "strategic", "-p", "{}"),
        ("patch", "agent", "support-agent", "--type", "json", "-p", "{}"),
        ("patch", "agent", "support-agent", "--type", "json", "-p", '[{"path": "/spec"}]'),
        ("patch", "agents", "-p", "{}"),
    ],
)
def test_usage_errors_exit_2(applied: Run, args: tuple[str, ...]) -> None:
    before = _view(applied)
    result = applied(*args)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert _view(applied) == before


def test_annotate(applied: Run) -> None:
    result = applied("annotate", "agent", "support-agent", "owner=alice", "note=a b: c")
    assert result.stdout == "agent/support-agent annotated\n"
    assert "owner: alice" in _view(applied) and 'note: "a b: c"' in _view(applied)
    assert applied("annotate", "agent", "support-agent", "owner=bob").exit_code == 1
    removed = applied("annotate", "agent", "support-agent", "owner-", "note-")
    assert removed.stdout == "agent/support-agent annotated\n"
    assert "annotations" not in _view(applied)


def test_merge_patch(applied: Run) -> None:
    patch = json.dumps(
        {"spec": {"description": "Patched."}, "metadata": {"labels": {"tier": None}}}
    )
    result = applied("patch", "agent", "support-agent", "-p", patch)
    assert (result.exit_code, result.stdout) == (0, "agent/support-agent patched\n")
    view = _view(applied)
    assert "description: Patched." in view and "tier" not in view
    same = applied("patch", "agent", "support-agent", "-p", '{"spec": {"description": "Patched."}}')
    assert same.stdout == "agent/support-agent patched (no change)\n"


def test_json_patch(applied: Run) -> None:
    ops = [
        {
            "op": "test",
            "path": "/spec/description",
            "value": "Answers customer questions using the ticket system and the docs.",
        },
        {"op": "replace", "path": "/spec/description", "value": "By JSON patch."},
        {"op": "remove", "path": "/spec/mcpServers/1"},
        {"op": "add", "path": "/metadata/labels/region", "value": "eu"},
    ]
    result = applied("patch", "agent/support-agent", "--type", "json", "-p", json.dumps(ops))
    assert (result.exit_code, result.stdout) == (0, "agent/support-agent patched\n")
    view = _view(applied)
    assert "By JSON patch." in view and "docs.example.com" not in view and "region: eu" in view


def test_a_patch_that_fails_stores_nothing(applied: Run) -> None:
    before = _view(applied)
    failed_test = applied(
        "patch",
        "agent",
        "support-agent",
        "--type",
        "json",
        "-p",
        '[{"op": "test", "path": "/spec/description", "value": "other"}]',
    )
    assert failed_test.exit_code == 1 and failed_test.stderr.startswith(
        "error: agent/support-agent: the patch's test failed"
    )
    missing = applied(
        "patch",
        "agent",
        "support-agent",
        "--type",
        "json",
        "-p",
        '[{"op": "remove", "path": "/spec/nope"}]',
    )
    assert missing.exit_code == 1 and "the patch does not apply" in missing.stderr
    invalid = applied("patch", "agent", "support-agent", "-p", '{"spec": {"instruction": "x"}}')
    assert (invalid.exit_code, invalid.stderr) == (
        1,
        "error: agent/support-agent: spec.instruction: unknown field "
        '(did you mean "instructions"?)\n',
    )
    renamed = applied("patch", "agent", "support-agent", "-p", '{"metadata": {"org": "acme"}}')
    assert renamed.exit_code == 1 and "metadata.org: cannot be changed here" in renamed.stderr
    assert _view(applied) == before
    assert applied("get", "agents", "--org", "acme", "-o", "name").stdout == "agent/data-analyst\n"


def test_a_patch_keeps_secrets_and_dry_run_stores_nothing(applied: Run) -> None:
    before = _view(applied)
    dry = applied(
        "patch", "agent", "support-agent", "-p", '{"spec": {"description": "x"}}', "--dry-run"
    )
    assert dry.stdout == "agent/support-agent patched (dry run)\n"
    assert _view(applied) == before
    applied("patch", "agent", "support-agent", "-p", '{"spec": {"description": "x"}}')
    shown = applied("get", "agent", "support-agent", "-o", "yaml", "--show-secrets").stdout
    assert "Authorization: Bearer docs-read-token" in shown


def test_writes_need_an_editor_role(applied: Run) -> None:
    assert applied("iam", "grant", "bob", "viewer").exit_code == 0
    before = _view(applied)
    for args in (
        ("label", "agent", "support-agent", "a=1"),
        ("patch", "agent", "support-agent", "-p", '{"spec": {"description": "x"}}'),
    ):
        result = applied(*args, user="bob")
        assert result.exit_code == 1 and "bob" in result.stderr
    assert _view(applied) == before


def test_merge_follows_rfc_7386_appendix_a() -> None:
    cases = [
        ({"a": "b"}, {"a": "c"}, {"a": "c"}),
        ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
        ({"a": "b"}, {"a": None}, {}),
        ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
        (["a", "b"], ["c", "d"], ["c", "d"]),
        ({"a": "b"}, ["c"], ["c"]),
        ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
        ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
        ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
    ]
    for target, patch, expected in cases:
        assert merge(target, patch) == expected


def test_a_synced_object_gets_the_warning_apply_gives(fresh: Run, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "bot.yaml").write_text((EXAMPLES / "support-agent.yaml").read_text())
    assert fresh("sync", str(tree)).exit_code == 0
    result = fresh("label", "agent", "support-agent", "x=1")
    assert result.stdout == "agent/support-agent labeled\n"
    assert result.stderr.startswith("warning: agent/support-agent is managed by stigmer sync of ")
