"""Apply, update, delete and reconcile through stigmer.Client on a real LMDB store."""

from __future__ import annotations

import pytest

from stigmer.api.naming import slugify
from stigmer.api.v1.agent_instance_pb2 import AgentInstance
from stigmer.api.v1.agent_pb2 import Agent
from stigmer.api.v1.event_pb2 import EventType
from stigmer.client import Client
from stigmer.errors import AlreadyExists, InvalidResource, NotFound
from stigmer.reconcilers.events import Change
from stigmer.reconcilers.framework import Outcome
from stigmer.reconcilers.masking import MASK
from stigmer.store import Store
from tests.factories import as_agent
from tests.reconcilers.helpers import assert_converged, default_instances, new_agent, new_instance


def stored_agent(store: Store, slug: str, org: str = "local") -> Agent:
    a = store.get_by_slug("agent", org, slug)
    assert isinstance(a, Agent)
    return a


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("My Agent", "my-agent"),
        ("Agent@123!", "agent123"),
        ("My   Cool   Agent", "my-cool-agent"),
        ("my_test_agent", "mytestagent"),
        ("---hyphens---", "hyphens"),
        ("Agent 你好", "agent"),
        ("UPPER lower", "upper-lower"),
        ("a" * 100, "a" * 100),
    ],
)
def test_the_slug_rule(name: str, slug: str) -> None:
    assert slugify(name) == slug


def test_every_outcome_is_a_typed_outcome_that_still_reads_as_its_word(client: Client) -> None:
    (created,) = client.apply([new_agent("Bot")])
    (unchanged,) = client.apply([new_agent("Bot")])
    (failed,) = client.apply([new_instance("Eu", "no-such-agent")])
    (deleted,) = client.delete_objects([client.get("agent", "bot")])
    outcomes = [r.outcome for r in (created, unchanged, failed, deleted)]
    assert outcomes == [Outcome.CREATED, Outcome.UNCHANGED, Outcome.ERROR, Outcome.DELETED]
    assert all(isinstance(o, Outcome) for o in outcomes)
    assert f"agent/bot {created.outcome}" == "agent/bot created"  # how the CLI prints it


def test_apply_creates_agent_default_instance_and_status(client: Client, lmdb_store: Store) -> None:
    (result,) = client.apply([new_agent("Support Bot")])
    assert (result.outcome, result.name, result.org) == ("created", "support-bot", "local")
    agent = stored_agent(lmdb_store, "support-bot")
    assert agent.metadata.id.startswith("agt-") and len(agent.metadata.id) == 30
    assert agent.metadata.id == agent.metadata.id.lower()
    assert agent.metadata.generation == 1
    assert agent.metadata.owner_scope == 2  # organization
    audit = agent.status.audit.spec_audit
    assert (audit.created_by.id, audit.event) == ("alice", "created")
    (inst,) = lmdb_store.list("agent_instance")
    assert isinstance(inst, AgentInstance)
    assert inst.metadata.name == "Support Bot-default"
    assert inst.metadata.slug == "support-bot-default"
    assert inst.metadata.id.startswith("ain-")
    assert inst.spec.agent_id == agent.metadata.id
    assert inst.spec.description == "Default instance (auto-created, no custom configuration)"
    (ref,) = inst.metadata.owner_references
    assert (ref.kind, ref.id, ref.slug, ref.controller) == (
        "Agent",
        agent.metadata.id,
        "support-bot",
        True,
    )
    assert agent.status.default_instance_id == inst.metadata.id
    (ready,) = agent.status.conditions
    assert (ready.type, ready.status, ready.reason) == ("Ready", "True", "DefaultInstanceReady")
    assert_converged(lmdb_store)


def test_one_agent_and_its_instance_are_one_revision_each(
    client: Client, lmdb_store: Store
) -> None:
    client.apply([new_agent("Bot")])
    events = lmdb_store.events_since(0)
    assert [(e.kind, e.type) for e in events] == [
        ("agent", EventType.created),
        ("agent_instance", EventType.created),
    ]


def test_reapplying_the_same_manifest_writes_nothing(client: Client, lmdb_store: Store) -> None:
    client.apply([new_agent("Bot", labels={"a": "b"})])
    before = stored_agent(lmdb_store, "bot")
    revision = lmdb_store.revision()
    (result,) = client.apply([new_agent("Bot", labels={"a": "b"})])
    assert result.outcome == "unchanged"
    assert lmdb_store.revision() == revision
    assert stored_agent(lmdb_store, "bot") == before


