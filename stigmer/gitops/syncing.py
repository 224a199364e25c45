"""Directory sync: make the store match a directory of manifests, GitOps style.

Every synced object records its source in two annotations: a stable id of
the directory and the file's path relative to it. That is what drift
correction and pruning go by:

- applying the directory's manifests again sets any object changed from
  outside back to the directory's version (apply is level-triggered);
- pruning deletes objects whose source is this directory but which no file
  declares any more; it never touches objects from other sources, and
  never the objects of a file that exists but cannot be read or parsed.

A directory that is missing or unreadable is refused before anything is
pruned. Files its ``.stigmerignore`` matches are left out, and files that are
not Stigmer manifests (a ``kustomization.yaml``, a Helm chart) are skipped
with one notice each (``stigmer.gitops.ignoring``). A file whose real path
lies outside the directory (a symbolic link to ``/etc/passwd``, say) is
skipped with one notice, unless
``follow_symlinks``: a synced tree must not read, or report the contents of,
files its author could not put in it. Parsed files are cached by (size,
mtime), so a resync of unchanged files only re-applies them, and the
per-file state is kept in the store's metadata for ``stigmer sync status``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict, cast

from stigmer import iam
from stigmer.api import kinds, naming
from stigmer.api.v1.event_pb2 import Event
from stigmer.errors import Problem, StigmerError, user_message
from stigmer.gitops import ignoring
from stigmer.manifests import loading, reading
from stigmer.manifests.reading import Manifest
from stigmer.reconcilers.framework import Outcome, Result, apply_request, delete_request
from stigmer.reconcilers.running import Session, run_batch
from stigmer.store import Store

log = logging.getLogger("stigmer.sync")

SOURCE = f"{naming.SYNC_ANNOTATION_PREFIX}source"
SOURCE_PATH = f"{naming.SYNC_ANNOTATION_PREFIX}path"


def source_id(directory: Path) -> str:
    """A stable id of a directory: a hash of its real, absolute path."""
    real = os.path.realpath(directory)
    return "dir-" + hashlib.sha256(real.encode()).hexdigest()[:16]


def state_key(source: str) -> str:
    return f"sync/{source}"


class FileState(TypedDict, total=False):
    """What the last sync did with one file (``stigmer sync status``)."""

    objects: list[str]  # "kind/name" of each object it applied
    revision: int  # the highest resource_version among them
    error: str  # its first problem; "" when it had none


class SyncState(TypedDict, total=False):
    """What a directory's last sync saved in the store (JSON, under ``state_key``)."""

    directory: str
    files: dict[str, FileState]  # by path, relative to the directory


@dataclass(slots=True)
class FileReport:
    """One file's part in a sync."""

    path: str  # relative to the directory
    problems: list[Problem] = field(default_factory=list)
    results: list[Result] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and all(r.ok for r in self.results)


@dataclass(slots=True)
class SyncReport:
    files: dict[str, FileReport] = field(default_factory=dict)
    pruned: list[Result] = field(default_factory=list)
    revision: int = 0
    skipped: list[str] = field(default_factory=list)  # notices: links out of the tree

    @property
    def ok(self) -> bool:
        return all(f.ok for f in self.files.values()) and all(r.ok for r in self.pruned)


@dataclass(slots=True)
class _Parsed:
    fingerprint: tuple[int, int]
    manifests: list[Manifest]
    problems: list[Problem]
    foreign: bool = False  # not a Stigmer manifest: skipped with a notice


