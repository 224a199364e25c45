from stigmer.api.v1 import event_pb2 as _event_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AnyResource(_message.Message):
    __slots__ = ("kind", "data")
    KIND_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    kind: str
    data: bytes
    def __init__(self, kind: _Optional[str] = ..., data: _Optional[bytes] = ...) -> None: ...

class ListRequest(_message.Message):
    __slots__ = ("kind", "org", "all_orgs", "selector", "show_secrets")
    KIND_FIELD_NUMBER: _ClassVar[int]
    ORG_FIELD_NUMBER: _ClassVar[int]
    ALL_ORGS_FIELD_NUMBER: _ClassVar[int]
    SELECTOR_FIELD_NUMBER: _ClassVar[int]
    SHOW_SECRETS_FIELD_NUMBER: _ClassVar[int]
    kind: str
    org: str
    all_orgs: bool
    selector: str
    show_secrets: bool
    def __init__(self, kind: _Optional[str] = ..., org: _Optional[str] = ..., all_orgs: _Optional[bool] = ..., selector: _Optional[str] = ..., show_secrets: _Optional[bool] = ...) -> None: ...

class ListResponse(_message.Message):
    __slots__ = ("items", "revision")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[AnyResource]
    revision: int
    def __init__(self, items: _Optional[_Iterable[_Union[AnyResource, _Mapping]]] = ..., revision: _Optional[int] = ...) -> None: ...

class WatchRequest(_message.Message):
    __slots__ = ("kind", "org", "from_revision", "from_now")
    KIND_FIELD_NUMBER: _ClassVar[int]
    ORG_FIELD_NUMBER: _ClassVar[int]
    FROM_REVISION_FIELD_NUMBER: _ClassVar[int]
    FROM_NOW_FIELD_NUMBER: _ClassVar[int]
    kind: str
    org: str
    from_revision: int
    from_now: bool
    def __init__(self, kind: _Optional[str] = ..., org: _Optional[str] = ..., from_revision: _Optional[int] = ..., from_now: _Optional[bool] = ...) -> None: ...

class WatchEvent(_message.Message):
    __slots__ = ("event", "object")
    EVENT_FIELD_NUMBER: _ClassVar[int]
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    event: _event_pb2.Event
    object: AnyResource
    def __init__(self, event: _Optional[_Union[_event_pb2.Event, _Mapping]] = ..., object: _Optional[_Union[AnyResource, _Mapping]] = ...) -> None: ...

class Problem(_message.Message):
    __slots__ = ("file", "line", "column", "path", "message")
    FILE_FIELD_NUMBER: _ClassVar[int]
    LINE_FIELD_NUMBER: _ClassVar[int]
    COLUMN_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    file: str
    line: int
    column: int
    path: str
    message: str
    def __init__(self, file: _Optional[str] = ..., line: _Optional[int] = ..., column: _Optional[int] = ..., path: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class Error(_message.Message):
    __slots__ = ("type", "message", "path")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    type: str
    message: str
    path: str
    def __init__(self, type: _Optional[str] = ..., message: _Optional[str] = ..., path: _Optional[str] = ...) -> None: ...

class Source(_message.Message):
    __slots__ = ("name", "text")
    NAME_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    name: str
    text: str
    def __init__(self, name: _Optional[str] = ..., text: _Optional[str] = ...) -> None: ...

class ApplyRequest(_message.Message):
    __slots__ = ("org", "strict_org", "sources", "objects", "dry_run", "atomic", "expect_version", "show_secrets", "verbs")
    ORG_FIELD_NUMBER: _ClassVar[int]
    STRICT_ORG_FIELD_NUMBER: _ClassVar[int]
    SOURCES_FIELD_NUMBER: _ClassVar[int]
    OBJECTS_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    ATOMIC_FIELD_NUMBER: _ClassVar[int]
    EXPECT_VERSION_FIELD_NUMBER: _ClassVar[int]
    SHOW_SECRETS_FIELD_NUMBER: _ClassVar[int]
    VERBS_FIELD_NUMBER: _ClassVar[int]
    org: str
    strict_org: bool
    sources: _containers.RepeatedCompositeFieldContainer[Source]
    objects: _containers.RepeatedCompositeFieldContainer[AnyResource]
    dry_run: bool
    atomic: bool
    expect_version: bool
    show_secrets: bool
    verbs: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, org: _Optional[str] = ..., strict_org: _Optional[bool] = ..., sources: _Optional[_Iterable[_Union[Source, _Mapping]]] = ..., objects: _Optional[_Iterable[_Union[AnyResource, _Mapping]]] = ..., dry_run: _Optional[bool] = ..., atomic: _Optional[bool] = ..., expect_version: _Optional[bool] = ..., show_secrets: _Optional[bool] = ..., verbs: _Optional[_Iterable[str]] = ...) -> None: ...

