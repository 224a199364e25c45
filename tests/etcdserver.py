"""A real etcd for the tests: Debian's etcd-server on free loopback ports, its data in /dev/shm.

Outside CI the etcd tests skip, saying why, when the binary is missing; under
``CI=true`` they never skip (``.ci/run`` installs it). Each server is stopped
by its PID, never by name.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

ETCD = shutil.which("etcd") or ""
MISSING = "etcd is not installed (apt-get install etcd-server); CI=true runs these tests"


def require_etcd() -> None:
    """Skips the calling test when etcd is missing, unless under CI, where that fails."""
    if ETCD:
        return
    if os.environ.get("CI") == "true":
        pytest.fail("CI=true, but etcd is not installed: .ci/run installs etcd-server")
    pytest.skip(MISSING)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class EtcdServer:
    """One etcd process; ``url(prefix)`` names a store in it."""

    def __init__(self) -> None:
        shm = Path("/dev/shm")
        base = shm if shm.is_dir() and os.access(shm, os.W_OK) else Path(tempfile.gettempdir())
        self.data_dir = Path(tempfile.mkdtemp(prefix="stigmer-etcd-", dir=base))
        self.port, self.peer = free_port(), free_port()
        self.pid = 0

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    def url(self, prefix: str = "") -> str:
        return f"etcd://{self.endpoint}/{prefix or 't-' + uuid.uuid4().hex[:12]}"

    def start(self) -> None:
        client, peer = f"http://{self.endpoint}", f"http://127.0.0.1:{self.peer}"
        args = [
            "--name", "stigmer-test",
            "--data-dir", str(self.data_dir),
            "--listen-client-urls", client,
            "--advertise-client-urls", client,
            "--listen-peer-urls", peer,
            "--initial-advertise-peer-urls", peer,
            "--initial-cluster", f"stigmer-test={peer}",
        ]  # fmt: skip
        # Started by a shell that exits at once, so etcd is no child of the test
        # process: tests that count their own children do not see it.
        started = subprocess.run(
            ["sh", "-c", '"$@" </dev/null >/dev/null 2>&1 & echo $!', "sh", ETCD, *args],
            capture_output=True,
            text=True,
            check=True,
        )
        self.pid = int(started.stdout)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{client}/health", timeout=1) as reply:
                    if b"true" in reply.read():
                        return
            except OSError:
                pass
            if not self.running():
                raise RuntimeError("etcd exited at its start")
            time.sleep(0.05)
        raise RuntimeError("etcd did not become healthy in 20 s")

    def running(self) -> bool:
        """Whether the process lives (a zombie that init has not reaped yet does not)."""
        try:
            stat = Path(f"/proc/{self.pid}/stat").read_text()
        except OSError:
            return False
        return stat.rsplit(")", 1)[1].split()[0] != "Z"

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.pid and self.running():
            os.kill(self.pid, sig)
            deadline = time.monotonic() + 30
            while self.running() and time.monotonic() < deadline:
                time.sleep(0.02)
        self.pid = 0

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.data_dir, ignore_errors=True)
