"""stigmer serve as a user meets it: who may run it."""

from __future__ import annotations

from tests.cli.conftest import Run


def test_a_denied_serve_names_serve(fresh: Run) -> None:
    run = fresh  # alice's store
    denied = run("serve", user="bob")
    assert denied.exit_code == 1
    assert denied.stderr == (
        'error: forbidden: user "bob" cannot run serve: it needs admin of every org\n'
    )
