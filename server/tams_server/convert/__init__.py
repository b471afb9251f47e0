"""Mappers between the tams.v1 protobuf messages and the domain's values."""
