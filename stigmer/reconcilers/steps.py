"""The generic pipeline steps, shared by every kind. Each is one small function.

Apply steps work on ``ctx.request.desired`` and build ``ctx.new``; nothing is
written before Persist. A step that finds its work already done changes
nothing, so re-running a pipeline is always safe.
"""

from __future__ import annotations

from typing import Any

from stigmer.api import kinds, naming
from stigmer.api.kinds import Resource
from stigmer.api.v1.commons_pb2 import ApiResourceOwnerScope
from stigmer.api.v1.event_pb2 import EventType
from stigmer.errors import AlreadyExists, Conflict, InvalidResource, NotFound
from stigmer.iam import secrets_forbidden
from stigmer.manifests import resources
from stigmer.reconcilers import audits, history, masking
from stigmer.reconcilers.events import Change
from stigmer.reconcilers.framework import Context, Outcome, Result
from stigmer.store import find_named

ORGANIZATION = ApiResourceOwnerScope.organization
_DELETED = int(EventType.deleted)  # the enum wrapper's attribute lookup is slow in bulk
# MAX_OBJECT_BYTES bounds one stored object, encoded, as etcd bounds a Kubernetes
# request (1.5 MiB): no single write can fill memory or the store.
MAX_OBJECT_BYTES = 1 << 20


def desired(ctx: Context) -> Resource:
    obj = ctx.request.desired
    if obj is None:
        raise InvalidResource(f"{ctx.request.verb} needs a resource")
    return obj


def validate_field_constraints(ctx: Context) -> None:
    """Checks the resource against its kind's schema, unless the manifest layer did."""
    if ctx.request.validated:
        return
    errors = resources.check(ctx.request.kind, desired(ctx))
    if errors:
        raise InvalidResource("; ".join(f"{path}: {msg}" for path, msg in errors))


def authorize(ctx: Context) -> None:
    """Asks IAM whether the actor may do this verb to this kind in this org.

    A delete or reconcile by id may name an object of another org: that
    object's own org decides, so an id never reaches past the ACL.
    """
    obj = ctx.request.desired
    org = (obj.metadata.org if obj is not None else "") or ctx.request.org or naming.DEFAULT_ORG
    target = find_target(ctx) if obj is None and ctx.request.name else None
    if target is not None:
        org = target.metadata.org
    ctx.authorizer.authorize(ctx.txn, ctx.actor, ctx.request.verb, ctx.request.kind, org)


def resolve_slug(ctx: Context) -> None:
    """Fills in org and slug: metadata.slug, or the slug rule applied to the name."""
    md = desired(ctx).metadata
    # Each field is read once and written only when it changes: a message field
    # read or write costs ~1,000 instructions, and this runs for every document.
    org = md.org
    if not org:
        org = md.org = ctx.request.org or naming.DEFAULT_ORG
    if not naming.is_valid_org(org):
        raise InvalidResource(
            f'"{org}" is not a valid org: use lowercase letters, digits and "-"',
            path="metadata.org",
        )
    slug = md.slug
    if slug:
        if not naming.is_valid_slug(slug):
            raise InvalidResource(
                f'"{slug}" is not a valid slug: use lowercase letters, digits and "-", '
                f"at most {naming.SLUG_MAX_LENGTH}",
                path="metadata.slug",
            )
        return
    name = md.name
    slug = md.slug = naming.slugify(name)
    if not slug:
        raise InvalidResource(
            f'name "{name}" yields an empty slug; set metadata.slug', path="metadata.name"
        )
    if len(slug) > naming.SLUG_MAX_LENGTH:
        raise InvalidResource(
            f"yields a slug of {len(slug)} characters, above the limit of "
            f"{naming.SLUG_MAX_LENGTH}; set a shorter metadata.slug",
            path="metadata.name",
        )


