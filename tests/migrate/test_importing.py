"""Importing an upstream Stigmer database, through the library (stigmer.migrate.importing)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest

from stigmer.api import kinds
from stigmer.api.kinds import Resource
from stigmer.api.v1.agent_instance_pb2 import AgentInstance
from stigmer.api.v1.agent_pb2 import Agent
from stigmer.client import Client
from stigmer.errors import StoreError
from stigmer.migrate import importing
from stigmer.migrate.importing import Entry, Report
from stigmer.reconcilers.conditions import get_condition
from stigmer.reconcilers.running import Session
from stigmer.store import Store, WriteTxn, open_store
from stigmer.store.protocol import RevisionRecord
from tests.factories import as_agent, as_instance
from tests.migrate.conftest import Import
from tests.migrate.upstream import (
    UpstreamDb,
    agent_with_default,
    upstream_agent,
    upstream_instance,
)
from tests.reconcilers.helpers import assert_converged, new_agent
from tests.test_protos import UPSTREAM_AGENT, audit_info, f_bytes, f_varint, msg

T = TypeVar("T")
SECRET = "sk-live-0123456789"


def by_id(report: Report) -> dict[str, Entry]:
    return {e.id: e for e in report.entries}


def outcomes(report: Report) -> dict[str, str]:
    return {e.id: e.outcome for e in report.entries}


def entries_created(report: Report) -> list[Entry]:
    return [e for e in report.entries if e.outcome == "created"]


def upstream_fields(obj: Resource) -> bytes:
    """The object's upstream fields only (numbers below 100), deterministically encoded."""
    copy = kinds.clone(obj)
    for name in ("generation", "resource_version", "owner_references"):
        copy.metadata.ClearField(name)
    for name in ("observed_generation", "conditions"):
        copy.status.ClearField(name)
    return copy.SerializeToString(deterministic=True)


def ready(obj: Resource) -> tuple[str, str]:
    cond = get_condition(obj.status, "Ready")
    assert cond is not None
    return cond.status, cond.reason


# -- what comes in, and how -------------------------------------------------------


def test_agents_and_instances_come_in_as_upstream_wrote_them_and_converge(
    upstream: UpstreamDb, run_import: Import, lmdb_store: Store
) -> None:
    with_default, its_instance = agent_with_default(1)
    lonely = upstream_agent("agt-lonely", "Lonely", labels={"team": "platform"})
    upstream.add(with_default, its_instance, lonely)

    report = run_import()

    assert report.ok
    entries = by_id(report)
    assert outcomes(report) == {
        with_default.metadata.id: "imported",
        its_instance.metadata.id: "imported",
        "agt-lonely": "imported",
        entries_created(report)[0].id: "created",
    }
    assert entries["agt-lonely"].notes == [
        'no default instance "lonely-default"; the reconcile creates one'
    ]
    assert entries[with_default.metadata.id].notes == []
    stored = lmdb_store.get("agent", with_default.metadata.id)
    assert upstream_fields(stored) == upstream_fields(with_default)  # ids, slugs, spec, status...
    assert stored.metadata.generation == 1
    inst = lmdb_store.get("agent_instance", its_instance.metadata.id)
    assert upstream_fields(inst) == upstream_fields(its_instance)
    assert [(r.id, r.controller) for r in inst.metadata.owner_references] == [
        (with_default.metadata.id, True)
    ]
    stored_lonely = lmdb_store.get("agent", "agt-lonely")
    assert isinstance(stored_lonely, Agent)
    created = lmdb_store.get_by_slug("agent_instance", "acme", "lonely-default")
    assert stored_lonely.status.default_instance_id == created.metadata.id
    assert stored_lonely.status.audit == lonely.status.audit
    assert dict(stored_lonely.metadata.labels) == {"team": "platform"}
    assert_converged(lmdb_store)


RAW_AGENT_ID = "agt-01arz3ndektsv4rrffq69g5fav"
RAW_INSTANCE_ID = "ain-01arz3ndektsv4rrffq69g5fav"  # the raw agent's default_instance_id
RAW_INSTANCE = msg(
    f_bytes(1, "agentic.stigmer.ai/v1"),
    f_bytes(2, "AgentInstance"),
    f_bytes(
        3,
        msg(
            f_bytes(1, "Code Reviewer-default"),
            f_bytes(2, "code-reviewer-default"),
            f_bytes(3, RAW_INSTANCE_ID),
            f_bytes(4, "acme"),
            f_varint(5, 2),
        ),
    ),
    f_bytes(
        4,
        msg(
            f_bytes(1, RAW_AGENT_ID),
            f_bytes(2, "Default instance (auto-created, no custom configuration)"),
        ),
    ),
    f_bytes(5, f_bytes(99, f_bytes(1, audit_info("alice", "created")))),
)


