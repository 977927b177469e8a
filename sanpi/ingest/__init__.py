"""Ingest: find inbox files, read them into typed rows, load them into the `raw` schema."""
