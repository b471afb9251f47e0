"""``tams-server serve --processes N``: N server processes on one gRPC port.

One grpc.aio process serves on one core (the GIL): at 64 concurrent clients GetFlow
is CPU-bound in that process. The standard answer for Python gRPC (grpc's
``examples/python/multiprocessing``) is several processes, forked before any gRPC
object exists, each building its own server on a port shared with ``SO_REUSEPORT``;
the kernel spreads the connections over them.

- ``supervisor``: the parent (migrations once, the shared sockets, fork, signals);
- ``siblings``: what a child knows of the others, handed to ``app.serve``;
- ``ports``: the gRPC port reserved for all, and the HTTP socket they accept on;
- ``wakeups``: on SQLite, a commit in one process wakes the event readers of all;
- ``metrics``: Prometheus' multiprocess mode, so ``/metrics`` counts every process.
"""