class Result(_message.Message):
    __slots__ = ("kind", "name", "org", "outcome", "object", "error", "source", "deleted", "recreated", "warnings", "synced_directory")
    KIND_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ORG_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    DELETED_FIELD_NUMBER: _ClassVar[int]
    RECREATED_FIELD_NUMBER: _ClassVar[int]
    WARNINGS_FIELD_NUMBER: _ClassVar[int]
    SYNCED_DIRECTORY_FIELD_NUMBER: _ClassVar[int]
    kind: str
    name: str
    org: str
    outcome: str
    object: AnyResource
    error: Error
    source: str
    deleted: _containers.RepeatedCompositeFieldContainer[AnyResource]
    recreated: _containers.RepeatedCompositeFieldContainer[AnyResource]
    warnings: _containers.RepeatedScalarFieldContainer[str]
    synced_directory: str
    def __init__(self, kind: _Optional[str] = ..., name: _Optional[str] = ..., org: _Optional[str] = ..., outcome: _Optional[str] = ..., object: _Optional[_Union[AnyResource, _Mapping]] = ..., error: _Optional[_Union[Error, _Mapping]] = ..., source: _Optional[str] = ..., deleted: _Optional[_Iterable[_Union[AnyResource, _Mapping]]] = ..., recreated: _Optional[_Iterable[_Union[AnyResource, _Mapping]]] = ..., warnings: _Optional[_Iterable[str]] = ..., synced_directory: _Optional[str] = ...) -> None: ...

class ApplyResponse(_message.Message):
    __slots__ = ("problems", "results", "committed")
    PROBLEMS_FIELD_NUMBER: _ClassVar[int]
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    COMMITTED_FIELD_NUMBER: _ClassVar[int]
    problems: _containers.RepeatedCompositeFieldContainer[Problem]
    results: _containers.RepeatedCompositeFieldContainer[Result]
    committed: bool
    def __init__(self, problems: _Optional[_Iterable[_Union[Problem, _Mapping]]] = ..., results: _Optional[_Iterable[_Union[Result, _Mapping]]] = ..., committed: _Optional[bool] = ...) -> None: ...