class Syncer:
    """Keeps the store in step with one directory."""

    def __init__(
        self,
        store: Store,
        session: Session,
        directory: str | Path,
        *,
        prune: bool = False,
        follow_symlinks: bool = False,
    ) -> None:
        self.store, self.session = store, session
        self.root = Path(directory).absolute()
        self.source = source_id(self.root)
        self.prune = prune
        self.follow_symlinks = follow_symlinks
        self._cache: dict[str, _Parsed] = {}
        self._outside: dict[str, str] = {}  # relative path -> where it leads, told once each
        self._ignores = ignoring.Ignores(self.root)
        self._foreign_told: set[str] = set()  # files skipped as not Stigmer's, told once each
        self.healed = 0  # out-of-band changes set back as their events arrived (self-heal)
        self._synced = 0  # the revision after this syncer's last sync: its own writes are below

    # -- reading --------------------------------------------------------------

    def _check_root(self) -> None:
        if not self.root.is_dir():
            raise StigmerError(
                f"sync: {self.root} is missing or not a directory; nothing synced or pruned"
            )
        if not os.access(self.root, os.R_OK | os.X_OK):
            raise StigmerError(f"sync: {self.root} is not readable; nothing synced or pruned")

    def files(self) -> list[str]:
        """The manifest files of the directory tree, relative, sorted.

        Without ``follow_symlinks``, files whose real path is outside the tree
        are left out and remembered in ``_outside``.
        """
        found = loading.manifest_files(self.root, recursive=True)
        real_root = os.path.realpath(self.root)
        out = []
        rels = self._ignores.keep([str(path.relative_to(self.root)) for path in found])
        for rel in rels:
            path = self.root / rel
            real = os.path.realpath(path)
            if self.follow_symlinks or os.path.commonpath([real_root, real]) == real_root:
                out.append(rel)
            else:
                self._outside.setdefault(rel, real)
        return out

    def _notices(self) -> list[str]:
        """One notice for each link out of the tree not told of before."""
        told = [
            f"sync: skipped {rel}: it links to {real}, outside {self.root} "
            "(--follow-symlinks reads it)"
            for rel, real in self._outside.items()
            if real
        ]
        self._outside = dict.fromkeys(self._outside, "")  # told: kept, so never told again
        return told

    def _foreign_notices(self, parsed: dict[str, _Parsed]) -> list[str]:
        """One notice for each file skipped as not a Stigmer manifest, not told of before."""
        told = self._foreign_told
        new = sorted(rel for rel, p in parsed.items() if p.foreign and rel not in told)
        self._foreign_told.update(new)
        return [
            f"sync: skipped {rel}: not a Stigmer manifest "
            f"(it names no Stigmer kind or apiVersion {kinds.API_VERSION})"
            for rel in new
        ]

    def _parse(self, rel: str) -> _Parsed:
        path = self.root / rel
        try:
            st = path.stat()
        except OSError as e:
            return _Parsed((0, 0), [], [Problem(rel, 0, 0, "", f"cannot read: {e.strerror or e}")])
        fingerprint = (st.st_size, st.st_mtime_ns)
        cached = self._cache.get(rel)
        if cached is not None and cached.fingerprint == fingerprint:
            return cached
        try:
            foreign = not ignoring.is_stigmer_text(path.read_bytes())
        except OSError:
            foreign = False  # load_file says why it cannot be read
        if foreign:
            self._cache[rel] = _Parsed(fingerprint, [], [], foreign=True)
            return self._cache[rel]
        loaded = loading.load_file(path, source=rel)
        parsed = reading.parse_documents(loaded.documents, default_org=self.session.org)
        for m in parsed.manifests:
            m.resource.metadata.annotations[SOURCE] = self.source
            m.resource.metadata.annotations[SOURCE_PATH] = rel
            m.document.data = None  # converted already; the cache keeps only what it needs
        result = _Parsed(fingerprint, parsed.manifests, loaded.problems + parsed.problems)
        self._cache[rel] = result
        return result

    # -- syncing --------------------------------------------------------------

    def sync(self, changed: Iterable[str] | None = None) -> SyncReport:
        """Applies the whole tree (or only the ``changed`` relative paths) and prunes.

        A changed path that no longer exists has its objects pruned (with
        ``prune``). Raises StigmerError when the directory is missing.
        """
        self._check_root()
        present = set(self.files())
        wanted = sorted(present if changed is None else set(changed) & present)
        report = SyncReport(files={rel: FileReport(rel) for rel in wanted}, skipped=self._notices())
        parsed = {rel: self._parse(rel) for rel in wanted}
        report.skipped += self._foreign_notices(parsed)
        for rel, p in parsed.items():
            if p.foreign:
                del report.files[rel]  # not Stigmer's: neither applied nor recorded
            else:
                report.files[rel].problems = list(p.problems)
        declared = [m for rel in wanted for m in parsed[rel].manifests]
        manifests = _unique(report, declared, self.session.org)
        requests = [apply_request(_clone(m)) for m in manifests]
        results = run_batch(self.store, requests, self.session).results
        for m, result in zip(manifests, results, strict=True):
            report.files[m.document.source].results.append(result)
        if self.prune:
            gone = None if changed is None else set(changed) - present
            report.pruned = self._prune(present, parsed if changed is None else None, gone)
        report.revision = self._synced = self.store.revision()
        self._save_state(report, present)
        return report

    def _prune(
        self, present: set[str], parsed: dict[str, _Parsed] | None, gone: set[str] | None
    ) -> list[Result]:
        """Deletes this directory's objects that no readable file declares any more."""
        declared = {
            reading.identity(m, self.session.org)
            for rel in present
            for m in (parsed[rel] if parsed is not None else self._parse(rel)).manifests
        }
        broken = {rel for rel in present if self._parse(rel).problems}
        doomed = []
        for k in kinds.KINDS:
            for obj in self.store.list(k.key):
                ann = obj.metadata.annotations
                if ann.get(SOURCE) != self.source or ann.get(SOURCE_PATH) in broken:
                    continue
                if gone is not None and ann.get(SOURCE_PATH) not in gone:
                    continue  # a partial sync prunes only what the deleted files declared
                if (k.key, obj.metadata.org, obj.metadata.slug) not in declared:
                    doomed.append(obj)
        requests = [delete_request(obj) for obj in doomed]
        return run_batch(self.store, requests, self.session).results if doomed else []

    # -- state ----------------------------------------------------------------

    def _save_state(self, report: SyncReport, present: set[str]) -> None:
        """Records each file's objects, last applied revision and last error."""
        old = self.load_state()
        files: dict[str, FileState] = {
            rel: entry for rel, entry in old.get("files", {}).items() if rel in present
        }
        for rel, fr in report.files.items():
            entry = files.get(rel, FileState()).copy()  # a copy: old must stay as it was
            ok = [r for r in fr.results if r.ok]
            if ok:
                entry["objects"] = sorted(f"{r.kind.singular}/{r.name}" for r in ok)
                versions = [r.object.metadata.resource_version for r in ok if r.object is not None]
                entry["revision"] = max(versions, default=entry.get("revision", 0))
            errors = [str(p) for p in fr.problems]
            errors += [user_message(r.error) for r in fr.results if r.error is not None]
            entry["error"] = errors[0] if errors else ""
            files[rel] = entry
        state = SyncState(directory=str(self.root), files=files)
        if state != old:
            text = json.dumps(state, sort_keys=True)
            self.store.transact(lambda w: w.set_meta(state_key(self.source), text))

    def drifted(self, events: Iterable[Event]) -> dict[str, list[Event]]:
        """The files whose objects these events changed from outside this sync, with the events.

        The controller's writes touch only what apply does not own. This
        syncer's own writes are those of its user up to the revision its last
        sync ended at; a later write by the same user (a manual apply, an
        edit, a rollback) is drift like anyone else's.
        """
        declared = {
            reading.identity(m, self.session.org): rel
            for rel, parsed in self._cache.items()
            for m in parsed.manifests
        }
        found: dict[str, list[Event]] = {}
        for e in events:
            if e.actor == iam.CONTROLLER:
                continue
            if e.actor == self.session.actor and e.revision <= self._synced:
                continue
            rel = declared.get((e.kind, e.org, e.slug))
            if rel is not None:
                found.setdefault(rel, []).append(e)
        return found

    def heal(self, events: Iterable[Event]) -> SyncReport | None:
        """Sets back what these events changed from outside; logs and counts each correction.

        Called with each batch of the change feed (``sync --watch``), so an
        out-of-band change is undone as soon as it commits, not at the next
        resync. None when the events touched nothing this directory declares.
        """
        drift = self.drifted(events)
        if not drift:
            return None
        report = self.sync(drift)
        causes = {(e.kind, e.org, e.slug): e for found in drift.values() for e in found}
        for rel in drift:
            for r in report.files[rel].results if rel in report.files else []:
                cause = causes.get((r.kind.key, r.org, r.name))
                if r.ok and r.outcome in (Outcome.CREATED, Outcome.CONFIGURED) and cause:
                    self.healed += 1
                    log.warning(
                        "self-heal: %s/%s set back to %s (changed by %s at revision %d)",
                        r.kind.singular,
                        r.name,
                        rel,
                        cause.actor or "?",
                        cause.revision,
                    )
        return report

    def follow(
        self,
        stop: threading.Event,
        *,
        report: Callable[[SyncReport], None],
        resync_seconds: float = 300.0,
        self_heal: bool = True,
    ) -> None:
        """Syncs the directory, then each change to it, until ``stop`` is set (``--watch``).

        Each sync's report goes to ``report``. With ``self_heal`` a change made to
        the store from outside is set back as it commits (``heal``). See
        stigmer.gitops.watching, which runs the loop.
        """
        from stigmer.gitops.watching import watch  # watchfiles: only a watching sync loads it

        watch(self, stop, report=report, resync_seconds=resync_seconds, self_heal=self_heal)

    def load_state(self) -> SyncState:
        """What this directory's last sync saved; empty when it has not been synced here."""
        raw = self.store.get_meta(state_key(self.source))
        return cast(SyncState, json.loads(raw)) if raw else SyncState()


def directory_of(store: Store, source: str) -> str | None:
    """The directory a sync source id stands for, from the state its last sync saved."""
    raw = store.get_meta(state_key(source))
    directory = json.loads(raw).get("directory") if raw else None
    return directory if isinstance(directory, str) else None


def _clone(m: Manifest) -> Any:
    """A copy to apply: the pipeline fills in defaults on the object it is given."""
    return Manifest(m.document, m.kind, kinds.clone(m.resource))


def _unique(report: SyncReport, manifests: list[Manifest], org: str) -> list[Manifest]:
    """Drops (and reports) a second declaration of one object in another file."""
    seen: dict[tuple[str, str, str], Manifest] = {}
    out = []
    for m in manifests:
        key = reading.identity(m, org)
        if key in seen:
            first = seen[key]
            report.files[m.document.source].problems.append(
                m.document.problem(
                    ("metadata", "name"),
                    f'{m.kind.singular} "{key[2]}" is already declared at {first.where}',
                )
            )
            continue
        seen[key] = m
        out.append(m)
    return out
