"""Validate: Great Expectations suites over the built warehouse, run by checkpoints."""
