"""gRPC servicers: convert requests, call the store once, convert the answer.

No SQL and no rules here; errors are domain exceptions mapped by one interceptor.
"""