def test_an_agent_whose_default_instance_is_gone_gets_a_new_one(
    upstream: UpstreamDb, run_import: Import, lmdb_store: Store
) -> None:
    agent, _ = agent_with_default(1)  # its default instance was lost upstream
    upstream.add(agent)

    report = run_import()

    assert report.ok
    assert by_id(report)[agent.metadata.id].notes == [
        f'no default instance "agent-1-default"; the reconcile creates one in place of '
        f"{agent.status.default_instance_id}"
    ]
    (created,) = entries_created(report)
    stored = lmdb_store.get("agent", agent.metadata.id)
    assert isinstance(stored, Agent)
    assert stored.status.default_instance_id == created.id != agent.status.default_instance_id
    assert_converged(lmdb_store)


def test_hand_encoded_upstream_rows_come_in_field_for_field(
    upstream: UpstreamDb, run_import: Import, lmdb_store: Store
) -> None:
    upstream.add_raw("agent", RAW_AGENT_ID, UPSTREAM_AGENT)
    upstream.add_raw("agent_instance", RAW_INSTANCE_ID, RAW_INSTANCE)

    report = run_import()

    assert report.ok and outcomes(report) == {
        RAW_AGENT_ID: "imported",
        RAW_INSTANCE_ID: "imported",
    }
    agent = lmdb_store.get("agent", RAW_AGENT_ID)
    assert upstream_fields(agent) == UPSTREAM_AGENT  # not one upstream byte changed
    assert upstream_fields(lmdb_store.get("agent_instance", RAW_INSTANCE_ID)) == RAW_INSTANCE
    assert_converged(lmdb_store)


def test_secrets_come_in_unchanged_and_stay_out_of_the_report(
    upstream: UpstreamDb, run_import: Import, lmdb_store: Store
) -> None:
    agent, inst = agent_with_default(1)
    secretive = upstream_agent("agt-secret", "Keeper", secret=SECRET)
    broken = upstream_agent("agt-broken", "Broken", secret=SECRET, instructions="short")
    upstream.add(agent, inst, secretive, broken)

    report = run_import()

    stored = lmdb_store.get("agent", "agt-secret")
    assert isinstance(stored, Agent)
    assert stored.spec.env_spec.data["API_KEY"].value == SECRET
    assert stored.spec.mcp_servers[0].http.headers["Authorization"] == f"Bearer {SECRET}"
    assert stored.spec == secretive.spec
    text = repr(report)
    assert SECRET not in text
    assert by_id(report)["agt-broken"].outcome == "skipped"


def test_unicode_and_empty_org_and_slug_are_filled_in_and_named(
    upstream: UpstreamDb, run_import: Import, lmdb_store: Store
) -> None:
    agent = upstream_agent("agt-uni", "Agent 你好", org="", slug="", labels={"région": "île ✓"})
    agent.metadata.annotations["note"] = "ünïcode ✓ 你好"
    agent.spec.instructions = "Réponds en français, s'il te plaît. 你好!"
    upstream.add(agent)

    report = run_import()

    assert report.ok
    assert by_id(report)["agt-uni"].notes[:2] == [
        'org was empty: set to "local"',
        'slug was empty: derived "agent" from the name',
    ]
    stored = lmdb_store.get_by_slug("agent", "local", "agent")
    assert stored.metadata.id == "agt-uni" and stored.metadata.name == "Agent 你好"
    assert dict(stored.metadata.labels) == {"région": "île ✓"}
    assert stored.metadata.annotations["note"] == "ünïcode ✓ 你好"
    assert stored.spec == agent.spec
    assert_converged(lmdb_store)


# -- what is not clean -------------------------------------------------------------


