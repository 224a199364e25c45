"""Schema checks for resources built in code rather than loaded from manifests.

Library callers may hand the pipeline a message directly; its user-owned
fields must meet the same contract as a manifest's. System fields are not
the caller's to set and are ignored here (the pipeline overwrites them).
"""

from __future__ import annotations

from typing import Any

from stigmer.api.kinds import Kind, Resource
from stigmer.manifests import constraints, conversion, validation
from stigmer.manifests.loading import format_path

USER_METADATA = ("name", "slug", "org", "ownerScope", "labels", "annotations", "tags")


def user_view(kind: Kind, obj: Resource) -> dict[str, Any]:
    """The manifest a resource corresponds to: apiVersion, kind, user metadata, spec."""
    data = conversion.to_dict(obj)
    metadata = data.get("metadata", {})
    return {
        "apiVersion": obj.api_version or kind.api_version,
        "kind": obj.kind or kind.name,
        "metadata": {k: metadata[k] for k in USER_METADATA if k in metadata},
        "spec": data.get("spec", {}),
    }


def check(kind: Kind, obj: Resource, *, authoring: bool = True) -> list[tuple[str, str]]:
    """(field path, message) for each way ``obj`` breaks its kind's schema and rules.

    ``authoring`` as in ``constraints.problems``: False for imported objects.
    """
    data = user_view(kind, obj)
    if validation.is_valid(kind, data):
        found = constraints.problems(data, authoring=authoring)
    else:
        found = validation.errors(kind, data)
    return [(format_path(path), message) for path, message in found]
