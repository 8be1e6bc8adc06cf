"""The kpd-returns command line: wires options to the library and turns reports into exit codes.

Heavy modules are imported inside each command so `kpd-returns --help` and a
single-file validate start quickly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Validate, consolidate and report DWP provider management-information returns (KPD and MMIR).",
)


@app.command()
def template(
    return_type: str = typer.Argument(..., help="Return type: kpd or mmir."),
    out: Path = typer.Argument(..., help="Where to write the blank template (.xlsx)."),
    provider: Optional[str] = typer.Option(None, help="Pre-fill the provider name."),
    cpa: Optional[str] = typer.Option(None, "--cpa", "--contract", help="Pre-fill the CPA (KPD) or contract reference (MMIR)."),
    period: Optional[str] = typer.Option(None, help="Pre-fill the period: 2026-27 Q2 (KPD) or 2026-10 (MMIR)."),
) -> None:
    """Write a blank, protected template for providers to fill in."""
    from .template import cli_template

    raise typer.Exit(cli_template(return_type, out, provider=provider, contract=cpa, period=period))


@app.command()
def samples(out: Path = typer.Argument(..., help="Folder to write the sample returns into.")) -> None:
    """Write realistic completed returns, and a set with typical mistakes, for trying the tool."""
    from .samples import cli_samples

    raise typer.Exit(cli_samples(out))


def main() -> None:  # the console-script entry point
    app()


if __name__ == "__main__":
    main()
