"""Replicas of ``stigmer serve --store etcd://...``: one leads, the others wait their turn.

Each replica serves /healthz (naming the leader) and /metrics (the gauge
``stigmer_leader``) from its start. SIGTERM makes a leader resign at once, so a
waiting replica takes over within its retry period, not after the lease.
"""

from __future__ import annotations

import re
import signal
import subprocess
import urllib.request
from pathlib import Path

from tests.etcdserver import EtcdServer, free_port
from tests.processes import start, stigmer, wait_until


def _get(port: int, path: str) -> str:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as r:
            return str(r.read().decode())
    except OSError:
        return ""


def _replica(url: str, port: int, data_dir: Path) -> subprocess.Popen[str]:
    return start("--store", url, "serve", "--health-port", str(port), data_dir=data_dir)


def test_two_replicas_one_leads_and_a_sigterm_hands_over_at_once(
    etcd_server: EtcdServer, data_dir: Path
) -> None:
    url, ports = etcd_server.url(), (free_port(), free_port())
    first = _replica(url, ports[0], data_dir)
    second: subprocess.Popen[str] | None = None
    try:
        leads = f"leader: pid {first.pid} on "
        wait_until(
            lambda: leads in _get(ports[0], "/healthz"), what="the first to lead", proc=first
        )
        second = _replica(url, ports[1], data_dir)
        wait_until(
            lambda: leads in _get(ports[1], "/healthz"), what="the second's health", proc=second
        )
        assert re.search(r"^stigmer_leader 1$", _get(ports[0], "/metrics"), re.M)
        assert re.search(r"^stigmer_leader 0$", _get(ports[1], "/metrics"), re.M)
        applied = stigmer(
            "--store",
            url,
            "agent",
            "create",
            "Replica Bot",
            "--instructions",
            "Help across replicas.",
            data_dir=data_dir,
        )
        assert applied.returncode == 0, applied.stderr

        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=30) == 0
        takes = f"leader: pid {second.pid} on "
        # A resign deletes the key: the second takes over within its 2 s retry, not the 15 s lease.
        wait_until(
            lambda: takes in _get(ports[1], "/healthz"),
            timeout=10,
            what="the handover",
            proc=second,
        )
        assert re.search(r"^stigmer_leader 1$", _get(ports[1], "/metrics"), re.M)
        got = stigmer("--store", url, "get", "agents", data_dir=data_dir)
        assert "replica-bot" in got.stdout, got.stderr
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
            if proc is not None:
                proc.communicate()
