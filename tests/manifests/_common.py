"""Manifests shared by the manifest tests."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "manifests" / "examples"
SCHEMAS = ROOT / "stigmer" / "manifests" / "schemas"
CORPUS = ROOT / "tests" / "testdata" / "invalid"

INSTRUCTIONS = "You answer questions politely."


def agent_yaml(name: str = "Bot", **extra_metadata: str) -> str:
    """A small valid Agent manifest."""
    metadata = "".join(f"  {k}: {v}\n" for k, v in extra_metadata.items())
    return (
        "apiVersion: agentic.stigmer.ai/v1\n"
        "kind: Agent\n"
        "metadata:\n"
        f"  name: {name}\n"
        f"{metadata}"
        "spec:\n"
        f"  instructions: {INSTRUCTIONS}\n"
    )


# Every user-settable field (docs/architecture.md, "Resources"), each with a value that is not
# the proto default (a default would vanish on the way through protobuf).
EVERY_FIELD_AGENT = """\
apiVersion: agentic.stigmer.ai/v1
kind: Agent
metadata:
  name: Code Reviewer
  slug: code-reviewer
  org: acme
  ownerScope: identity_account
  labels: {team: platform, tier: gold}
  annotations: {note: "ünïcode ✓"}
  tags: [review, python]
spec:
  description: Reviews pull requests.
  iconUrl: https://icons.example.com/reviewer.svg
  instructions: You review code carefully and kindly.
  mcpServers:
    - name: github
      stdio:
        command: npx
        args: ["-y", "@mcp/github"]
        envPlaceholders: {GITHUB_TOKEN: "${GITHUB_TOKEN}"}
        workingDir: /srv
      enabledTools: [list_prs, get_diff]
    - name: search
      http:
        url: https://search.example.com/mcp
        headers: {Authorization: Bearer s3cret}
        queryParams: {region: eu}
        timeoutSeconds: 30
    - name: db
      docker:
        image: ghcr.io/acme/db-mcp:1.0
        args: ["--read-only"]
        envPlaceholders: {DB_URL: "${DB_URL}"}
        volumes:
          - {hostPath: /data, containerPath: /mnt/data, readOnly: true}
        network: bridge
        ports:
          - {hostPort: 18080, containerPort: 8080, protocol: tcp}
        containerName: db-mcp
    - name: shared
      mcpServerRef: {scope: organization, org: acme, kind: mcp_server, slug: github, version: v1}
  skillRefs:
    - {scope: organization, org: acme, kind: skill, slug: style-guide, version: stable}
  subAgents:
    - name: security
      description: Looks for vulnerabilities.
      instructions: Find injection and auth problems in the diff.
      mcpServers: [github]
      mcpToolSelections:
        github: {enabledTools: [get_diff]}
      skillRefs:
        - {scope: platform, org: stigmer, kind: skill, slug: owasp, version: v2}
  envSpec:
    description: What the reviewer needs.
    data:
      API_KEY: {value: sk-123, isSecret: true, description: The key.}
"""

EVERY_FIELD_INSTANCE = """\
apiVersion: agentic.stigmer.ai/v1
kind: AgentInstance
metadata:
  name: Code Reviewer EU
  slug: code-reviewer-eu
  org: acme
  ownerScope: organization
  labels: {region: eu}
  annotations: {owner: alice}
  tags: [eu]
spec:
  agentId: code-reviewer
  description: The reviewer, for the EU.
  environmentRefs:
    - {scope: organization, org: acme, kind: environment, slug: prod-env, version: v1}
"""

EVERY_FIELD_ENVIRONMENT = """\
apiVersion: agentic.stigmer.ai/v1
kind: Environment
metadata:
  name: Prod Env
  slug: prod-env
  org: acme
  ownerScope: organization
  labels: {stage: prod}
  annotations: {owner: alice}
  tags: [prod]
spec:
  description: Production values.
  data:
    API_URL: {value: https://api.example.com, description: Where the API is.}
    API_KEY: {value: sk-123, isSecret: true, description: The key.}
"""

EVERY_FIELD_SKILL = """\
apiVersion: agentic.stigmer.ai/v1
kind: Skill
metadata:
  name: Style Guide
  slug: style-guide
  org: acme
  ownerScope: platform
  labels: {team: platform}
  annotations: {owner: alice}
  tags: [style]
spec:
  skillMd: |
    # Style guide
    Prefer short functions.
  tag: v1.2.0
"""

# An McpServer has exactly one of stdio, http and docker: three manifests use every field.
EVERY_FIELD_MCP_SERVERS = (
    """\
apiVersion: agentic.stigmer.ai/v1
kind: McpServer
metadata:
  name: GitHub
  slug: github
  org: acme
  ownerScope: organization
  labels: {team: platform}
  annotations: {owner: alice}
  tags: [code]
spec:
  description: GitHub's MCP server.
  iconUrl: https://icons.example.com/github.svg
  tags: [code, github]
  stdio:
    command: npx
    args: ["-y", "@mcp/github"]
    workingDir: /srv
  defaultEnabledTools: [list_prs]
  envSpec:
    description: What the server needs.
    data:
      GITHUB_TOKEN: {value: ghp_123, isSecret: true, description: The token.}
""",
    """\
apiVersion: agentic.stigmer.ai/v1
kind: McpServer
metadata:
  name: Search
spec:
  http:
    url: https://search.example.com/mcp
    headers: {Authorization: Bearer s3cret}
    queryParams: {region: eu}
    timeoutSeconds: 30
""",
    """\
apiVersion: agentic.stigmer.ai/v1
kind: McpServer
metadata:
  name: DB
spec:
  docker:
    image: ghcr.io/acme/db-mcp:1.0
    args: ["--read-only"]
    volumes:
      - {hostPath: /data, containerPath: /mnt/data, readOnly: true}
    network: bridge
    ports:
      - {hostPort: 18080, containerPort: 8080, protocol: tcp}
    containerName: db-mcp
""",
)