def check_duplicate(ctx: Context) -> None:
    """Finds the live object with this (kind, org, slug); refuses a second one.

    ``apply`` updates the object it finds. ``create`` refuses to, and
    ``update`` requires the object's id to exist and keep its slug.
    """
    kind, md, verb = ctx.request.kind, desired(ctx).metadata, ctx.request.verb
    org, slug = md.org, md.slug  # read once: a message field read costs ~1,000 instructions
    holder = ctx.txn.find_by_slug(kind.key, org, slug)

    def taken() -> AlreadyExists:  # built only when raised
        return AlreadyExists(f'{kind.singular} "{slug}" already exists in org "{org}"')

    if verb == "update":
        live = ctx.txn.find(kind.key, md.id) if md.id else None
        if live is None:
            raise NotFound(f'{kind.singular} "{md.id or slug}" not found')
        if holder is not None and holder.metadata.id != live.metadata.id:
            raise taken()
        if (live.metadata.org, live.metadata.slug) != (org, slug):
            raise InvalidResource("org and slug cannot change", path="metadata.slug")
        check_preconditions(ctx, live)
        ctx.live = live
        return
    if holder is not None and (verb == "create" or (md.id and md.id != holder.metadata.id)):
        raise taken()
    if holder is not None:
        check_preconditions(ctx, holder)
    ctx.live = holder


def check_preconditions(ctx: Context, live: Resource) -> None:
    """The manifest's id and resourceVersion, when given, must be the live object's.

    Optimistic concurrency, as kubectl's: a manifest read from ``get -o yaml``
    fails as a Conflict if the object was re-created or changed since.
    """
    request = ctx.request
    if not request.expected_id and not request.expected_version:
        return  # the usual manifest: hand-written, with neither
    md = live.metadata
    what = f'{request.kind.singular} "{md.slug}" in org "{md.org}"'
    if request.expected_id and request.expected_id != md.id:
        raise Conflict(
            f'conflict: {what} has id "{md.id}", not "{request.expected_id}": '
            "it was deleted and created again since the manifest was read",
            path="metadata.id",
        )
    if request.expected_version and request.expected_version != md.resource_version:
        raise Conflict(
            f"conflict: {what} has changed since the manifest was read (resourceVersion "
            f"{md.resource_version}, not {request.expected_version}); get it again, or remove "
            "resourceVersion to overwrite",
            path="metadata.resourceVersion",
        )


def _user_view(obj: Resource) -> tuple[object, ...]:
    """The fields a manifest owns; equal views mean there is nothing to apply.

    Its items at _LABELS, _ANNOTATIONS, _TAGS and _SPEC are those fields' values.
    """
    md = obj.metadata
    scope = md.owner_scope or ORGANIZATION
    return (md.name, _plain(md.labels), _plain(md.annotations), md.tags[:], scope, obj.spec)


_LABELS, _ANNOTATIONS, _TAGS, _SPEC = 1, 2, 3, 5


def _plain(found: Any) -> dict[str, str]:
    """A upb string map as a dict, through its own iterator: dict() takes a Python mixin's."""
    return {k: found[k] for k in found} if found else {}


def keep_sync_annotations(want: Resource, live: Resource) -> None:
    """The ``stigmer.ai/sync-*`` annotations belong to sync: a manifest without them keeps them.

    So a manual apply of a synced file neither takes the object away from its
    directory (a later ``sync --prune`` still finds it) nor counts as a change.
    """
    if not live.metadata.annotations:
        return  # the usual case: nothing that sync could own
    wanted = want.metadata.annotations
    if any(key.startswith(naming.SYNC_ANNOTATION_PREFIX) for key in wanted):
        return  # sync itself, or a manifest that says whose it is
    for key, value in live.metadata.annotations.items():
        if key.startswith(naming.SYNC_ANNOTATION_PREFIX):
            wanted[key] = value


