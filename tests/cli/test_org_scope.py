"""Orgs on apply: --org agrees with the manifests, output names the org, prune stays in scope."""

from __future__ import annotations

from pathlib import Path

from tests.cli.conftest import Run


def agent(name: str, org: str | None = None, labels: str = "{app: demo}") -> str:
    where = f"  org: {org}\n" if org else ""
    return (
        "apiVersion: agentic.stigmer.ai/v1\nkind: Agent\nmetadata:\n"
        f"  name: {name}\n{where}  labels: {labels}\n"
        "spec:\n  instructions: You answer questions politely.\n"
    )


def test_a_manifest_org_that_disagrees_with_the_org_flag_is_an_error(
    run: Run, tmp_path: Path
) -> None:
    x = tmp_path / "x.yaml"
    x.write_text(agent("Bot", org="acme"))
    message = (
        f'{x}:5:3: metadata.org: the org from the manifest "acme" does not match --org "globex"'
    )
    for command in (["apply"], ["diff"], ["delete"]):
        result = run("--org", "globex", *command, "-f", str(x))
        assert result.exit_code in (1, 2), command
        assert result.stderr.splitlines()[0] == message, command
    assert run("get", "agents", "-A").stderr == "No resources found\n"
    # The org of the environment is a default, as a kubeconfig's namespace is: no error.
    result = run("apply", "-f", str(x), env={"STIGMER_ORG": "globex"})
    assert (result.exit_code, result.stdout) == (0, 'agent/bot created in org "acme"\n')
    same = run("--org", "acme", "apply", "-f", str(x))
    assert same.stdout == 'agent/bot unchanged in org "acme"\n'


def test_apply_output_names_the_org_only_when_it_is_not_the_default(
    run: Run, tmp_path: Path
) -> None:
    x = tmp_path / "x.yaml"
    x.write_text(agent("Here") + "---\n" + agent("There", org="acme"))
    result = run("apply", "-f", str(x))
    assert result.stdout == 'agent/here created\nagent/there created in org "acme"\n'
    without = run("--org", "acme", "apply", "-f", "-", input=agent("Implicit"))
    assert without.stdout == 'agent/implicit created in org "acme"\n'


def test_prune_stays_in_the_orgs_the_manifests_name(run: Run, tmp_path: Path) -> None:
    run("apply", "-f", "-", input=agent("Local Bot"))
    run("apply", "-f", "-", input=agent("Old Acme Bot", org="acme"))
    acme = tmp_path / "acme.yaml"
    acme.write_text(agent("Acme Bot", org="acme"))
    result = run("apply", "-f", str(acme), "--prune", "-l", "app=demo")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        'agent/acme-bot created in org "acme"\nagent/old-acme-bot pruned in org "acme"\n'
    )
    assert "local-bot" in run("get", "agents").stdout  # the default org was never in scope
