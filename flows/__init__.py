"""Prefect flows: the pipeline as it runs (ingest -> build -> validate -> docs)."""
