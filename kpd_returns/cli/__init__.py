"""The command line: argv in, exit codes out; it only wires options to the library.

``main`` holds the typer app; each command group sits in a module of its own."""

from __future__ import annotations
