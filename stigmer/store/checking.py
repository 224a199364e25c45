"""What ``check()`` and ``repair()`` share on every backend: the indexes the objects imply.

A backend reads its stored objects and index entries into the plain tuples
below; ``Indexes.expected`` says what the index entries should be, and
``compare`` names every difference, both ways. ``repair`` then deletes the
stray entries and writes the missing ones, in one transaction. Nothing here
raises on damaged data: a value that cannot be read is a finding.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from stigmer.api import kinds
from stigmer.api.kinds import Resource
from stigmer.store.objects import inspect_object

SlugKey = tuple[str, str, str]  # kind, org, slug
OrgKey = tuple[str, str, str]  # kind, org, id
OwnerKey = tuple[str, str, str]  # owner id, kind, id
_KEYS = frozenset(k.key for k in kinds.KINDS)


@dataclass
class Indexes:
    """Index entries, as tuples: slugs map to an id, the others are sets."""

    slugs: dict[SlugKey, str] = field(default_factory=dict)
    by_org: set[OrgKey] = field(default_factory=set)
    by_owner: set[OwnerKey] = field(default_factory=set)
    newest_version: int = 0  # the highest resource_version of the objects added

    def add(self, kind: str, id: str, obj: Resource, problems: list[str]) -> None:
        """Adds the entries ``obj`` implies; a slug two objects claim is a problem."""
        md = obj.metadata
        holder = self.slugs.setdefault((kind, md.org, md.slug), id)
        if holder != id:
            problems.append(f'{kind}/{id}: slug "{md.slug}" in org "{md.org}" is also {holder}\'s')
        self.by_org.add((kind, md.org, id))
        self.by_owner.update((ref.id, kind, id) for ref in md.owner_references)
        self.newest_version = max(self.newest_version, md.resource_version)


def decode_objects(
    rows: Iterable[tuple[str, str, bytes]], *, revision: int, problems: list[str]
) -> Indexes:
    """The index entries that the stored objects (kind, id, bytes) imply.

    An object of an unknown kind, or that does not decode, is a problem and
    implies nothing.
    """
    wanted = Indexes()
    for kind, id, blob in rows:
        where = f"objects/{kind}/{id}"
        if kind not in _KEYS:
            problems.append(f'{where}: unknown kind "{kind}"')
            continue
        obj = inspect_object(where, kind, id, blob, revision=revision, problems=problems)
        if obj is not None:
            wanted.add(kind, id, obj, problems)
    return wanted


@dataclass
class Differences:
    """What the stored index entries lack, and what they hold that they should not."""

    missing: Indexes
    stray: Indexes

    def __bool__(self) -> bool:
        return bool(self.missing.slugs or self.missing.by_org or self.missing.by_owner) or bool(
            self.stray.slugs or self.stray.by_org or self.stray.by_owner
        )

    def problems(self, objects: str) -> list[str]:
        """What ``check()`` reports: missing entries by object (under ``objects``), then strays."""
        out = [
            f"{objects}/{k}/{id}: slug index entry missing or wrong"
            for (k, _, _), id in _sorted(self.missing.slugs)
        ]
        out += [
            f"{objects}/{k}/{id}: org index entry missing"
            for k, _, id in sorted(self.missing.by_org)
        ]
        out += [
            f"{objects}/{k}/{id}: owner index entry missing"
            for _, k, id in sorted(self.missing.by_owner)
        ]
        return out + [f"{entry}: points at no live object" for entry in _entries(self.stray)]

    def changes(self) -> list[str]:
        """What ``repair()`` reports it changed."""
        removed = [f"{entry}: removed" for entry in _entries(self.stray)]
        return removed + [f"{entry}: added" for entry in _entries(self.missing)]


def _sorted(slugs: dict[SlugKey, str]) -> list[tuple[SlugKey, str]]:
    return sorted(slugs.items())


def _entries(ix: Indexes) -> list[str]:
    """Each entry of ``ix`` as it is named in reports."""
    out = [f"slugs/{k}/{o}/{s}" for (k, o, s), _ in _sorted(ix.slugs)]
    out += [f"by_org/{k}/{o}/{id}" for k, o, id in sorted(ix.by_org)]
    return out + [f"by_owner/{w} -> {k}/{id}" for w, k, id in sorted(ix.by_owner)]


def compare(wanted: Indexes, stored: Indexes) -> Differences:
    """The entries ``stored`` lacks and the ones it should not hold (a wrong slug is both)."""
    missing = Indexes(
        slugs={k: v for k, v in wanted.slugs.items() if stored.slugs.get(k) != v},
        by_org=wanted.by_org - stored.by_org,
        by_owner=wanted.by_owner - stored.by_owner,
    )
    stray = Indexes(
        slugs={k: v for k, v in stored.slugs.items() if wanted.slugs.get(k) != v},
        by_org=stored.by_org - wanted.by_org,
        by_owner=stored.by_owner - wanted.by_owner,
    )
    return Differences(missing, stray)


EventEntry = tuple[str, str, int]  # kind, id, revision: one entry of the feed's object index


@dataclass
class EventIndex:
    """The change feed's per-object index against its events: entries missing, and stray.

    ``describe`` reads an object's events through that index, so a missing entry
    hides an event and a stray one names an event that is gone.
    """

    missing: set[EventEntry]
    stray: set[EventEntry]

    def problems(self, index: str) -> list[str]:
        """What ``check()`` reports, naming the backend's ``index`` (by_object, event_index)."""
        out = [f"events/{rev}: {index} entry missing" for _, _, rev in _by_revision(self.missing)]
        return out + [f"{entry}: points at no event" for entry in _event_entries(index, self.stray)]

    def changes(self, index: str) -> list[str]:
        """What ``repair()`` reports it changed."""
        removed = [f"{entry}: removed" for entry in _event_entries(index, self.stray)]
        return removed + [f"{entry}: added" for entry in _event_entries(index, self.missing)]


def compare_events(events: set[EventEntry], stored: set[EventEntry]) -> EventIndex:
    """The entries the readable ``events`` imply that ``stored`` lacks, and the stray ones."""
    return EventIndex(missing=events - stored, stray=stored - events)


def _by_revision(entries: set[EventEntry]) -> list[EventEntry]:
    return sorted(entries, key=lambda e: (e[2], e[0], e[1]))


def _event_entries(index: str, entries: set[EventEntry]) -> list[str]:
    return [f"{index}/{kind}/{id}@{rev}" for kind, id, rev in _by_revision(entries)]