def test_an_orphaned_instance_is_imported_and_named(
    upstream: UpstreamDb, run_import: Import, lmdb_store: Store
) -> None:
    upstream.add(upstream_instance("ain-orphan", "agt-gone", slug="left"))

    report = run_import()

    assert report.ok
    (entry,) = report.entries
    assert (entry.outcome, entry.slug, entry.org) == ("imported", "left", "acme")
    assert entry.notes == ['orphaned: its agent "agt-gone" is not found in org "acme"']
    orphan = as_instance(lmdb_store.get("agent_instance", "ain-orphan"))
    assert ready(orphan) == ("False", "AgentNotFound")
    assert orphan.spec.agent_id == "agt-gone"
    assert lmdb_store.check() == []


def test_the_instance_of_a_skipped_agent_is_imported_as_an_orphan(
    upstream: UpstreamDb, run_import: Import, lmdb_store: Store
) -> None:
    agent, inst = agent_with_default(1)
    agent.spec.instructions = "too short"
    upstream.add(agent, inst)

    report = run_import()

    assert not report.ok
    entries = by_id(report)
    assert entries[agent.metadata.id].outcome == "skipped"
    assert entries[agent.metadata.id].error.startswith("spec.instructions: ")
    assert entries[inst.metadata.id].outcome == "imported"
    assert entries[inst.metadata.id].notes == [
        f'orphaned: its agent "{agent.metadata.id}" was skipped'
    ]
    assert lmdb_store.list("agent") == []


def test_a_duplicate_slug_in_one_org_is_renamed_with_its_default_instance(
    upstream: UpstreamDb, run_import: Import, lmdb_store: Store
) -> None:
    first, first_default = agent_with_default(1)
    second, second_default = agent_with_default(2)
    elsewhere, elsewhere_default = agent_with_default(3, org="globex")
    for agent in (first, second, elsewhere):
        agent.metadata.slug = "bot"
    for inst in (first_default, second_default, elsewhere_default):
        inst.metadata.slug = "bot-default"
    upstream.add(first, first_default, second, second_default, elsewhere, elsewhere_default)

    report = run_import()

    assert report.ok and entries_created(report) == []
    entries = by_id(report)
    assert entries[second.metadata.id].slug == "bot-2"
    assert entries[second.metadata.id].notes == [
        f'renamed from "bot": that slug is taken in org "acme" by {first.metadata.id}'
    ]
    assert entries[second_default.metadata.id].slug == "bot-2-default"
    assert entries[second_default.metadata.id].notes == [
        'renamed from "bot-default" to follow its agent\'s new slug'
    ]
    assert entries[first.metadata.id].notes == entries[elsewhere.metadata.id].notes == []
    renamed = lmdb_store.get_by_slug("agent", "acme", "bot-2")
    assert isinstance(renamed, Agent)
    assert renamed.metadata.id == second.metadata.id
    assert renamed.status.default_instance_id == second_default.metadata.id  # adopted, kept
    assert lmdb_store.get_by_slug("agent", "globex", "bot").metadata.id == elsewhere.metadata.id
    assert_converged(lmdb_store)


def test_a_slug_taken_here_renames_the_imported_object(
    upstream: UpstreamDb, run_import: Import, lmdb_store: Store
) -> None:
    with Client(lmdb_store, actor="alice") as client:
        (mine,) = client.apply([new_agent("Agent 1", org="acme")])
    agent, inst = agent_with_default(1)
    upstream.add(agent, inst)

    report = run_import()

    assert mine.object is not None
    assert by_id(report)[agent.metadata.id].notes == [
        f'renamed from "agent-1": that slug is taken in org "acme" by {mine.object.metadata.id}'
    ]
    assert by_id(report)[inst.metadata.id].slug == "agent-1-2-default"
    assert_converged(lmdb_store)


def test_rows_that_cannot_come_in_are_skipped_with_the_reason(
    upstream: UpstreamDb, run_import: Import, lmdb_store: Store
) -> None:
    upstream.add_raw("agent", "agt-junk", b"\xff\xff\xff\xff")
    upstream.add_raw("agent", "agt-json", '{"kind": "Agent"}')
    upstream.add_raw("agent", "agt-row", upstream_agent("agt-other", "Other").SerializeToString())
    upstream.add(
        upstream_agent("agt-short", "Short", instructions="too short"),
        upstream_agent("agt-org", "Org", org="Acme_Corp"),
        upstream_agent("agt-noname", "", slug=""),
        upstream_agent("agt-fine", "Fine"),
    )

    report = run_import()

    assert not report.ok
    errors = {e.id: e.error for e in report.entries if e.outcome == "skipped"}
    assert errors.keys() == {
        "agt-junk",
        "agt-json",
        "agt-row",
        "agt-short",
        "agt-org",
        "agt-noname",
    }
    assert errors["agt-junk"].startswith("cannot decode the protobuf")
    assert errors["agt-json"] == "data is str, not binary protobuf"
    assert errors["agt-row"] == "the row's id 'agt-row' holds an object with id 'agt-other'"
    assert errors["agt-short"].startswith("spec.instructions: ")
    assert errors["agt-org"].startswith("metadata.org: ")
    assert "yields an empty slug" in errors["agt-noname"]
    assert [a.metadata.id for a in lmdb_store.list("agent")] == ["agt-fine"]
    assert_converged(lmdb_store)


