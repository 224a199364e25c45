"""stigmer edit: $EDITOR on the manifest, applied on save, reopened with the errors on top."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
from typer.testing import Result

from tests.cli.conftest import Run

# The editor: each run does the next step of the plan on the file, and logs what it saw.
EDITOR = """\
import json, pathlib, sys
plan = pathlib.Path(sys.argv[1]); path = pathlib.Path(sys.argv[2])
steps = json.loads(plan.read_text())
old, new = steps.pop(0)
plan.write_text(json.dumps(steps))
text = path.read_text()
with open(str(plan) + ".seen", "a") as seen:
    seen.write(text + "\\f")
path.write_text(new if old is None else text.replace(old, new))
"""


class Editor:
    """A scripted $EDITOR: ``steps`` of (old, new) replacements, (None, text) to write text."""

    def __init__(self, tmp_path: Path) -> None:
        self.script = tmp_path / "editor.py"
        self.script.write_text(EDITOR)
        self.plan = tmp_path / "plan.json"

    def env(self, *steps: tuple[str | None, str], var: str = "EDITOR") -> dict[str, str]:
        self.plan.write_text(json.dumps(steps))
        env = {"EDITOR": "", "VISUAL": ""}
        env[var] = f"{sys.executable} {self.script} {self.plan}"
        return env

    def seen(self) -> list[str]:
        """What the editor was shown, each time it was opened."""
        return Path(f"{self.plan}.seen").read_text().split("\f")[:-1]


@pytest.fixture
def editor(tmp_path: Path) -> Editor:
    return Editor(tmp_path)


def _yaml(run: Run, name: str = "support-agent") -> str:
    return run("get", "agent", name, "-o", "yaml").stdout


def _edit(run: Run, env: dict[str, str], *target: str) -> Result:
    return run("edit", *(target or ("agent", "support-agent")), env=env)


def test_a_saved_change_is_applied(applied: Run, editor: Editor) -> None:
    env = editor.env(("description: Answers", "description: Now answers"))
    result = _edit(applied, env)
    assert (result.exit_code, result.stdout) == (0, "agent/support-agent edited\n")
    after = _yaml(applied)
    assert "description: Now answers customer" in after and "generation: 2" in after
    shown = editor.seen()[0]
    assert shown.startswith("# Please edit the object below.")
    assert "kind: Agent" in shown and "status:" not in shown  # the manifest, not the object
    assert 'Authorization: "******"' in shown  # secrets masked in the editor ...
    secret = applied("get", "agent", "support-agent", "-o", "yaml", "--show-secrets").stdout
    assert "Authorization: Bearer docs-read-token" in secret  # ... and kept by the apply


def test_an_unchanged_file_changes_nothing(applied: Run, editor: Editor) -> None:
    before = _yaml(applied)
    result = _edit(applied, editor.env(("kind: Agent", "kind: Agent")))
    assert (result.exit_code, result.stdout) == (0, "Edit cancelled, no changes made.\n")
    assert _yaml(applied) == before


def test_an_empty_file_cancels(applied: Run, editor: Editor) -> None:
    before = _yaml(applied)
    result = _edit(applied, editor.env((None, "# only a comment\n")))
    assert (result.exit_code, result.stdout) == (0, "Edit cancelled, saved file was empty.\n")
    assert _yaml(applied) == before


def test_an_invalid_edit_reopens_with_the_errors_at_their_lines(
    applied: Run, editor: Editor
) -> None:
    env = editor.env(
        ("  description: Answers", "  descripton: Answers"),
        ("  descripton: Answers", "  description: Fixed, answers"),
    )
    result = _edit(applied, env)
    assert (result.exit_code, result.stdout) == (0, "agent/support-agent edited\n")
    first, second = editor.seen()
    assert "# agent/support-agent was not valid:" not in first
    reasons = [line for line in second.splitlines() if line.startswith("# * ")]
    assert (
        len(reasons) == 1
        and 'spec.descripton: unknown field (did you mean "description"?)' in reasons[0]
    )
    line = int(re.search(r"line (\d+)", reasons[0])[1])  # type: ignore[index]
    assert (
        second.splitlines()[line - 1]
        == "  descripton: Answers customer questions using the ticket system and the docs."
    )
    assert "description: Fixed, answers" in _yaml(applied)


def test_saving_an_invalid_edit_again_gives_up_and_keeps_it(applied: Run, editor: Editor) -> None:
    before = _yaml(applied)
    env = editor.env(("name: Support Agent", "name: Support Agent\n  bogus: 1"), ("#", "#"))
    result = _edit(applied, env)
    assert result.exit_code == 1
    match = re.fullmatch(
        r"error: edit cancelled, no valid changes were saved \(your changes are in (.+)\)\n",
        result.stderr,
    )
    assert match is not None and "bogus: 1" in Path(match[1]).read_text()
    assert _yaml(applied) == before


def test_the_object_itself_cannot_be_swapped(applied: Run, editor: Editor) -> None:
    before = _yaml(applied)
    env = editor.env(("slug: support-agent", "slug: other-agent"), ("#", "#"))
    assert _edit(applied, env).exit_code == 1
    assert "metadata.slug: cannot be changed here" in editor.seen()[1]
    assert _yaml(applied) == before
    assert applied("get", "agent", "other-agent").exit_code == 1


def test_visual_then_vi_when_editor_is_unset(applied: Run, editor: Editor, tmp_path: Path) -> None:
    env = editor.env(("description: Answers", "description: By VISUAL"), var="VISUAL")
    env["EDITOR"] = ""
    assert _edit(applied, env, "agent/support-agent").stdout == "agent/support-agent edited\n"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    vi = bin_dir / "vi"
    vi.write_text(f'#!/bin/sh\nexec {sys.executable} {editor.script} {editor.plan} "$@"\n')
    vi.chmod(0o755)
    env = editor.env(("description: By VISUAL", "description: By vi"))
    env.update(EDITOR="", VISUAL="", PATH=f"{bin_dir}:/usr/bin:/bin")
    assert _edit(applied, env).stdout == "agent/support-agent edited\n"
    assert "description: By vi" in _yaml(applied)


def test_a_failing_editor_applies_nothing(applied: Run) -> None:
    before = _yaml(applied)
    result = _edit(applied, {"EDITOR": "false"})
    assert (result.exit_code, result.stderr) == (
        1,
        "error: the editor 'false' exited with 1; nothing was applied\n",
    )
    missing = _edit(applied, {"EDITOR": "no-such-editor-here"})
    assert (
        missing.exit_code == 1 and "cannot run the editor 'no-such-editor-here'" in missing.stderr
    )
    assert _yaml(applied) == before


def test_a_change_made_meanwhile_is_a_conflict_not_overwritten(
    applied: Run, editor: Editor, tmp_path: Path
) -> None:
    other = tmp_path / "other.py"  # while the editor is first open, someone else labels the agent
    other.write_text(
        "import pathlib, subprocess, sys\n"
        f"done = pathlib.Path({str(tmp_path / 'labeled')!r})\n"
        "if not done.exists():\n"
        "    label = ['label', 'agent', 'support-agent', 'x=1']\n"
        "    subprocess.run([sys.executable, '-m', 'stigmer', *label], check=True)\n"
        "    done.touch()\n"
        "subprocess.run(sys.argv[1:], check=True)\n"
    )
    env = editor.env(("description: Answers", "description: Mine"), ("#", "#"))
    env["EDITOR"] = f"{sys.executable} {other} {env['EDITOR']}"
    result = _edit(applied, env)
    assert result.exit_code == 1  # reopened with the conflict, then given up
    assert "metadata.resourceVersion: conflict" in editor.seen()[1]
    after = _yaml(applied)
    assert 'x: "1"' in after and "description: Mine" not in after


def test_a_viewer_is_refused_before_the_editor_opens(applied: Run, editor: Editor) -> None:
    assert applied("iam", "grant", "bob", "viewer").exit_code == 0
    result = applied("edit", "agent", "support-agent", user="bob", env=editor.env(("a", "b")))
    assert result.exit_code == 1 and "bob" in result.stderr
    assert not Path(f"{editor.plan}.seen").exists()
