"""Start-up stays light: ``get`` never imports what only apply or sync need."""

from __future__ import annotations

import importlib
import inspect
import os
import subprocess
import sys
from pathlib import Path

from stigmer.client import Client
from stigmer.store import open_store
from tests.factories import agent

HEAVY = (
    "jsonschema",
    "fastjsonschema",
    "watchfiles",
    "pydantic",
    "stigmer.reconcilers.running",
)
# What only writes, watches, label selectors or store copies need: reading
# one object by name and printing it loads none of these.
NOT_FOR_GET_ONE = (
    "stigmer.reconcilers.framework",
    "stigmer.reconcilers.events",
    "stigmer.reconcilers.authz",
    "stigmer.store.protocol",
    "stigmer.store.selectors",
    "google.protobuf.descriptor_pb2",  # printing a map field (labels) needs no options
)


# Every module a process has loaded when it exits. -X importtime would miss those
# loaded by importlib.import_module, as the generated schema checks and the public
# API's lazy exports are.
LOADED_AT_EXIT = """
import atexit, runpy, sys
atexit.register(lambda: print(*sorted(sys.modules), file=sys.stderr))
sys.argv[0] = "stigmer"
runpy.run_module("stigmer", run_name="__main__")
"""


def loaded_at_exit(*args: str, data_dir: Path) -> tuple[str, set[str]]:
    """What ``stigmer ARGS`` printed, and every module it had loaded when it exited."""
    env = dict(os.environ, STIGMER_DATA_DIR=str(data_dir))
    done = subprocess.run(
        [sys.executable, "-c", LOADED_AT_EXIT, *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout, set(done.stderr.split())


def test_get_imports_none_of_the_heavy_modules(data_dir: Path) -> None:
    Client(data_dir).close()  # an empty store, owned by this process's user
    _, modules = loaded_at_exit("get", "agents", "-o", "yaml", data_dir=data_dir)
    assert "stigmer.store.lmdbstore" in modules  # the measurement works
    assert not [m for m in modules if m.split(".")[0] in HEAVY or m in HEAVY]


def test_get_by_name_loads_only_what_reading_needs(data_dir: Path) -> None:
    store = open_store(data_dir)
    store.put(agent("agt-1", slug="bot", labels={"team": "a"}))
    Client(store).close()  # this process's user owns it
    store.close()
    printed, modules = loaded_at_exit("get", "agent", "bot", "-o", "yaml", data_dir=data_dir)
    assert "slug: bot" in printed
    assert "team: a" in printed  # a map field was printed
    assert not set(NOT_FOR_GET_ONE) & modules


def test_version_imports_neither_typer_nor_the_store(data_dir: Path) -> None:
    _, modules = loaded_at_exit("--version", data_dir=data_dir)
    assert "stigmer" in modules
    assert not {"typer", "lmdb", "google.protobuf", "yaml"} & modules


def test_command_annotations_are_objects_not_strings() -> None:
    """typer evaluates string annotations on every run; the command modules avoid them."""
    from stigmer.cli.app import COMMANDS, GROUPS, main

    callbacks = [main] + [getattr(importlib.import_module(m), a) for m, a in COMMANDS.values()]
    for module, attr in GROUPS.values():
        group = getattr(importlib.import_module(module), attr)
        callbacks += [c.callback for c in group.registered_commands]
        if group.registered_callback is not None:
            callbacks.append(group.registered_callback.callback)
    assert len(callbacks) > len(COMMANDS) + len(GROUPS)  # the groups' commands were found
    stringly = {
        f"{f.__module__}.{f.__qualname__}"
        for f in callbacks
        if any(isinstance(a, str) for a in inspect.get_annotations(f).values())
    }
    assert not stringly


def test_apply_uses_the_generated_checks_without_fastjsonschema(data_dir: Path) -> None:
    examples = Path(__file__).resolve().parents[2] / "manifests" / "examples"
    printed, modules = loaded_at_exit("apply", "-f", str(examples), data_dir=data_dir)
    assert "agent/code-reviewer created" in printed
    assert {"stigmer.manifests.checks.agent", "stigmer.manifests.checks.agentinstance"} <= modules
    assert not [m for m in modules if m.split(".")[0] == "fastjsonschema"]


def test_apply_loads_no_store_protocol(data_dir: Path) -> None:
    """The pipeline names the store's protocol types for type checking only."""
    examples = Path(__file__).resolve().parents[2] / "manifests" / "examples"
    printed, modules = loaded_at_exit("apply", "-f", str(examples), data_dir=data_dir)
    assert "agent/code-reviewer created" in printed
    assert "stigmer.reconcilers.running" in modules  # the measurement works
    assert "stigmer.store.protocol" not in modules


YAML_READER = """
import re, sys
import stigmer.manifests.yamlio, yaml
pattern = yaml.reader.Reader.NON_PRINTABLE
print(isinstance(pattern, re.Pattern))
try:
    yaml.load("a: \\x07", Loader=yaml.SafeLoader)
except yaml.reader.ReaderError as e:
    print(str(e).splitlines()[0])
print(pattern.search("ok\\x07").start())
"""


def test_yaml_pure_python_reader_pattern_is_compiled_on_first_use() -> None:
    """Importing our YAML module does not compile PyYAML's non-printable pattern
    (libyaml checks those characters; only PyYAML's pure-Python Reader uses it), and
    that Reader still refuses them."""
    done = subprocess.run(
        [sys.executable, "-c", YAML_READER], capture_output=True, text=True, check=True
    )
    assert done.stdout.splitlines() == [
        "False",
        "unacceptable character #x0007: special characters are not allowed",
        "2",
    ]
