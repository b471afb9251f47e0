"""Who is calling, and what it may do: bearer JWTs, static API tokens and HTTP Basic
become a ``Principal`` (authentication); scopes decide what it may call
(authorisation). One module for both transports: the gRPC interceptor uses it, and the
REST gateway forwards its callers' credentials to gRPC rather than judging them."""
