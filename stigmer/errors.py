"""Every error Stigmer raises, each carrying what a user needs to fix it.

The tree::

    StigmerError                  base class; str(error) is one line for users
    ├── UsageError                the command or call was malformed (exit code 2)
    ├── InvalidSelector           a label selector that does not parse
    ├── ManifestError             input documents with problems; .problems lists them
    ├── InvalidResource           a resource that breaks a rule the schema cannot state
    ├── Forbidden                 the actor may not do this
    ├── StepFailed                a reconcile pipeline step failed; names the step
    └── StoreError                anything from a store backend
        ├── NotFound              no such object
        ├── AlreadyExists         the (kind, org, slug) or id is taken
        ├── Conflict              compare-and-swap lost: resource_version moved on
        ├── StoreFull             the store cannot grow any further (or the disk is full)
        ├── NoStore               nothing is stored at the path a read names
        ├── KeyTooLong            a key is longer than every backend can store
        ├── StoreClosed           the store was closed
        ├── StoreLocked           another controller holds the data dir
        ├── Expired               a watch's revision was compacted away: re-list
        └── StoreVersionError     the store was written by a newer Stigmer

The CLI maps UsageError to exit code 2 and every other StigmerError to exit
code 1, printing ``str(error)`` without a traceback.
"""

from __future__ import annotations

from typing import NamedTuple


class StigmerError(Exception):
    """Base class of every error Stigmer raises on purpose."""


class UsageError(StigmerError):
    """The command or call was malformed."""


class InvalidSelector(UsageError):
    """A label selector does not parse."""


# A NamedTuple, not a frozen dataclass: every command imports this module, and making a frozen
# dataclass costs some 3.4 M instructions, a NamedTuple 0.4 M (bench/README.md, wave 7).
class Problem(NamedTuple):
    """One thing wrong with an input document, located in its source file.

    ``line`` and ``column`` are 1-based and count from the start of the file,
    across all the documents in it; 0 means unknown.
    """

    file: str
    line: int
    column: int
    path: str
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.line:
            where += f":{self.line}:{self.column}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class ManifestError(StigmerError):
    """Input documents with one or more problems."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class InvalidResource(StigmerError):
    """A resource breaks a rule, such as a name that yields no slug.

    ``path`` names the offending field (``metadata.name``) when there is one.
    """

    def __init__(self, message: str, *, path: str = "") -> None:
        self.path = path
        self.message = message
        super().__init__(f"{path}: {message}" if path else message)


class Forbidden(StigmerError):
    """The actor may not perform the operation."""


class StepFailed(StigmerError):
    """A pipeline step failed. ``step`` names it; ``cause`` is the error.

    ``terminal`` is True when retrying cannot help (bad input, denied access).
    """

    def __init__(self, step: str, cause: BaseException, *, terminal: bool) -> None:
        self.step = step
        self.cause = cause
        self.terminal = terminal
        self.steps: list[tuple[str, int]] = []  # the steps run, (name, ns), when timed
        super().__init__(f"{step}: {cause}")


def user_message(error: BaseException) -> str:
    """What a user is told about ``error``: a failed step's cause, never the step's name.

    Step names (``ResolveAgentRef``) are for logs and conditions, not for messages.
    """
    return str(error.cause if isinstance(error, StepFailed) else error)


class StoreError(StigmerError):
    """Anything that went wrong in a store backend."""


class NotFound(StoreError):
    """No such object. ``path`` names the manifest field that referred to it, if one did."""

    def __init__(self, *args: object, path: str = "") -> None:
        super().__init__(*args)
        self.path = path


class AlreadyExists(StoreError):
    """The object's identity is already taken."""


class Conflict(StoreError):
    """A compare-and-swap write lost: the object changed since it was read.

    ``path`` names the manifest field that disagrees with the live object
    (``metadata.resourceVersion``) when there is one.
    """

    def __init__(self, message: str, *, path: str = "") -> None:
        self.path = path
        self.message = message
        super().__init__(f"{path}: {message}" if path else message)


class StoreFull(StoreError):
    """The store cannot grow any further (disk or address space is exhausted)."""


class NoStore(StoreError):
    """A read named a data dir or file where no store exists; reading creates none."""


class KeyTooLong(StoreError):
    """A key (kind, org, slug, id, or relation tuple) is too long for the store.

    Validation stops such names earlier; this keeps every backend refusing the
    same keys, with the same message, instead of failing in a library.
    """


class StoreClosed(StoreError):
    """The store was closed; open it again to use it."""


class StoreLocked(StoreError):
    """Another process holds the data dir's controller lock."""


class Expired(StoreError):
    """A watch started (or fell) behind the change feed's retention: re-list, then watch.

    Like Kubernetes' 410 Gone: the events after ``revision`` up to ``compacted``
    are gone, so the watcher cannot know what changed. It lists again and
    watches from the revision its list saw.
    """

    def __init__(self, revision: int, compacted: int) -> None:
        self.revision, self.compacted = revision, compacted
        super().__init__(
            f"watch from revision {revision} has expired: the change feed keeps the events "
            f"after revision {compacted} only; list again and watch from there"
        )


class StoreVersionError(StoreError):
    """The store's schema is newer than this version of Stigmer understands."""
