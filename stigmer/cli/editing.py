"""stigmer edit: an object's manifest in $EDITOR, applied on save, as kubectl edit does."""

import os
import shlex
import subprocess
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from stigmer.cli.applying import _warn_synced as warn_synced
from stigmer.cli.patching import KindArg, one_object
from stigmer.cli.state import fail, state

if TYPE_CHECKING:
    from stigmer.client import ApplyReport

HEADER = [
    "# Please edit the object below. Comments are ignored, and an empty file",
    "# cancels the edit. If saving it fails, this file is reopened with the",
    "# reasons at the top.",
    "#",
]


def editor() -> list[str]:
    """$EDITOR, then $VISUAL, then vi; a value may carry arguments (``code --wait``)."""
    chosen = os.environ.get("EDITOR") or os.environ.get("VISUAL") or "vi"
    return shlex.split(chosen)


def edit(
    ctx: typer.Context,
    *,
    kind: KindArg,
    name: Annotated[
        str | None, typer.Argument(help="Name (slug) or id; none with TYPE/NAME.")
    ] = None,
) -> None:
    """Edit an object's manifest in $EDITOR (then $VISUAL, then vi); saving applies it."""
    client = state(ctx).client()
    target, org, slug = one_object(kind, name)
    original = client.manifest(target, slug, org=org)
    client.authorize("update", target, org=org)  # before the editor: no work to lose
    fd, where = tempfile.mkstemp(prefix="stigmer-edit-", suffix=".yaml")
    os.close(fd)
    path, header, shown = Path(where), HEADER, original
    while True:
        path.write_text("\n".join(header) + "\n" + shown)
        _open(path)
        edited = _body(path.read_text())
        if not edited.strip() or edited == original:
            path.unlink()
            empty = not edited.strip()
            typer.echo(f"Edit cancelled, {'saved file was empty' if empty else 'no changes made'}.")
            return
        if edited == shown:  # a failed edit saved again as it was: give up, keeping it
            fail(f"edit cancelled, no valid changes were saved (your changes are in {path})")
        report = client.apply_edit(target, slug, edited, org=org, source=f"{target}/{slug}")
        if report.ok:
            warn_synced(client, report.results)
            path.unlink()
            outcome = report.results[0].outcome
            unchanged = outcome == "unchanged"
            typer.echo(
                "Edit cancelled, no changes made." if unchanged else f"{target}/{slug} edited"
            )
            return
        header, shown = _reasons(report, f"{target}/{slug}"), edited


def _open(path: Path) -> None:
    """Runs the editor on ``path`` and waits for it; failing or missing, nothing is applied."""
    command = editor()
    try:
        done = subprocess.run([*command, str(path)], check=False)
    except OSError as e:
        path.unlink()
        fail(f"cannot run the editor {command[0]!r} ({e.strerror}): set EDITOR")
    if done.returncode != 0:
        path.unlink()
        fail(f"the editor {command[0]!r} exited with {done.returncode}; nothing was applied")


def _body(text: str) -> str:
    """The file without the comment block at its top (ours, or the reasons of a failure)."""
    lines = text.splitlines(keepends=True)
    start = 0
    while start < len(lines) and lines[start].startswith("#"):
        start += 1
    return "".join(lines[start:])


def _reasons(report: "ApplyReport", label: str) -> list[str]:
    """The header of a reopened file: why saving failed, each at its line in that file."""
    from stigmer.cli.applying import error_line

    reasons = [r for r in report.results if not r.ok]
    size = len(HEADER) + 2 + len(report.problems) + len(reasons)
    lines = [*HEADER, f"# {label} was not valid:"]
    for p in report.problems:  # positions in the body, which starts after this header
        where = f"line {p.line + size}, column {p.column}: " if p.line else ""
        lines.append(f"# * {where}{p.path + ': ' if p.path else ''}{_one_line(p.message)}")
    lines += [f"# * {_one_line(error_line(r))}" for r in reasons]
    return [*lines, "#"]


def _one_line(text: str) -> str:
    return " ".join(text.split())
