from stigmer.api.v1 import commons_pb2 as _commons_pb2
from stigmer.api.v1 import mcp_server_pb2 as _mcp_server_pb2
from stigmer.api.v1 import upstream_apiresource_pb2 as _upstream_apiresource_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class McpServerId(_message.Message):
    __slots__ = ("value",)
    VALUE_FIELD_NUMBER: _ClassVar[int]
    value: str
    def __init__(self, value: _Optional[str] = ...) -> None: ...