def set_defaults(ctx: Context) -> None:
    """Builds the new state: a fresh object with system fields, or the live one updated."""
    want, live = desired(ctx), ctx.live
    # ctx.new ends with want's spec (a copy, an equal one, or a replacement), so
    # whether want holds secrets says whether the response needs masking.
    ctx.secrets = masking.restore(want, live)
    if live is None:
        ctx.new = _fresh(ctx, want)
        ctx.outcome = Outcome.CREATED
        return
    keep_sync_annotations(want, live)
    ctx.live_bytes = live.SerializeToString()  # the copy's bytes, and history's if needed
    new = ctx.new = type(live).FromString(ctx.live_bytes)
    wanted, had = _user_view(want), _user_view(live)
    if wanted == had:
        ctx.outcome = Outcome.UNCHANGED
        return
    md, wmd = new.metadata, want.metadata
    md.name, md.owner_scope = wmd.name, wmd.owner_scope or ORGANIZATION
    # Only what differs is rewritten: the usual update changes the spec alone.
    for at, field in ((_LABELS, "labels"), (_ANNOTATIONS, "annotations")):
        if wanted[at] != had[at]:
            getattr(md, field).clear()
            getattr(md, field).update(wanted[at])
    if wanted[_TAGS] != had[_TAGS]:
        del md.tags[:]
        md.tags.extend(wmd.tags)
    if wanted[_SPEC] != had[_SPEC]:
        kinds.replace_spec(new, want)
        md.generation += 1
        ctx.spec_changed = True
    audits.updated(new.status, ctx.actor, ctx.now_ns)
    ctx.outcome = Outcome.CONFIGURED


def _fresh(ctx: Context, want: Resource) -> Resource:
    """A new object: the manifest's fields plus id, defaults and audit.

    The user's fields are copied whole; what a library caller may have set
    in the system's fields (status, versions, owners) is dropped.
    """
    new = kinds.clone(want)
    new.api_version, new.kind = ctx.request.kind.api_version, ctx.request.kind.name
    new.ClearField("status")
    md = new.metadata
    for system in ("version", "resource_version", "owner_references"):
        md.ClearField(system)
    md.id = md.id or naming.new_id(ctx.request.kind.id_prefix)
    md.owner_scope = md.owner_scope or ORGANIZATION
    md.generation = 1
    audits.created(new.status, ctx.actor, ctx.now_ns)
    return new


def persist(ctx: Context) -> None:
    """Writes the new state if it differs from the live one (compare-and-swap)."""
    new = ctx.new
    assert new is not None
    # "configured" here is SetDefaults' word: the fields a manifest owns differ from
    # the live object's, so the two differ and comparing them whole would be wasted.
    if ctx.live is not None and ctx.outcome != Outcome.CONFIGURED and new == ctx.live:
        return
    size = new.ByteSize()
    if size > MAX_OBJECT_BYTES:
        raise InvalidResource(
            f"the object is {size} bytes encoded, more than the {MAX_OBJECT_BYTES} bytes "
            "(1 MiB) one stored object may have"
        )
    live = ctx.live
    if live is None:
        ctx.txn.put(new, expected_version=0)
        return
    live_md = live.metadata  # read once: a message field read costs ~1,000 instructions
    ctx.txn.put(new, expected_version=live_md.resource_version)
    if ctx.spec_changed:  # the generation moved
        # Same transaction as the write; the bytes SetDefaults made of the live object.
        kind = ctx.request.kind
        history.record(ctx.txn, live, ctx.history_limit, data=ctx.live_bytes, kind=kind)


def create_iam_policies(ctx: Context) -> None:
    """Records the owner and org tuples of the object (idempotent)."""
    assert ctx.new is not None
    ctx.authorizer.record(ctx.txn, ctx.new, ctx.actor)


def publish(ctx: Context) -> None:
    """Queues this pipeline's events for the bus, which masks and delivers them after commit.

    The durable copy of each event is already in the store's change feed:
    the store appends it in the same transaction as the write.
    """
    events = ctx.txn.events
    if len(events) == ctx.event_mark:
        return  # nothing written (an unchanged apply): nothing to announce
    # The objects this pipeline wrote are at hand; only others are read back.
    known = {o.metadata.id: o for o in (ctx.new, ctx.default_instance) if o is not None}
    known.update(ctx.written)  # the referrers a converge step rewrote, as written
    gone = {obj.metadata.id: obj for obj in ctx.deleted}
    for event in events[ctx.event_mark :]:
        if event.type == _DELETED:
            obj = gone.get(event.id)
        else:
            obj = known.get(event.id) or ctx.txn.find(event.kind, event.id)
        if obj is not None:
            ctx.outbox.append(Change(event, obj))


