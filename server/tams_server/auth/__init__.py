"""Authentication and authorization, the same for gRPC and REST (design decision 10):
who the caller is (credentials verified into a ``Principal``) and what it may do (the
scope table the protos declare, ``scopes``). Imports only the domain, the config and
the generated protos: the interceptors and the CLI use it, never the other way round.
"""
