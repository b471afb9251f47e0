"""Test helpers: factories and assertions shared by the test modules."""
