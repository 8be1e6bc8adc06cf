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


@app.command()
def validate(
    files: list[Path] = typer.Argument(..., metavar="FILE", help="The returns to check (.xlsx files).", show_default=False),
    as_of: Optional[str] = typer.Option(
        None, "--as-of", metavar="DATE",
        help="Check as if today were DATE (2026-11-20), e.g. for deadlines of returns not yet submitted."),
    submitted: Optional[str] = typer.Option(
        None, "--submitted", metavar="DATETIME",
        help="When the return(s) arrived: 2026-11-20 or 2026-11-20T14:30. Overrides the workbook's own date."),
    region: str = typer.Option(
        "england-and-wales", "--region", metavar="REGION",
        help="Bank holidays for working days: england-and-wales, scotland or northern-ireland."),
    deadlines: Optional[Path] = typer.Option(
        None, "--deadlines", metavar="FILE", help="A deadline calendar (TOML) laid over the packaged one."),
    fmt: str = typer.Option("text", "--format", metavar="text|json", help="Report format."),
    annotate: Optional[Path] = typer.Option(
        None, "--annotate", metavar="OUT.xlsx", help="Write a copy of the (one) return with its problems marked."),
    annotate_dir: Optional[Path] = typer.Option(
        None, "--annotate-dir", metavar="DIR", help="Write <name>.annotated.xlsx into DIR for each return."),
    fix_totals: Optional[Path] = typer.Option(
        None, "--fix-totals", metavar="OUT.xlsx",
        help="Write a copy of the (one) return with every calculated cell's formula restored."),
    workers: str = typer.Option("1", "--workers", metavar="N", help="Check N files at a time."),
) -> None:
    """Check returns against their specification and report every problem.

    Exit codes (the worst over all files):
    0 = every file is valid (warnings allowed);
    1 = at least one file has errors;
    2 = at least one file could not be read or used, an option was wrong, or a copy could not be written.
    """
    from .cli_validate import run

    raise typer.Exit(run(files, as_of=as_of, submitted=submitted, region=region, deadlines=deadlines, fmt=fmt,
                         annotate=annotate, annotate_dir=annotate_dir, fix_totals=fix_totals, workers=workers))


def main() -> None:  # the console-script entry point
    app()


if __name__ == "__main__":
    main()
