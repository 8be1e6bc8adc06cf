"""kpd-returns: validate, consolidate and report DWP provider MI returns."""

__version__ = "0.1.0"
