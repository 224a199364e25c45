"""Patches of a manifest view: RFC 7386 merge patches, RFC 6902 JSON patches, label edits.

A patch works on the manifest an object corresponds to (``resources.user_view``)
and what it makes is applied like any manifest, so it meets every check an
apply does. JSON patches use ``jsonpatch`` (python-json-patch, maintained, the
RFC 6902 reference for Python, with RFC 6901 pointers and its test suite);
merge patches are the RFC's ten-line algorithm, written out below.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any

import jsonpatch

from stigmer.errors import InvalidResource, UsageError

TYPES = ("merge", "json")


def merge(target: Any, patch: Any) -> Any:
    """RFC 7386: ``patch`` merged into ``target``; a null removes, a non-object replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge(result.get(key), value)
    return result


def apply(view: dict[str, Any], text: str, kind: str) -> dict[str, Any]:
    """The view with the patch ``text`` (JSON, or YAML's JSON subset) of ``kind`` applied."""
    if kind not in TYPES:
        raise UsageError(f'--type "{kind}": expected one of {", ".join(TYPES)}')
    try:
        patch = json.loads(text)
    except ValueError as e:
        raise UsageError(f"the patch is not JSON: {e}") from None
    if kind == "merge":
        if not isinstance(patch, dict):
            raise UsageError("a merge patch is a JSON object, e.g. '{\"spec\": {...}}'")
        patched = merge(view, patch)
    else:
        patched = _json_patch(view, patch)
    if not isinstance(patched, dict):
        raise InvalidResource("the patch replaced the whole manifest with a non-object")
    return patched


def _json_patch(view: dict[str, Any], patch: Any) -> Any:
    if not isinstance(patch, list):
        raise UsageError("a JSON patch is a list of operations, e.g. '[{\"op\": ...}]'")
    try:
        return jsonpatch.JsonPatch(patch).apply(view)
    except jsonpatch.InvalidJsonPatch as e:
        raise UsageError(f"the patch is not a valid JSON patch: {e}") from None
    except jsonpatch.JsonPatchTestFailed as e:
        raise InvalidResource(f"the patch's test failed: {e}") from None
    except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as e:
        raise InvalidResource(f"the patch does not apply: {e}") from None
    except (TypeError, KeyError, AttributeError) as e:  # a malformed operation
        raise UsageError(f"the patch is not a valid JSON patch: {e}") from None


def relabel(
    view: dict[str, Any], field: str, changes: Mapping[str, str | None], *, overwrite: bool
) -> dict[str, Any]:
    """``metadata.<field>`` (labels or annotations) with ``changes``: None removes a key.

    As kubectl's ``label``, changing a key's value needs ``overwrite``.
    """
    patched = copy.deepcopy(view)
    metadata = patched.setdefault("metadata", {})
    values: dict[str, Any] = dict(metadata.get(field) or {})
    for key, value in changes.items():
        old = values.get(key)
        if value is None:
            values.pop(key, None)
        elif old is not None and old != value and not overwrite:
            raise InvalidResource(
                f'"{key}" already has a value ({old}), and --overwrite is false',
                path=f"metadata.{field}",
            )
        else:
            values[key] = value
    if values:
        metadata[field] = values
    else:
        metadata.pop(field, None)
    return patched