def test_rows_past_a_limit_are_skipped_before_the_store_sees_them(
    upstream: UpstreamDb, run_import: Import, lmdb_store: Store
) -> None:
    forged = upstream_agent("agt-forged", "Forged", labels={"team\nfake": "x"})
    upstream.add(
        upstream_agent("agt-slug", "Slug", slug="s" * 100_000),
        upstream_agent("agt-name", "n" * 300, slug="name"),
        forged,
        upstream_agent("agt-unicode", "Unicode", labels={"région": "île ✓"}),
    )

    report = run_import()

    errors = {e.id: e.error for e in report.entries if e.outcome == "skipped"}
    assert errors == {
        "agt-slug": "metadata.slug: must be at most 63 characters",
        "agt-name": "metadata.name: must be at most 253 characters",
        "agt-forged": 'metadata.labels["team\\nfake"]: key must not contain control characters '
        "or bidi overrides (U+000A at character 5)",
    }
    assert [a.metadata.id for a in lmdb_store.list("agent")] == ["agt-unicode"]


def test_a_reconcile_that_fails_is_named(
    upstream: UpstreamDb, run_import: Import, lmdb_store: Store
) -> None:
    bot = upstream_agent("agt-bot", "Bot")
    other, _ = agent_with_default(2)
    squatter = upstream_instance("ain-squat", other, slug="bot-default")  # bot's default slug
    upstream.add(bot, other, squatter)

    report = run_import()

    assert not report.ok
    entry = by_id(report)["agt-bot"]
    assert entry.outcome == "imported"
    assert entry.error.startswith('reconcile failed: agentinstance "bot-default" in org "acme"')


def test_other_kinds_are_named_not_imported_and_the_version_history_counted(
    upstream: UpstreamDb, run_import: Import, lmdb_store: Store
) -> None:
    agent, inst = agent_with_default(1)
    upstream.add(agent, inst)
    upstream.archive(agent, tag="v1")
    upstream.archive(agent)
    upstream.add_raw("workflow", "wfl-1", b"\x0a\x01x")
    upstream.add_raw("workflow", "wfl-2", b"\x0a\x01y")
    upstream.add_raw("session", "ses-1", b"")

    report = run_import()

    known = "environments, skills, mcpservers, agents, agentinstances"
    assert report.ok and report.schema_version == 2
    assert report.notes == [
        f'1 row of kind "session" not imported: only {known} are',
        f'2 rows of kind "workflow" not imported: only {known} are',
        "2 rows of version history (resource_audit) imported as history",
    ]
    assert lmdb_store.count("agent") == 1


# -- idempotency, updates, dry run ---------------------------------------------------


def test_a_second_run_changes_nothing(
    upstream: UpstreamDb, run_import: Import, lmdb_store: Store
) -> None:
    agent, inst = agent_with_default(1)
    upstream.add(agent, inst, upstream_agent("agt-lonely", "Lonely"))
    upstream.add(upstream_instance("ain-orphan", "agt-gone", slug="left"))
    run_import()
    revision, events = lmdb_store.revision(), lmdb_store.events_since(0)
    records = list(lmdb_store.records())

    again = run_import()

    assert again.ok
    assert set(outcomes(again).values()) == {"unchanged"}
    assert lmdb_store.revision() == revision
    assert lmdb_store.events_since(0) == events
    assert list(lmdb_store.records()) == records  # meta and tuples too


