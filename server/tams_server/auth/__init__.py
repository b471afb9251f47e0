"""Who is calling, and what it may do, the same for gRPC and REST (design decision 10):
bearer JWTs, static API tokens and HTTP Basic become a ``Principal``
(authentication); the scope table the protos declare (``scopes``) decides what it may
call (authorisation). The gRPC interceptors use it; the REST gateway forwards its
callers' credentials to gRPC rather than judging them. It imports only the domain and
the generated protos."""
