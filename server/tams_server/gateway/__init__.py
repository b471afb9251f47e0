"""The REST gateway: TAMS JSON over HTTP, each request one gRPC call. It never touches
the database; ``shapes`` turns TAMS JSON into tams.v1 messages and back."""
