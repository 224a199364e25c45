"""Generated protobuf modules (``stigmer.api.v1``) and the kind registry."""
