"""What sync leaves out: ``.stigmerignore`` patterns, and other tools' YAML in the tree."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from stigmer.client import Client
from tests.gitops.test_sync import agent_slugs, write_agent
from tests.processes import start, stigmer, wait_until

KUSTOMIZATION = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: []\n"
CHART = "apiVersion: v2\nname: web\nversion: 0.1.0\n"
TEMPLATE = (
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n"
    "spec:\n  replicas: {{ .Values.replicas }}\n"
)
WORKFLOW = "name: ci\non: [push]\njobs: {}\n"
NOTICE = (
    "sync: skipped {}: not a Stigmer manifest "
    "(it names no Stigmer kind or apiVersion agentic.stigmer.ai/v1)"
)


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    """A repository with Stigmer manifests beside Kustomize, Helm and CI files."""
    repo = tmp_path / "repo"
    write_agent(repo / "agents" / "bot.yaml", "Bot")
    (repo / "kustomization.yaml").write_text(KUSTOMIZATION)
    chart = repo / "charts" / "web"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text(CHART)
    (chart / "values.yaml").write_text("replicas: 2\n")
    (chart / "templates" / "deployment.yaml").write_text(TEMPLATE)
    (repo / ".github" / "workflows").mkdir(parents=True)
    (repo / ".github" / "workflows" / "ci.yml").write_text(WORKFLOW)
    return repo


def test_other_tools_files_are_skipped_with_one_notice_each(mixed: Path, data_dir: Path) -> None:
    done = stigmer("sync", str(mixed), data_dir=data_dir)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "agents/bot.yaml: agent/bot created\n"
    assert done.stderr.splitlines() == [
        NOTICE.format(rel)
        for rel in (
            "charts/web/Chart.yaml",
            "charts/web/templates/deployment.yaml",
            "charts/web/values.yaml",
            "kustomization.yaml",
        )
    ]


def test_a_file_in_stigmer_s_group_is_still_validated_strictly(mixed: Path, data_dir: Path) -> None:
    (mixed / "typo.yaml").write_text(
        "apiVersion: agentic.stigmer.ai/v1\nkind: Agnet\nmetadata:\n  name: x\n"
    )
    (mixed / "broken.yaml").write_text("kind: Agent\nmetadata: {name: [\n")
    done = stigmer("sync", str(mixed), data_dir=data_dir)
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if not line.startswith("sync: skipped")]
    assert len(errors) == 2, done.stderr
    assert errors[0].startswith("broken.yaml:")
    assert errors[1].startswith("typo.yaml:2:")
    assert "Agnet" in errors[1]
    assert "bot" in agent_slugs(data_dir)  # the good file is applied all the same


def test_stigmerignore_leaves_matching_files_out_silently(mixed: Path, data_dir: Path) -> None:
    (mixed / ".stigmerignore").write_text(
        "# other tools' trees\ncharts/\nkustomization.yaml\n\n*.wip.yaml\n!keep.wip.yaml\ndrafts/\n"
    )
    write_agent(mixed / "half.wip.yaml", "Half")
    write_agent(mixed / "keep.wip.yaml", "Keep")
    write_agent(mixed / "agents" / "drafts" / "draft.yaml", "Draft")
    (mixed / "drafts").mkdir()
    (mixed / "drafts" / "broken.yaml").write_text("kind: Agent\nmetadata: {name: [\n")
    done = stigmer("sync", str(mixed), data_dir=data_dir)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert agent_slugs(data_dir) == {"bot", "keep"}


def test_an_ignored_file_s_objects_are_pruned_like_a_deleted_file_s(
    mixed: Path, data_dir: Path
) -> None:
    write_agent(mixed / "old.yaml", "Old")
    assert stigmer("sync", str(mixed), "--prune", data_dir=data_dir).returncode == 0
    assert "old" in agent_slugs(data_dir)
    (mixed / ".stigmerignore").write_text("old.yaml\n")
    done = stigmer("sync", str(mixed), "--prune", data_dir=data_dir)
    assert done.returncode == 0, done.stderr
    assert "agent/old pruned" in done.stdout
    assert agent_slugs(data_dir) == {"bot"}


def test_a_notice_is_told_once_per_syncer(mixed: Path, data_dir: Path) -> None:
    with Client(data_dir, actor="alice") as c:
        syncer = c.syncer(mixed)
        assert len(syncer.sync().skipped) == 4
        assert syncer.sync().skipped == []


def test_a_watcher_applies_a_new_stigmerignore_at_once(mixed: Path, data_dir: Path) -> None:
    """Writing .stigmerignore re-syncs the whole tree, with no resync tick in the window."""
    write_agent(mixed / "old.yaml", "Old")
    watcher = start("sync", str(mixed), "--watch", "--prune", "--resync", "3600", data_dir=data_dir)
    try:
        wait_until(
            lambda: (data_dir / "data.mdb").exists() and "old" in agent_slugs(data_dir),
            what="the first sync",
            proc=watcher,
        )
        (mixed / ".stigmerignore").write_text("old.yaml\n")
        wait_until(lambda: "old" not in agent_slugs(data_dir), what="the prune", proc=watcher)
        assert "bot" in agent_slugs(data_dir)
    finally:
        watcher.send_signal(signal.SIGINT)
        watcher.communicate(timeout=20)