def test_a_spec_change_bumps_generation_and_keeps_status(client: Client, lmdb_store: Store) -> None:
    client.apply([new_agent("Bot")])
    before, revision = stored_agent(lmdb_store, "bot"), lmdb_store.revision()
    (result,) = client.apply([new_agent("Bot", instructions="New and improved instructions.")])
    assert result.outcome == "configured"
    after = stored_agent(lmdb_store, "bot")
    assert after.metadata.generation == 2
    assert after.metadata.id == before.metadata.id
    assert after.status.default_instance_id == before.status.default_instance_id != ""
    assert after.status.observed_generation == 2
    audit = after.status.audit.spec_audit
    assert audit.created_at == before.status.audit.spec_audit.created_at
    assert audit.event == "updated" and audit.updated_by.id == "alice"
    assert audit.updated_at.ToNanoseconds() >= audit.created_at.ToNanoseconds()
    (event,) = lmdb_store.events_since(revision)  # the instance had nothing to change
    assert (event.type, event.id) == (EventType.updated, after.metadata.id)
    assert_converged(lmdb_store)


def test_a_label_change_configures_without_a_new_generation(
    client: Client, lmdb_store: Store
) -> None:
    client.apply([new_agent("Bot")])
    (result,) = client.apply([new_agent("Bot", labels={"team": "x"})])
    assert result.outcome == "configured"
    agent = stored_agent(lmdb_store, "bot")
    assert agent.metadata.generation == 1 and dict(agent.metadata.labels) == {"team": "x"}


def test_update_keeps_default_instance_id(client: Client, lmdb_store: Store) -> None:
    """Upstream once wiped status.default_instance_id on update."""
    client.apply([new_agent("Bot")])
    agent = stored_agent(lmdb_store, "bot")
    change = Agent()
    change.CopyFrom(agent)
    change.ClearField("status")
    change.spec.description = "changed by update"
    client.update(change)
    after = stored_agent(lmdb_store, "bot")
    assert after.spec.description == "changed by update"
    assert after.status.default_instance_id == agent.status.default_instance_id


def test_update_of_a_missing_id_is_not_found(client: Client) -> None:
    ghost = new_agent("Ghost")
    ghost.metadata.id = "agt-01aaaaaaaaaaaaaaaaaaaaaaaa"
    with pytest.raises(NotFound):
        client.update(ghost)


def test_a_duplicate_within_an_org_is_an_error_across_orgs_fine(
    client: Client, lmdb_store: Store
) -> None:
    client.create(new_agent("Bot"))
    with pytest.raises(AlreadyExists, match='agent "bot" already exists in org "local"'):
        client.create(new_agent("Bot"))
    client.create(new_agent("Bot", org="acme"))
    assert {a.metadata.org for a in lmdb_store.list("agent")} == {"local", "acme"}
    assert_converged(lmdb_store)


def test_a_name_without_a_slug_is_refused_and_writes_nothing(
    client: Client, lmdb_store: Store
) -> None:
    (result,) = client.apply([new_agent("你好")])
    assert result.outcome == "error"
    assert "ResolveSlug" in str(result.error) and "set metadata.slug" in str(result.error)
    assert lmdb_store.revision() == 0


def test_library_resources_are_checked_against_the_schema(
    client: Client, lmdb_store: Store
) -> None:
    (result,) = client.apply([new_agent("Bot", instructions="short")])
    assert "ValidateFieldConstraints" in str(result.error)
    assert "spec.instructions: must be at least 10 characters" in str(result.error)
    with pytest.raises(InvalidResource):
        client.create(new_agent("Bot", instructions="short"))
    assert lmdb_store.revision() == 0


def test_delete_returns_what_it_deleted_and_cascades(client: Client, lmdb_store: Store) -> None:
    client.apply([new_agent("Bot")])
    client.apply([new_instance("Extra", "bot")])
    deleted = client.delete("agent", "bot")
    assert [type(o).__name__ for o in deleted] == ["Agent", "AgentInstance", "AgentInstance"]
    assert deleted[0].metadata.slug == "bot"
    assert lmdb_store.list("agent") == [] and lmdb_store.list("agent_instance") == []
    assert lmdb_store.tuples() == []
    client.apply([new_agent("Bot")])  # upstream's leftover instance blocked this
    assert_converged(lmdb_store)


def test_deleting_a_missing_object_is_not_found(client: Client) -> None:
    with pytest.raises(NotFound, match='agent "nope" not found'):
        client.delete("agent", "nope")


def test_delete_all_of_a_kind(client: Client, lmdb_store: Store) -> None:
    client.apply([new_agent(f"Bot {i}") for i in range(5)])
    results = client.delete_all("agents")
    assert sorted(r.name for r in results) == [f"bot-{i}" for i in range(5)]
    assert lmdb_store.count("agent") == 0 and lmdb_store.count("agent_instance") == 0