def test_a_row_changed_upstream_updates_what_upstream_owns(
    upstream: UpstreamDb, run_import: Import, lmdb_store: Store
) -> None:
    first, first_default = agent_with_default(1)
    second, second_default = agent_with_default(2)
    second.metadata.slug, second_default.metadata.slug = first.metadata.slug, "agent-1-default"
    upstream.add(first, first_default, second, second_default)
    run_import()
    before = lmdb_store.get("agent", second.metadata.id)
    second.spec.instructions = "You now review only Go code, carefully."
    second.metadata.labels["lang"] = "go"
    second.status.audit.spec_audit.event = "updated"
    upstream.add(second)

    report = run_import()

    assert outcomes(report)[second.metadata.id] == "updated"
    assert {o for i, o in outcomes(report).items() if i != second.metadata.id} == {"unchanged"}
    after = lmdb_store.get("agent", second.metadata.id)
    assert isinstance(after, Agent) and isinstance(before, Agent)
    assert after.metadata.slug == "agent-1-2"  # the slug it got here stays
    assert after.spec.instructions == "You now review only Go code, carefully."
    assert after.metadata.labels["lang"] == "go"
    assert after.metadata.generation == 2
    assert after.status.default_instance_id == before.status.default_instance_id
    assert after.status.audit.spec_audit.event == "updated"
    assert_converged(lmdb_store)
    revision = lmdb_store.revision()
    assert set(outcomes(run_import()).values()) == {"unchanged"}
    assert lmdb_store.revision() == revision


def test_an_edit_made_here_survives_another_run(
    upstream: UpstreamDb, run_import: Import, lmdb_store: Store
) -> None:
    agent, inst = agent_with_default(1)
    upstream.add(agent, inst)
    run_import()
    with Client(lmdb_store, actor="alice") as client:
        edited = new_agent("Agent 1", org="acme", instructions="Edited here, after the import.")
        (result,) = client.apply([edited])
    assert result.outcome == "configured"

    report = run_import()

    assert set(outcomes(report).values()) == {"unchanged"}
    stored = as_agent(lmdb_store.get("agent", agent.metadata.id))
    assert stored.spec.instructions == "Edited here, after the import."


def test_an_object_deleted_here_is_imported_again(
    upstream: UpstreamDb, run_import: Import, lmdb_store: Store
) -> None:
    agent, inst = agent_with_default(1)
    upstream.add(agent, inst)
    run_import()
    with Client(lmdb_store, actor="alice") as client:
        client.delete("agent", "agent-1", org="acme")

    report = run_import()

    assert outcomes(report) == {agent.metadata.id: "imported", inst.metadata.id: "imported"}
    assert_converged(lmdb_store)


def test_a_dry_run_says_what_would_happen_and_writes_nothing(
    upstream: UpstreamDb, run_import: Import, lmdb_store: Store
) -> None:
    agent, inst = agent_with_default(1)
    upstream.add(agent, inst, upstream_agent("agt-lonely", "Lonely"))

    planned = run_import(dry_run=True)

    assert planned.dry_run and planned.ok
    assert outcomes(planned) == {
        agent.metadata.id: "imported",
        inst.metadata.id: "imported",
        "agt-lonely": "imported",
    }
    assert by_id(planned)["agt-lonely"].notes == [
        'no default instance "lonely-default"; the reconcile creates one'
    ]
    assert list(lmdb_store.records()) == [RevisionRecord(0)]  # not even meta
    done = run_import()
    assert [(e.id, e.outcome, e.notes) for e in done.entries[:3]] == [
        (e.id, e.outcome, e.notes) for e in planned.entries
    ]


def test_a_thousand_rows_in_chunks(
    upstream: UpstreamDb, run_import: Import, lmdb_store: Store
) -> None:
    rows: list[Resource] = []
    for n in range(400):
        rows += agent_with_default(n, org=f"org{n % 7}")
    rows += [upstream_agent(f"agt-bare-{n:04d}", f"Bare {n}") for n in range(150)]
    rows += [upstream_instance(f"ain-orphan-{n:04d}", f"agt-gone-{n}") for n in range(50)]
    for n, row in enumerate(rows[-50:]):
        row.metadata.slug = f"orphan-{n}"
    assert len(rows) == 1000
    upstream.add(*rows)

    report = run_import(chunk=300)

    assert report.ok
    assert report.count("imported") == 1000 and report.count("created") == 150
    assert sum(1 for e in report.entries if e.notes and e.notes[0].startswith("orphaned")) == 50
    assert lmdb_store.count("agent") == 550 and lmdb_store.count("agent_instance") == 600
    assert_converged(lmdb_store)
    revision = lmdb_store.revision()
    assert run_import(chunk=300).count("unchanged") == 1000
    assert lmdb_store.revision() == revision


