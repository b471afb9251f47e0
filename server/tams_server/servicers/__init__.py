"""gRPC servicers: convert requests, call one use case or store method, convert the
answer (work of several steps is in ``usecases``).

No SQL and no rules here; errors are domain exceptions mapped by one interceptor.
"""
