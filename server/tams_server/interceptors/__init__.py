"""Server interceptors (grpc-interceptor), outermost first: request log, error
mapping, auth. Each wraps streaming responses too, so it sees their errors and end."""
