"""How every command behaves at the console: plain help text, and a quiet exit on a closed pipe.

Help that reads like a Unix tool's: `Usage: kpd-returns template [OPTIONS] KIND OUT.xlsx`.

Typer's own help prints a type after every parameter, `<bool>` after flags (even
`--help`), `<list[Path]>` after arguments whose name already says what they are,
and wraps required arguments in braces (`{return_type} {out}`). The command and
group classes here keep typer's layout and leave out those three things: a flag
shows no type, an argument shows its metavar only, and the usage line writes a
required argument bare, an optional one in brackets and a repeatable one with `...`.

A closed pipe (`kpd-returns status | head -3`): the reader has gone, which is no
fault of the command or its inputs, so it stops without a word, as command-line
tools do, with exit code 141 (128 + SIGPIPE, what a shell reports for a tool the
pipe stopped).
"""

from __future__ import annotations

import os
import sys

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

from ..spec.constants import EXIT_CLOSED_PIPE


class _PlainArgument(TyperArgument):
    def display_type_rich(self, ctx):  # the metavar (FILE, OUT.xlsx) already says what it is
        return None

    def _usage_display_name(self) -> str:
        name = self.display_name_raw
        if self.nargs != 1 and not name.endswith("..."):
            name += "..."
        return name if self.required else f"[{name}]"


class _PlainOption(TyperOption):
    def display_type_rich(self, ctx):  # a flag takes no value, so it has no type to show
        if self.is_flag or self.count:
            return None
        return super().display_type_rich(ctx)


def _plain(params):
    for param in params:
        if type(param) is TyperArgument:
            param.__class__ = _PlainArgument
        elif type(param) is TyperOption:
            param.__class__ = _PlainOption
    return params


def closed_pipe() -> int:
    """Point stdout at /dev/null so nothing else (the interpreter's last flush) fails; return the exit code."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # stdout is not a real file (a test's capture)
        pass
    return EXIT_CLOSED_PIPE


class PlainCommand(TyperCommand):
    def get_params(self, ctx):
        return _plain(super().get_params(ctx))

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            raise typer.Exit(closed_pipe()) from None


class PlainGroup(TyperGroup):
    def get_params(self, ctx):
        return _plain(super().get_params(ctx))
