"""sanpi (三批): data warehouse for Henan's 三个一批 project campaign."""

__version__ = "0.1.0"