def test_an_instance_needs_an_existing_agent_in_the_same_org(
    client: Client, lmdb_store: Store
) -> None:
    client.apply([new_agent("Bot", org="acme")])
    (result,) = client.apply([new_instance("Stray", "agt-01bbbbbbbbbbbbbbbbbbbbbbbb")])
    assert 'agent "agt-01bbbbbbbbbbbbbbbbbbbbbbbb" not found in org "local"' in str(result.error)
    acme = stored_agent(lmdb_store, "bot", "acme")
    (result,) = client.apply([new_instance("Cross", acme.metadata.id)])  # right id, wrong org
    assert "not found in org" in str(result.error)
    (result,) = client.apply([new_instance("Ok", acme.metadata.id, org="acme")])
    assert result.outcome == "created"


def test_an_instance_without_agent_id_is_refused(client: Client, lmdb_store: Store) -> None:
    (result,) = client.apply([new_instance("Lonely", "")])
    assert "spec.agentId" in str(result.error)
    assert lmdb_store.count("agent_instance") == 0


def test_an_instance_may_name_its_agent_by_slug(client: Client, lmdb_store: Store) -> None:
    client.apply([new_agent("Bot")])
    (result,) = client.apply([new_instance("Eu", "bot")])
    inst = lmdb_store.get_by_slug("agent_instance", "local", "eu")
    agent = stored_agent(lmdb_store, "bot")
    assert inst.spec.agent_id == agent.metadata.id  # type: ignore[union-attr]
    (ref,) = inst.metadata.owner_references
    assert (ref.id, ref.controller) == (agent.metadata.id, False)
    assert client.apply([new_instance("Eu", "bot")])[0].outcome == "unchanged"
    assert result.outcome == "created"


def test_a_deleted_default_instance_comes_back_on_reconcile(
    client: Client, lmdb_store: Store
) -> None:
    client.apply([new_agent("Bot")])
    old = stored_agent(lmdb_store, "bot").status.default_instance_id
    lmdb_store.delete("agent_instance", old)  # behind the pipelines' back, as by a crash
    assert lmdb_store.count("agent_instance") == 0
    (result,) = client.reconcile("agent", "bot")
    assert result.outcome == "configured"
    agent = stored_agent(lmdb_store, "bot")
    assert agent.status.default_instance_id not in ("", old)  # a stale id is repaired
    assert_converged(lmdb_store)
    assert client.reconcile("agent", "bot")[0].outcome == "unchanged"


def test_reapply_repairs_a_missing_default_instance_and_reports_configured(
    client: Client, lmdb_store: Store
) -> None:
    client.apply([new_agent("Bot")])
    lmdb_store.delete("agent_instance", stored_agent(lmdb_store, "bot").status.default_instance_id)
    (result,) = client.apply([new_agent("Bot")])
    assert result.outcome == "configured"  # it wrote: never "unchanged"
    assert_converged(lmdb_store)


def test_an_existing_default_named_instance_of_the_agent_is_adopted(
    client: Client, lmdb_store: Store
) -> None:
    client.apply([new_agent("Bot")])
    agent = stored_agent(lmdb_store, "bot")
    inst_id = agent.status.default_instance_id
    # Simulate an upstream store: the link from agent to instance is lost.
    agent.status.default_instance_id = ""
    del agent.status.conditions[:]
    lmdb_store.put(agent)
    client.reconcile("agent", "bot")
    assert stored_agent(lmdb_store, "bot").status.default_instance_id == inst_id
    assert lmdb_store.count("agent_instance") == 1
    assert_converged(lmdb_store)


def test_a_default_slug_held_by_another_agents_instance_is_a_terminal_error(
    client: Client, lmdb_store: Store
) -> None:
    client.apply([new_agent("Other")])
    client.apply([new_instance("Bot Default", "other")])  # slug bot-default, owned by "other"
    (result,) = client.apply([new_agent("Bot")])
    assert result.outcome == "error"
    assert "CreateDefaultInstance" in str(result.error) and "belongs to agent" in str(result.error)
    assert getattr(result.error, "terminal", None) is True
    assert lmdb_store.find_by_slug("agent", "local", "bot") is None  # nothing half-made


def test_reconcile_marks_an_orphaned_instance_not_ready(client: Client, lmdb_store: Store) -> None:
    client.apply([new_agent("Bot")])
    inst = lmdb_store.get_by_slug("agent_instance", "local", "bot-default")
    lmdb_store.delete("agent", inst.spec.agent_id)  # type: ignore[union-attr]  # behind our back
    client.reconcile("agentinstance", "bot-default")
    inst = lmdb_store.get_by_slug("agent_instance", "local", "bot-default")
    (ready,) = inst.status.conditions
    assert (ready.status, ready.reason) == ("False", "AgentNotFound")


