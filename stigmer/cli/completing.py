"""Shell completion: kinds, object names, -o values, roles and explain paths.

typer calls these while the shell completes a word; each returns the
candidates that start with it. Names are read from the store as the
command's own global options would open it, read-only: completing never
creates a store or claims one, and any error completes nothing.

No ``from __future__ import annotations`` here: typer reads the annotations
to know what to pass (the context, the word being completed).
"""

import typer

from stigmer.errors import StigmerError

_EXTRA_KINDS = ("all",)  # get all


def complete_kind(ctx: typer.Context, incomplete: str) -> list[str]:
    """Kind names (``ag``, ``agents``...), or ``TYPE/NAME`` once a slash is typed."""
    from stigmer.api.kinds import cli_names

    if "/" in incomplete:
        word, _, start = incomplete.partition("/")
        return [f"{word}/{n}" for n in names(ctx, word) if n.startswith(start)]
    return [n for n in (*cli_names(), *_EXTRA_KINDS) if n.startswith(incomplete.lower())]


def complete_name(ctx: typer.Context, incomplete: str) -> list[str]:
    """The names (slugs) of the objects of the kind typed before, in the command's org."""
    kind = ctx.params.get("kind")
    if not isinstance(kind, str) or kind in _EXTRA_KINDS or "/" in kind:
        return []
    return [n for n in names(ctx, kind) if n.startswith(incomplete)]


def names(ctx: typer.Context, kind: str) -> list[str]:
    """The slugs of a kind's objects in the org the command line names; none on any error."""
    from stigmer.cli.state import State

    root = ctx.find_root()
    params = root.params
    st = State(
        data_dir=params.get("data_dir"),
        store_url=params.get("store"),
        org=params.get("org") or "local",
        user=params.get("user"),
    )
    if isinstance(root.obj, State) and root.obj.org_given:  # the command's own --org
        st.org = root.obj.org
    try:
        return sorted(o.metadata.slug for o in st.client(write=False).list(kind))
    except (StigmerError, OSError):
        return []
    finally:
        st.close()


def complete_output(incomplete: str) -> list[str]:
    from stigmer.cli.shaping import OUTPUTS

    return [o for o in OUTPUTS if o.startswith(incomplete)]


def complete_role(incomplete: str) -> list[str]:
    from stigmer.client import roles

    return [r for r in roles() if r.startswith(incomplete)]


def complete_explain(incomplete: str) -> list[str]:
    from stigmer.manifests.explaining import complete

    return complete(incomplete)
