from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class ApiResourceId(_message.Message):
    __slots__ = ("value",)
    VALUE_FIELD_NUMBER: _ClassVar[int]
    value: str
    def __init__(self, value: _Optional[str] = ...) -> None: ...

class ApiResourceDeleteInput(_message.Message):
    __slots__ = ("resource_id", "version_message", "force")
    RESOURCE_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    FORCE_FIELD_NUMBER: _ClassVar[int]
    resource_id: str
    version_message: str
    force: bool
    def __init__(self, resource_id: _Optional[str] = ..., version_message: _Optional[str] = ..., force: _Optional[bool] = ...) -> None: ...
