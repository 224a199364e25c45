"""The global options of the remote mode: ``--server`` and how to authenticate to it.

With ``--server`` every command goes through the API server's gRPC (see
stigmer.remote); without, nothing here imports grpc. Like kubectl's
``--server``, a bare ``HOST:PORT`` (or ``grpc://``) is clear text, and
``https://`` or ``grpcs://`` is TLS verified with the system roots, or with
``--tls-ca``, which implies TLS. The token comes from ``--token``,
``STIGMER_TOKEN`` or ``--token-file``: a file keeps it out of the process list.
"""

from pathlib import Path
from typing import Annotated, NamedTuple

import typer

from stigmer.errors import UsageError

_PANEL = "API server (remote mode)"
Server = Annotated[
    str | None,
    typer.Option(
        "--server",
        envvar="STIGMER_SERVER",
        help="Send every command to this API server: HOST:PORT, or https://HOST:PORT for TLS.",
        rich_help_panel=_PANEL,
    ),
]
Token = Annotated[
    str | None,
    typer.Option(
        "--token",
        envvar="STIGMER_TOKEN",
        help="Bearer token for --server (stigmer iam token create USER).",
        rich_help_panel=_PANEL,
    ),
]
TokenFile = Annotated[
    Path | None,
    typer.Option(
        "--token-file",
        envvar="STIGMER_TOKEN_FILE",
        help="File holding the bearer token for --server.",
        rich_help_panel=_PANEL,
    ),
]
TlsCa = Annotated[
    Path | None,
    typer.Option(
        "--tls-ca",
        envvar="STIGMER_TLS_CA",
        help="CA file to verify the server's TLS (implies TLS) [system roots].",
        rich_help_panel=_PANEL,
    ),
]
VALUED = {"--server", "--token", "--token-file", "--tls-ca"}


# A NamedTuple, not a frozen dataclass: every command imports this module, and making a
# frozen dataclass costs some 3.6 M instructions, a NamedTuple 0.7 M (bench/README.md, wave 6).
class Remote(NamedTuple):
    """Where the commands go, and as whom."""

    server: str
    token: str | None
    tls_ca: Path | None


def remote(
    server: str | None,
    token: str | None,
    token_file: Path | None,
    tls_ca: Path | None,
    *,
    typed: bool = True,
) -> Remote | None:
    """The remote mode the options ask for, or None (local); a UsageError if they clash.

    ``typed``: whether --token-file or --tls-ca was typed on the command line.
    Without a server only typed ones are an error: as STIGMER_TOKEN, the
    environment's STIGMER_TOKEN_FILE and STIGMER_TLS_CA wait for a server, so a
    shell that exports them still runs local commands.
    """
    if not server:
        if typed and (token_file is not None or tls_ca is not None):
            raise UsageError("--token-file and --tls-ca go with --server")
        return None
    if token is None and token_file is not None:
        try:
            token = token_file.read_text().strip()
        except OSError as e:
            raise UsageError(f"--token-file {token_file}: {e.strerror or e}") from None
        if not token:
            raise UsageError(f"--token-file {token_file} is empty")
    return Remote(server, token or None, tls_ca)
