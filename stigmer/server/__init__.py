"""The gRPC API server of ``stigmer serve``: a thin adapter over stigmer.Client.

Only this package (and the remote mode) imports grpc, so a local command never
pays for it (docs/architecture.md, "The API server").
"""