class Results(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[Result]
    def __init__(self, results: _Optional[_Iterable[_Union[Result, _Mapping]]] = ...) -> None: ...

class GetRequest(_message.Message):
    __slots__ = ("kind", "name", "org", "show_secrets", "verb", "by_id")
    KIND_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ORG_FIELD_NUMBER: _ClassVar[int]
    SHOW_SECRETS_FIELD_NUMBER: _ClassVar[int]
    VERB_FIELD_NUMBER: _ClassVar[int]
    BY_ID_FIELD_NUMBER: _ClassVar[int]
    kind: str
    name: str
    org: str
    show_secrets: bool
    verb: str
    by_id: bool
    def __init__(self, kind: _Optional[str] = ..., name: _Optional[str] = ..., org: _Optional[str] = ..., show_secrets: _Optional[bool] = ..., verb: _Optional[str] = ..., by_id: _Optional[bool] = ...) -> None: ...

class DeleteRequest(_message.Message):
    __slots__ = ("kind", "name", "org", "dry_run")
    KIND_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ORG_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    kind: str
    name: str
    org: str
    dry_run: bool
    def __init__(self, kind: _Optional[str] = ..., name: _Optional[str] = ..., org: _Optional[str] = ..., dry_run: _Optional[bool] = ...) -> None: ...

class DeleteAllRequest(_message.Message):
    __slots__ = ("kind", "org", "all_orgs", "selector", "dry_run")
    KIND_FIELD_NUMBER: _ClassVar[int]
    ORG_FIELD_NUMBER: _ClassVar[int]
    ALL_ORGS_FIELD_NUMBER: _ClassVar[int]
    SELECTOR_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    kind: str
    org: str
    all_orgs: bool
    selector: str
    dry_run: bool
    def __init__(self, kind: _Optional[str] = ..., org: _Optional[str] = ..., all_orgs: _Optional[bool] = ..., selector: _Optional[str] = ..., dry_run: _Optional[bool] = ...) -> None: ...

class Identity(_message.Message):
    __slots__ = ("kind", "org", "slug")
    KIND_FIELD_NUMBER: _ClassVar[int]
    ORG_FIELD_NUMBER: _ClassVar[int]
    SLUG_FIELD_NUMBER: _ClassVar[int]
    kind: str
    org: str
    slug: str
    def __init__(self, kind: _Optional[str] = ..., org: _Optional[str] = ..., slug: _Optional[str] = ...) -> None: ...

class PruneRequest(_message.Message):
    __slots__ = ("selector", "keep", "orgs", "dry_run")
    SELECTOR_FIELD_NUMBER: _ClassVar[int]
    KEEP_FIELD_NUMBER: _ClassVar[int]
    ORGS_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    selector: str
    keep: _containers.RepeatedCompositeFieldContainer[Identity]
    orgs: _containers.RepeatedScalarFieldContainer[str]
    dry_run: bool
    def __init__(self, selector: _Optional[str] = ..., keep: _Optional[_Iterable[_Union[Identity, _Mapping]]] = ..., orgs: _Optional[_Iterable[str]] = ..., dry_run: _Optional[bool] = ...) -> None: ...

class DiffItem(_message.Message):
    __slots__ = ("kind", "name", "org", "live", "desired", "text", "error")
    KIND_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ORG_FIELD_NUMBER: _ClassVar[int]
    LIVE_FIELD_NUMBER: _ClassVar[int]
    DESIRED_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    kind: str
    name: str
    org: str
    live: str
    desired: str
    text: str
    error: Error
    def __init__(self, kind: _Optional[str] = ..., name: _Optional[str] = ..., org: _Optional[str] = ..., live: _Optional[str] = ..., desired: _Optional[str] = ..., text: _Optional[str] = ..., error: _Optional[_Union[Error, _Mapping]] = ...) -> None: ...

class DiffRequest(_message.Message):
    __slots__ = ("org", "objects")
    ORG_FIELD_NUMBER: _ClassVar[int]
    OBJECTS_FIELD_NUMBER: _ClassVar[int]
    org: str
    objects: _containers.RepeatedCompositeFieldContainer[AnyResource]
    def __init__(self, org: _Optional[str] = ..., objects: _Optional[_Iterable[_Union[AnyResource, _Mapping]]] = ...) -> None: ...

class DiffResponse(_message.Message):
    __slots__ = ("diffs",)
    DIFFS_FIELD_NUMBER: _ClassVar[int]
    diffs: _containers.RepeatedCompositeFieldContainer[DiffItem]
    def __init__(self, diffs: _Optional[_Iterable[_Union[DiffItem, _Mapping]]] = ...) -> None: ...

class Objects(_message.Message):
    __slots__ = ("items",)
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[AnyResource]
    def __init__(self, items: _Optional[_Iterable[_Union[AnyResource, _Mapping]]] = ...) -> None: ...

class VisibleOrgsRequest(_message.Message):
    __slots__ = ("kind", "verb")
    KIND_FIELD_NUMBER: _ClassVar[int]
    VERB_FIELD_NUMBER: _ClassVar[int]
    kind: str
    verb: str
    def __init__(self, kind: _Optional[str] = ..., verb: _Optional[str] = ...) -> None: ...

class Orgs(_message.Message):
    __slots__ = ("orgs",)
    ORGS_FIELD_NUMBER: _ClassVar[int]
    orgs: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, orgs: _Optional[_Iterable[str]] = ...) -> None: ...

class ObjectRequest(_message.Message):
    __slots__ = ("object", "show_secrets", "limit")
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    SHOW_SECRETS_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    object: AnyResource
    show_secrets: bool
    limit: int
    def __init__(self, object: _Optional[_Union[AnyResource, _Mapping]] = ..., show_secrets: _Optional[bool] = ..., limit: _Optional[int] = ...) -> None: ...

class RefState(_message.Message):
    __slots__ = ("kind", "org", "slug", "path", "version", "state")
    KIND_FIELD_NUMBER: _ClassVar[int]
    ORG_FIELD_NUMBER: _ClassVar[int]
    SLUG_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    kind: str
    org: str
    slug: str
    path: str
    version: str
    state: str
    def __init__(self, kind: _Optional[str] = ..., org: _Optional[str] = ..., slug: _Optional[str] = ..., path: _Optional[str] = ..., version: _Optional[str] = ..., state: _Optional[str] = ...) -> None: ...

class RefStates(_message.Message):
    __slots__ = ("states",)
    STATES_FIELD_NUMBER: _ClassVar[int]
    states: _containers.RepeatedCompositeFieldContainer[RefState]
    def __init__(self, states: _Optional[_Iterable[_Union[RefState, _Mapping]]] = ...) -> None: ...

class EnvEntry(_message.Message):
    __slots__ = ("name", "value", "secret", "source", "required")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    SECRET_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_FIELD_NUMBER: _ClassVar[int]
    name: str
    value: str
    secret: bool
    source: str
    required: bool
    def __init__(self, name: _Optional[str] = ..., value: _Optional[str] = ..., secret: _Optional[bool] = ..., source: _Optional[str] = ..., required: _Optional[bool] = ...) -> None: ...

