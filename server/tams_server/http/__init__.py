"""The server's HTTP side: local objects through signed URLs (and, later, the REST
gateway)."""
