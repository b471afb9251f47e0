"""Webhook delivery: events from the outbox POSTed to the registered receivers in the
spec's JSON shapes (the gateway's), per webhook in order, at least once."""
