"""The remote mode: stigmer.Client over the API server's gRPC (``grpc://HOST:PORT``).

``wire`` turns the Client's values into messages and back, for both ends;
only ``client`` and ``channel`` import grpc, so this package costs nothing
to a command that talks to no server.
"""
