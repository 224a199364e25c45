"""The examples that end every command's help, as kubectl's do.

Keyed by the command's path after ``stigmer`` (``"agent create"``). Each
entry is two or three commands, each after a comment saying what it does.
"""

from __future__ import annotations

EXAMPLES: dict[str, tuple[tuple[str, str], ...]] = {
    "": (
        ("Apply the examples", "stigmer apply -f manifests/examples/"),
        ("List what was made, in every org", "stigmer get ag,ai -A"),
        ("Keep a directory and the store in step", "stigmer sync manifests/ --watch --prune"),
    ),
    "apply": (
        ("Apply every manifest in a directory tree", "stigmer apply -f manifests/ -R"),
        ("Restore a backup made with get -o yaml", "stigmer apply -f backup.yaml"),
        ("See what would change, commit nothing", "stigmer apply -f bot.yaml --dry-run"),
    ),
    "get": (
        ("List the agents of org acme", "stigmer get agents --org acme"),
        ("Show one agent as YAML", "stigmer get agent/support-agent -o yaml"),
        ("List agents and instances in every org", "stigmer get ag,ai -A"),
    ),
    "describe": (
        ("Show an agent in detail", "stigmer describe agent support-agent"),
        ("Show an instance of org acme", "stigmer describe ai data-analyst-default --org acme"),
    ),
    "delete": (
        ("Delete an agent and its instances", "stigmer delete agent/support-agent"),
        ("Delete what a manifest declares", "stigmer delete -f bot.yaml"),
        ("Delete what a listing names", "stigmer get ag -l team=qa -o name | xargs stigmer delete"),
    ),
    "wait": (
        ("Wait until an agent is Ready", "stigmer wait agent/support-agent --for=condition=Ready"),
        ("Wait until agents are gone", "stigmer wait ag -l team=qa --for=delete --timeout 1m"),
    ),
    "edit": (
        ("Edit an agent in $EDITOR, applied on save", "stigmer edit agent support-agent"),
        ("An instance, by TYPE/NAME", "stigmer edit agentinstance/support-agent-eu"),
    ),
    "label": (
        ("Label an agent", "stigmer label agent support-agent tier=gold"),
        (
            "Change a label, remove another",
            "stigmer label ag -l team=qa tier=silver old- --overwrite",
        ),
    ),
    "annotate": (
        ("Annotate an agent", "stigmer annotate agent/support-agent owner=alice"),
        ("Remove an annotation", "stigmer annotate agent support-agent owner-"),
    ),
    "patch": (
        (
            "Merge a change in (RFC 7386)",
            """stigmer patch agent bot -p '{"spec":{"description":"x"}}'""",
        ),
        (
            "Replace one field (RFC 6902)",
            "stigmer patch ag bot --type json "
            """-p '[{"op":"replace","path":"/spec/description","value":"x"}]'""",
        ),
    ),
    "diff": (
        ("Show what apply would change", "stigmer diff -f bot.yaml"),
        ("Compare a whole tree", "stigmer diff -f manifests/ -R"),
    ),
    "schema": (
        ("Print the JSON Schema of agents", "stigmer schema agent"),
        ("Save it for an editor", "stigmer schema agentinstance > agentinstance.json"),
    ),
    "explain": (
        ("Describe the fields of an agent", "stigmer explain agent"),
        ("Describe one field", "stigmer explain agent.spec.mcpServers"),
        ("Every field of the spec, as a tree", "stigmer explain agent.spec --recursive"),
    ),
    "api-resources": (
        ("The kinds, their short names and verbs", "stigmer api-resources"),
        ("Every kind's plural name, for scripts", "stigmer api-resources -o name"),
    ),
    "events": (
        ("Recent events of the org", "stigmer events"),
        ("One agent's events, then new ones", "stigmer events agent support-agent -w"),
    ),
    "version": (
        ("The client's version and the store's format", "stigmer version"),
        ("The same as JSON", "stigmer version -o json"),
    ),
    "history": (
        ("List an agent's earlier specs", "stigmer history agent support-agent"),
        ("Show revision 2 as YAML", "stigmer history agent support-agent --revision 2 -o yaml"),
        ("Compare revision 2 with the live agent", "stigmer history agent support-agent --diff 2"),
    ),
    "rollback": (
        ("Go back to the previous spec", "stigmer rollback agent support-agent"),
        ("Go back to revision 2", "stigmer rollback agent support-agent --to-revision 2"),
    ),
    "serve": (
        ("Run the controller", "stigmer serve"),
        ("Also sync a directory", "stigmer serve --watch manifests/ --prune"),
        ("With /healthz and /metrics", "stigmer serve --health-port 8080"),
    ),
    "sync": (
        ("Apply a directory tree once", "stigmer sync manifests/"),
        ("Keep following it, deleting what it drops", "stigmer sync manifests/ --watch --prune"),
        ("Show each file's last sync", "stigmer sync status manifests/"),
    ),
    "sync status": (
        ("Show each file's objects and errors", "stigmer sync status manifests/"),
        ("For a store elsewhere", "stigmer --data-dir /srv/stigmer sync status manifests/"),
    ),
    "agent": (
        ("Create an agent", 'stigmer agent create bot --instructions "Answer questions."'),
        ("List the agents of org acme", "stigmer agent list --org acme"),
    ),
    "agent create": (
        ("Create an agent", 'stigmer agent create bot --instructions "Answer questions."'),
        ("In org acme", 'stigmer agent create bot --org acme --instructions "Review code."'),
    ),
    "agent list": (
        ("List the agents of the org", "stigmer agent list"),
        ("Of every org you may view", "stigmer agent list -A"),
    ),
    "agent get": (
        ("Show an agent as YAML", "stigmer agent get bot"),
        ("As JSON, in org acme", "stigmer agent get bot -o json --org acme"),
    ),
    "agent delete": (
        ("Delete an agent and its instances", "stigmer agent delete bot"),
        ("In org acme", "stigmer agent delete bot --org acme"),
    ),
    "agent delete-all": (
        ("Delete every agent of the org, asking first", "stigmer agent delete-all"),
        ("Without asking, in org acme", "stigmer agent delete-all --yes --org acme"),
    ),
    "store": (
        ("Verify the store", "stigmer store check"),
        ("Count objects per kind and org", "stigmer store stats"),
    ),
    "store check": (
        ("Verify the default store", "stigmer store check"),
        ("Verify a SQLite store", "stigmer --store sqlite:/srv/stigmer.db store check"),
    ),
    "store dump": (
        ("Print every object, secrets masked", "stigmer store dump"),
        ("Only the agents", "stigmer store dump --kind agents"),
    ),
    "store stats": (
        ("Counts, revision and size", "stigmer store stats"),
        ("Of another data dir", "stigmer --data-dir /srv/stigmer store stats"),
    ),
    "migrate": (
        ("Import upstream Stigmer's database", "stigmer migrate from-sqlite ~/.stigmer/stigmer.db"),
        ("Copy the store to a backup", "stigmer migrate copy --to lmdb:/backup/stigmer"),
    ),
    "migrate from-sqlite": (
        ("See what an import would do", "stigmer migrate from-sqlite stigmer.db --dry-run"),
        ("Import it", "stigmer migrate from-sqlite stigmer.db"),
    ),
    "migrate copy": (
        ("Copy (and compact) the store", "stigmer migrate copy --to lmdb:/backup/stigmer"),
        ("Copy from SQLite to LMDB", "stigmer migrate copy --from sqlite:old.db --to lmdb:new"),
    ),
    "iam": (
        ("Let bob edit org acme", "stigmer iam grant bob editor --org acme"),
        ("List who holds which role", "stigmer iam list"),
    ),
    "iam grant": (
        ("Let bob view org acme", "stigmer iam grant bob viewer --org acme"),
        ("Make carol admin of every org", 'stigmer iam grant carol admin --org "*"'),
    ),
    "iam revoke": (
        ("Take bob's editor role in acme", "stigmer iam revoke bob editor --org acme"),
        ("Take carol's global admin role", 'stigmer iam revoke carol admin --org "*"'),
    ),
    "iam list": (
        ("Every role you may see", "stigmer iam list"),
        ("Only bob's", "stigmer iam list --user bob"),
    ),
    "iam check": (
        ("May bob delete agents in acme?", "stigmer iam check bob delete agents --org acme"),
        ("May vic list instances?", "stigmer iam check vic list agentinstances"),
    ),
    "iam token": (
        ("A token for bob's runner", "stigmer iam token create bob --ttl 90d"),
        ("Every token's id, user and expiry", "stigmer iam token list"),
    ),
    "iam token create": (
        ("A token for bob's runner", "stigmer iam token create bob"),
        ("One that expires in 90 days", "stigmer iam token create bob --ttl 90d"),
    ),
    "iam token list": (
        ("Every token", "stigmer iam token list"),
        ("Only bob's", "stigmer iam token list --user bob"),
    ),
    "iam token revoke": (
        ("Revoke a token by its id", "stigmer iam token revoke 3f9a1c0d2b7e4a65"),
    ),
}


def epilog(path: str) -> str:
    """The help's closing ``Examples:`` section for the command at ``path`` ("": stigmer)."""
    blocks = [f"# {what}\n{command}" for what, command in EXAMPLES[path]]
    return "Examples:\n\n" + "\n\n".join(blocks)