def test_a_batch_applies_each_document_on_its_own(client: Client, lmdb_store: Store) -> None:
    results = client.apply([new_agent("One"), new_agent("Bad", instructions="x"), new_agent("Two")])
    assert [r.outcome for r in results] == ["created", "error", "created"]
    assert sorted(a.metadata.slug for a in lmdb_store.list("agent")) == ["one", "two"]
    assert_converged(lmdb_store)


def test_an_atomic_batch_applies_all_or_nothing(client: Client, lmdb_store: Store) -> None:
    results = client.apply([new_agent("One"), new_agent("Bad", instructions="x")], atomic=True)
    assert [r.outcome for r in results] == ["error", "error"]
    assert "another document failed" in str(results[0].error)
    assert lmdb_store.revision() == 0
    results = client.apply([new_agent("One"), new_agent("Two")], atomic=True)
    assert [r.outcome for r in results] == ["created", "created"]


def test_a_dry_run_goes_through_every_step_and_commits_nothing(
    client: Client, lmdb_store: Store
) -> None:
    seen: list[Change] = []
    client.bus.subscribe(seen.append)
    results = client.apply([new_agent("One"), new_agent("Bad", instructions="x")], dry_run=True)
    assert [r.outcome for r in results] == ["created", "error"]
    assert as_agent(results[0].object).status.default_instance_id
    assert lmdb_store.revision() == 0 and seen == []


def test_instances_are_applied_after_the_agents_they_name(
    client: Client, lmdb_store: Store
) -> None:
    results = client.apply([new_instance("Eu", "bot"), new_agent("Bot")])
    # Results come back in the order given; the agent was applied first.
    assert [(r.kind.name, r.outcome) for r in results] == [
        ("AgentInstance", "created"),
        ("Agent", "created"),
    ]
    inst, agent = (r.object for r in results)
    assert inst is not None and agent is not None
    assert agent.metadata.resource_version < inst.metadata.resource_version


def test_secrets_are_masked_in_results_and_on_the_bus(client: Client, lmdb_store: Store) -> None:
    seen: list[Change] = []
    client.bus.subscribe(seen.append)
    (result,) = client.apply([new_agent("Bot", secret="s3cret")])
    assert result.object is not None
    shown = result.object.SerializeToString()
    assert b"s3cret" not in shown and MASK.encode() in shown
    assert all(b"s3cret" not in c.object.SerializeToString() for c in seen)
    assert [c.event.type for c in seen] == [EventType.created, EventType.created]
    stored = stored_agent(lmdb_store, "bot")
    assert stored.spec.env_spec.data["API_KEY"].value == "s3cret"  # masking is output-only
    assert b"s3cret" not in client.get("agent", "bot").SerializeToString()
    assert (
        as_agent(client.get("agent", "bot", show_secrets=True)).spec.env_spec.data["API_KEY"].value
        == "s3cret"
    )


def test_reapplying_the_mask_keeps_the_stored_secret(client: Client, lmdb_store: Store) -> None:
    client.apply([new_agent("Bot", secret="s3cret")])
    shown = as_agent(client.get("agent", "bot"))  # what `get -o yaml` shows: every secret masked
    assert shown.spec.mcp_servers[0].http.headers["Authorization"] == MASK
    again = new_agent("Bot", secret=MASK)
    again.spec.mcp_servers[0].http.headers["Authorization"] = MASK
    (result,) = client.apply([again])
    assert result.outcome == "unchanged"
    stored = stored_agent(lmdb_store, "bot")
    assert stored.spec.env_spec.data["API_KEY"].value == "s3cret"
    assert stored.spec.mcp_servers[0].http.headers["Authorization"] == "Bearer s3cret"


def test_diff_shows_user_owned_changes_only(client: Client) -> None:
    client.apply([new_agent("Bot", secret="old")])
    (same,) = client.diff([new_agent("Bot", secret="old")])
    assert not same.changed and "generation" not in same.live and "status" not in same.live
    (changed,) = client.diff(
        [new_agent("Bot", secret="new", instructions="Different instructions.")]
    )
    assert changed.changed
    assert "-  instructions: You are a careful assistant." in changed.text
    assert "+  instructions: Different instructions." in changed.text
    assert "****** (before)" in changed.text and "****** (after)" in changed.text
    assert "old" not in changed.text and "new" not in changed.text.replace("Different", "")
    (fresh,) = client.diff([new_agent("Brand New")])
    assert fresh.changed and fresh.live == ""


def test_default_instances_helper_finds_only_controller_links(
    client: Client, lmdb_store: Store
) -> None:
    client.apply([new_agent("Bot")])
    client.apply([new_instance("Extra", "bot")])
    agent = stored_agent(lmdb_store, "bot")
    assert [i.metadata.slug for i in default_instances(lmdb_store, agent)] == ["bot-default"]