# -- the source file ---------------------------------------------------------------


@pytest.mark.parametrize("wal", [False, True])
def test_the_source_is_read_only_and_left_unchanged(
    tmp_path: Path, lmdb_store: Store, wal: bool
) -> None:
    db = UpstreamDb(tmp_path / "stigmer.db", wal=wal)
    agent, inst = agent_with_default(1)
    db.add(agent, inst, upstream_agent("agt-lonely", "Lonely"))
    before = db.fingerprint()

    report = importing.import_upstream(lmdb_store, db.path, session=Session("alice"))

    assert report.ok and lmdb_store.count("agent") == 2
    assert db.fingerprint() == before


def test_the_source_connection_cannot_write(upstream: UpstreamDb) -> None:
    db = importing._connect(upstream.path)
    try:
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            db.execute("DELETE FROM resources")
    finally:
        db.close()


def test_a_read_only_source_file_imports(
    upstream: UpstreamDb, run_import: Import, lmdb_store: Store
) -> None:
    upstream.add(*agent_with_default(1))
    upstream.path.chmod(0o400)
    assert run_import().ok
    assert lmdb_store.count("agent") == 1


def test_a_file_that_is_not_sqlite_is_a_clear_error(tmp_path: Path, lmdb_store: Store) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(b"these are notes, not a database\n" * 100)
    with pytest.raises(StoreError, match=r"notes.txt is not an SQLite database"):
        importing.import_upstream(lmdb_store, path, session=Session("alice"))
    assert lmdb_store.revision() == 0


@pytest.mark.parametrize("ddl", ["", "CREATE TABLE other (a)"])
def test_a_database_without_the_resources_table_is_a_clear_error(
    tmp_path: Path, lmdb_store: Store, ddl: str
) -> None:
    path = tmp_path / "other.db"
    db = sqlite3.connect(path)
    if ddl:
        db.execute(ddl)
    db.close()
    with pytest.raises(StoreError, match=r'without a "resources" table, so not an upstream'):
        importing.import_upstream(lmdb_store, path, session=Session("alice"))


def test_a_missing_file_and_a_stigmer_store_are_clear_errors(
    tmp_path: Path, lmdb_store: Store
) -> None:
    with pytest.raises(StoreError, match=r"nope.db: no such file.*~/.stigmer/stigmer.db"):
        importing.import_upstream(lmdb_store, tmp_path / "nope.db", session=Session("alice"))
    ours = open_store(f"sqlite:{tmp_path / 'ours.db'}")
    ours.close()
    with pytest.raises(StoreError, match=r"is a Stigmer store.*stigmer migrate copy --from"):
        importing.import_upstream(lmdb_store, tmp_path / "ours.db", session=Session("alice"))


def test_instances_keep_upstream_fields_after_the_reconcile(
    upstream: UpstreamDb, run_import: Import, lmdb_store: Store
) -> None:
    agent, inst = agent_with_default(1)
    extra = upstream_instance("ain-extra", agent, slug="staging")
    extra.spec.description = "Staging, for the review team"
    upstream.add(agent, inst, extra)

    run_import()

    stored = lmdb_store.get("agent_instance", "ain-extra")
    assert isinstance(stored, AgentInstance)
    assert upstream_fields(stored) == upstream_fields(extra)
    assert [(r.id, r.controller) for r in stored.metadata.owner_references] == [
        (agent.metadata.id, False)
    ]
    assert ready(stored) == ("True", "AgentFound")


def test_an_import_writes_in_chunks_no_larger_than_the_backend_declares(
    upstream: UpstreamDb, lmdb_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    upstream.add(*[upstream_agent(f"agt-{i}", f"Agent {i}") for i in range(5)])
    lmdb_store.limits = lmdb_store.limits._replace(chunk=2)
    sizes: list[int] = []
    transact = lmdb_store.transact

    def counted(fn: Callable[[WriteTxn], T], *, actor: str = "") -> T:
        def measured(txn: WriteTxn) -> T:
            result = fn(txn)
            sizes.append(len(txn.events))
            return result

        return transact(measured, actor=actor)

    monkeypatch.setattr(lmdb_store, "transact", counted)
    report = importing.import_upstream(lmdb_store, upstream.path, session=Session("alice"))
    assert report.ok and lmdb_store.count("agent") == 5
    writes = [n for n in sizes if n]
    assert writes and max(writes) <= 2 * 2  # two agents a chunk, each with its default instance
