"""A real ``stigmer serve`` on a free loopback port, and clients built from the protos."""

from __future__ import annotations

import importlib.util
import os
import queue
import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import grpc
import pytest

from stigmer import tokens
from stigmer.api.v1.agent_pb2 import Agent
from stigmer.client import Client
from tests.processes import ROOT, env_for
from tests.rerunning import program

PROTOS = ROOT / "protos"
LISTENING = re.compile(r"API listening on (\S+)")


@dataclass
class Server:
    """One running ``stigmer serve`` process and what it printed."""

    proc: subprocess.Popen[str]
    address: str
    data_dir: Path
    stderr: list[str] = field(default_factory=list)
    pump: threading.Thread | None = None

    def channel(self) -> grpc.Channel:
        return grpc.insecure_channel(self.address)

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()  # a failing test leaves no serve behind to load the machine
            self.proc.wait()
            raise
        if self.pump is not None:
            self.pump.join(timeout=10)
        if self.proc.stderr is not None:
            self.proc.stderr.close()
        return code


def start_server(
    data_dir: Path,
    *args: str,
    user: str = "alice",
    listen: str = "127.0.0.1:0",
    store: str | None = None,
) -> Server:
    """Starts serve with the API on a free port; returns once it listens."""
    env = env_for(data_dir, user)
    env.pop("STIGMER_LISTEN", None)
    proc = subprocess.Popen(
        [*program(), *(["--store", store] if store else []), "serve", "--listen", listen, *args],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    seen: list[str] = []

    def pump() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            seen.append(line)
            lines.put(line)
        lines.put("")

    thread = threading.Thread(target=pump, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=1)
        except queue.Empty:
            continue
        if not line:
            break
        if match := LISTENING.search(line):
            return Server(proc, match[1], data_dir, seen, thread)
    proc.kill()
    proc.wait()
    thread.join(timeout=10)
    assert proc.stderr is not None
    proc.stderr.close()
    raise AssertionError("serve did not start its API:\n" + "".join(seen))


@pytest.fixture
def owned(data_dir: Path) -> Path:
    """A store that alice owns (admin of every org)."""
    Client(data_dir, actor="alice").close()
    return data_dir


@pytest.fixture
def server(owned: Path) -> Iterator[Server]:
    """serve as alice, with no anonymous user: every call needs a token."""
    s = start_server(owned)
    yield s
    s.stop(signal.SIGKILL)


def make_token(
    data_dir: Path, user: str, *, created: float | None = None, ttl: int | None = None
) -> str:
    """A token for ``user``, as ``iam token create`` makes it (``created`` may lie in the past)."""
    with Client(data_dir, actor="alice") as c:
        when = time.time() if created is None else created
        return c.store.transact(lambda t: tokens.create(t, user, now=when, ttl=ttl))


def bearer(token: str) -> tuple[tuple[str, str]]:
    return (("authorization", f"Bearer {token}"),)


def compile_stubs(out: Path, *protos: Path, include: Path = PROTOS) -> None:
    """protoc with --python_out and --grpc_python_out, as upstream builds its clients."""
    import grpc_tools
    from grpc_tools import protoc

    tools_include = Path(grpc_tools.__file__).parent / "_proto"
    args = [
        "protoc",
        f"-I{include}",
        f"-I{tools_include}",
        f"--python_out={out}",
        f"--grpc_python_out={out}",
        *(str(p.relative_to(include)) for p in protos),
    ]
    assert protoc.main(args) == 0


def load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class Stubs:
    """The generated service stubs of our protos (the messages are stigmer.api.v1's)."""

    agent: ModuleType
    instance: ModuleType


def service_stubs(out: Path, *keys: str) -> list[ModuleType]:
    """The gRPC stubs of protos/stigmer/api/v1/<key>_service.proto for each key, built in out."""
    v1 = PROTOS / "stigmer" / "api" / "v1"
    compile_stubs(out, *(v1 / f"{key}_service.proto" for key in keys))
    built = out / "stigmer" / "api" / "v1"
    return [load(f"{key}_service_pb2_grpc", built / f"{key}_service_pb2_grpc.py") for key in keys]


@pytest.fixture(scope="session")
def stubs(tmp_path_factory: pytest.TempPathFactory) -> Stubs:
    return Stubs(*service_stubs(tmp_path_factory.mktemp("stubs"), "agent", "agent_instance"))


def new_agent(
    name: str, *, org: str = "", instructions: str = "You answer like a pirate."
) -> Agent:
    a = Agent(api_version="agentic.stigmer.ai/v1", kind="Agent")
    a.metadata.name = name
    if org:
        a.metadata.org = org
    a.spec.instructions = instructions
    return a


def code_of(call: Callable[[], Any]) -> tuple[grpc.StatusCode, str]:
    """The status code and details of a call that fails."""
    try:
        call()
    except grpc.RpcError as e:
        return e.code(), e.details()
    raise AssertionError("the call succeeded")


def free_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("STIGMER_LISTEN", None)
    return env