def transform_response(ctx: Context) -> None:
    """Masks secrets in the response, unless an admin asked to see them."""
    obj = ctx.new if ctx.new is not None else ctx.live
    if obj is None:
        return
    if ctx.show_secrets:
        if not ctx.authorizer.may_reveal_secrets(ctx.txn, ctx.actor, obj.metadata.org):
            raise secrets_forbidden(ctx.actor, obj.metadata.org)
        ctx.response = obj
        return
    ctx.response = masking.masked(obj) if ctx.secrets or obj is not ctx.new else obj


def hide_secret_changes(ctx: Context) -> None:
    """A dry run that only changes secrets reads ``unchanged`` to one who may not see them.

    Its outcome would otherwise tell a guessed secret from a wrong one; so
    for such a caller secret values are unknown, and compare as equal.
    """
    new, live, result = ctx.new, ctx.live, ctx.result
    if ctx.outcome != Outcome.CONFIGURED or new is None or live is None or result is None:
        return
    if ctx.authorizer.may_reveal_secrets(ctx.txn, ctx.actor, new.metadata.org):
        return
    if _user_view(masking.masked(new)) == _user_view(masking.masked(live)):
        result.outcome, result.object = Outcome.UNCHANGED, masking.masked(live)


def send_response(ctx: Context) -> None:
    """Turns the context into the Result the caller prints."""
    obj = ctx.response
    md = obj.metadata if obj is not None else None
    ctx.result = Result(
        kind=ctx.request.kind,
        name=md.slug if md is not None else ctx.request.name,
        org=md.org if md is not None else ctx.request.org,
        outcome=ctx.outcome,
        object=obj,
        source=ctx.request.source,
        # The context's own lists, not copies: this is the last step, so nothing adds to them.
        deleted=ctx.deleted,
        recreated=ctx.recreated,
        warnings=ctx.warnings,
    )


# -- delete and reconcile ------------------------------------------------------


def find_target(ctx: Context) -> Resource | None:
    """The object a name (slug, or id) refers to in the request's org."""
    org = ctx.request.org or naming.DEFAULT_ORG
    return find_named(ctx.txn, ctx.request.kind, org, ctx.request.name)


def load_live(ctx: Context) -> None:
    """Loads the object named by the request; NotFound if there is none."""
    ctx.live = find_target(ctx)
    if ctx.live is None:
        org = ctx.request.org or naming.DEFAULT_ORG
        raise NotFound(f'{ctx.request.kind.singular} "{ctx.request.name}" not found in org "{org}"')
    ctx.new = kinds.clone(ctx.live)
    ctx.outcome = Outcome.UNCHANGED


def delete_owned(ctx: Context) -> None:
    """Deletes the objects the target owns (cascade), in the same transaction."""
    assert ctx.live is not None
    for child in ctx.txn.list_owned(ctx.live.metadata.id):
        ctx.txn.delete(kinds.of(child).key, child.metadata.id)
        ctx.authorizer.forget(ctx.txn, child)
        history.forget(ctx.txn, child)
        ctx.deleted.append(child)


def delete_object(ctx: Context) -> None:
    """Deletes the target itself (compare-and-swap on its resource_version)."""
    live = ctx.live
    assert live is not None
    ctx.txn.delete(
        ctx.request.kind.key, live.metadata.id, expected_version=live.metadata.resource_version
    )
    history.forget(ctx.txn, live)
    ctx.deleted.insert(0, live)
    ctx.new = None
    ctx.outcome = Outcome.DELETED


def delete_iam_policies(ctx: Context) -> None:
    """Removes every tuple about the deleted object."""
    assert ctx.live is not None
    ctx.authorizer.forget(ctx.txn, ctx.live)


def mark_changed(ctx: Context) -> None:
    """For reconcile: "configured" when the reconcile wrote anything, else "unchanged"."""
    if len(ctx.txn.events) > ctx.event_mark:
        ctx.outcome = Outcome.CONFIGURED
