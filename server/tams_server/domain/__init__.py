"""Pure domain code: rules, validation and value types, with no I/O and no gRPC."""