class EnvEntries(_message.Message):
    __slots__ = ("entries",)
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[EnvEntry]
    def __init__(self, entries: _Optional[_Iterable[_Union[EnvEntry, _Mapping]]] = ...) -> None: ...

class Events(_message.Message):
    __slots__ = ("events",)
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[_event_pb2.Event]
    def __init__(self, events: _Optional[_Iterable[_Union[_event_pb2.Event, _Mapping]]] = ...) -> None: ...

class RoleRequest(_message.Message):
    __slots__ = ("user", "role", "org")
    USER_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    ORG_FIELD_NUMBER: _ClassVar[int]
    user: str
    role: str
    org: str
    def __init__(self, user: _Optional[str] = ..., role: _Optional[str] = ..., org: _Optional[str] = ...) -> None: ...

class Granted(_message.Message):
    __slots__ = ("granted",)
    GRANTED_FIELD_NUMBER: _ClassVar[int]
    granted: bool
    def __init__(self, granted: _Optional[bool] = ...) -> None: ...

class BindingsRequest(_message.Message):
    __slots__ = ("org", "user")
    ORG_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    org: str
    user: str
    def __init__(self, org: _Optional[str] = ..., user: _Optional[str] = ...) -> None: ...

class Binding(_message.Message):
    __slots__ = ("org", "role", "user", "via")
    ORG_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    VIA_FIELD_NUMBER: _ClassVar[int]
    org: str
    role: str
    user: str
    via: str
    def __init__(self, org: _Optional[str] = ..., role: _Optional[str] = ..., user: _Optional[str] = ..., via: _Optional[str] = ...) -> None: ...

class Bindings(_message.Message):
    __slots__ = ("bindings",)
    BINDINGS_FIELD_NUMBER: _ClassVar[int]
    bindings: _containers.RepeatedCompositeFieldContainer[Binding]
    def __init__(self, bindings: _Optional[_Iterable[_Union[Binding, _Mapping]]] = ...) -> None: ...

class CheckRequest(_message.Message):
    __slots__ = ("user", "verb", "kind", "org")
    USER_FIELD_NUMBER: _ClassVar[int]
    VERB_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    ORG_FIELD_NUMBER: _ClassVar[int]
    user: str
    verb: str
    kind: str
    org: str
    def __init__(self, user: _Optional[str] = ..., verb: _Optional[str] = ..., kind: _Optional[str] = ..., org: _Optional[str] = ...) -> None: ...

class Decision(_message.Message):
    __slots__ = ("allowed", "reason")
    ALLOWED_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    allowed: bool
    reason: str
    def __init__(self, allowed: _Optional[bool] = ..., reason: _Optional[str] = ...) -> None: ...

class TokenRequest(_message.Message):
    __slots__ = ("user", "ttl")
    USER_FIELD_NUMBER: _ClassVar[int]
    TTL_FIELD_NUMBER: _ClassVar[int]
    user: str
    ttl: str
    def __init__(self, user: _Optional[str] = ..., ttl: _Optional[str] = ...) -> None: ...

class Token(_message.Message):
    __slots__ = ("token",)
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    token: str
    def __init__(self, token: _Optional[str] = ...) -> None: ...

class TokensRequest(_message.Message):
    __slots__ = ("user",)
    USER_FIELD_NUMBER: _ClassVar[int]
    user: str
    def __init__(self, user: _Optional[str] = ...) -> None: ...

class TokenInfo(_message.Message):
    __slots__ = ("id", "user", "created", "expires", "last_used", "revoked")
    ID_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_FIELD_NUMBER: _ClassVar[int]
    LAST_USED_FIELD_NUMBER: _ClassVar[int]
    REVOKED_FIELD_NUMBER: _ClassVar[int]
    id: str
    user: str
    created: float
    expires: float
    last_used: float
    revoked: bool
    def __init__(self, id: _Optional[str] = ..., user: _Optional[str] = ..., created: _Optional[float] = ..., expires: _Optional[float] = ..., last_used: _Optional[float] = ..., revoked: _Optional[bool] = ...) -> None: ...

class Tokens(_message.Message):
    __slots__ = ("tokens",)
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    tokens: _containers.RepeatedCompositeFieldContainer[TokenInfo]
    def __init__(self, tokens: _Optional[_Iterable[_Union[TokenInfo, _Mapping]]] = ...) -> None: ...

class RevokeTokensRequest(_message.Message):
    __slots__ = ("ids",)
    IDS_FIELD_NUMBER: _ClassVar[int]
    ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, ids: _Optional[_Iterable[str]] = ...) -> None: ...

class Revision(_message.Message):
    __slots__ = ("revision",)
    REVISION_FIELD_NUMBER: _ClassVar[int]
    revision: int
    def __init__(self, revision: _Optional[int] = ...) -> None: ...

class Nothing(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...
