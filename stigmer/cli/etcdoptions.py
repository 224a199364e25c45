"""The global options of an etcd store: its TLS files and its user (``--store etcd://...``).

They reach the etcd backend through the environment it reads
(``STIGMER_ETCD_CA``, ``_CERT``, ``_KEY``, ``_USER`` and ``_PASSWORD``), so a
command that opens no etcd store pays nothing for them. The password is only
read from ``STIGMER_ETCD_PASSWORD``: on a command line every user of the
machine could read it in the process list.
"""

import os
from typing import Annotated

import typer

_PANEL = "etcd store"
EtcdCa = Annotated[
    str | None,
    typer.Option(
        "--etcd-ca", envvar="STIGMER_ETCD_CA", help="CA file of etcd's TLS.", rich_help_panel=_PANEL
    ),
]
EtcdCert = Annotated[
    str | None,
    typer.Option(
        "--etcd-cert",
        envvar="STIGMER_ETCD_CERT",
        help="Client certificate for etcd.",
        rich_help_panel=_PANEL,
    ),
]
EtcdKey = Annotated[
    str | None,
    typer.Option(
        "--etcd-key",
        envvar="STIGMER_ETCD_KEY",
        help="Key of the client certificate.",
        rich_help_panel=_PANEL,
    ),
]
EtcdUser = Annotated[
    str | None,
    typer.Option(
        "--etcd-user",
        envvar="STIGMER_ETCD_USER",
        help="etcd user (its password from STIGMER_ETCD_PASSWORD).",
        rich_help_panel=_PANEL,
    ),
]
VALUED = {"--etcd-ca", "--etcd-cert", "--etcd-key", "--etcd-user"}


def export(ca: str | None, cert: str | None, key: str | None, user: str | None) -> None:
    """Hands the options given to the etcd backend of this process."""
    for name, value in (("CA", ca), ("CERT", cert), ("KEY", key), ("USER", user)):
        if value:
            os.environ[f"STIGMER_ETCD_{name}"] = value
