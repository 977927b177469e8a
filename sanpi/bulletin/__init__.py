"""Round bulletins as published: figures out of Chinese text (or the JSON form), with provenance.

`read_bulletin(data, file_name)` is the pure entry point; `command.run_parse_bulletin` the CLI.
"""
from sanpi.bulletin.reader import read_bulletin

__all__ = ["read_bulletin"]
