"""The kpd-returns command line: wires options to the library and turns reports into exit codes.

Heavy modules are imported inside each command so `kpd-returns --help` and a
single-file validate start quickly.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Optional

import typer

from ..spec.constants import DEFAULT_LEDGER, DEFAULT_REGION, LEDGER_NAME
from ..spec.resources import installed_version
from .command import PlainCommand, PlainGroup
from .help_text import contract_examples, kind_list, period_examples, prefixes

app = typer.Typer(
    cls=PlainGroup,
    add_completion=False,
    no_args_is_help=True,
    help=f"Validate, consolidate and report DWP provider management-information returns ({prefixes()}).",
)


def _version(value: bool) -> None:
    if value:
        print(f"kpd-returns {installed_version()}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version of kpd-returns and exit."),
) -> None:
    # No docstring: the group's help is the Typer(help=...) above, which names the return types the specs define.
    _say_spec_problems()


def _say_spec_problems() -> None:
    """A malformed spec file makes only its own return unavailable: say so once per command, on
    stderr, and let the command go on with the other returns (one that needs it exits 2 itself)."""
    # Imported when a command runs, not for --help: the specs' models cost about 0.1 s to import.
    from ..checks.fields import engine
    from ..checks.validate import usable_specs
    from ..spec.return_spec import folder_problem, spec_problems

    try:  # a mistyped KPD_RETURNS_FIELD_ENGINE is a setting to fix, never a verdict on a file in the ledger
        engine()
    except ValueError as exc:
        typer.echo(f"kpd-returns: {exc}", err=True)
        raise typer.Exit(2) from None

    problem = folder_problem()
    if problem and not {"--help", "-h"} & set(sys.argv[1:]):  # a command's help needs no spec
        typer.echo(f"kpd-returns: {problem}", err=True)
        raise typer.Exit(2)
    usable_specs()  # sets aside a spec whose rules name a kind kpd-returns does not know
    for problem in spec_problems():
        sentence = problem if problem.endswith(".") else problem + "."
        typer.echo(f"kpd-returns: {sentence} That return type is unavailable until the file is fixed.", err=True)


@app.command(cls=PlainCommand)
def template(
    return_type: str = typer.Argument(..., metavar="KIND", help=f"Return type: {kind_list()}.", show_default=False),
    out: Optional[Path] = typer.Argument(None, metavar="OUT.xlsx", help="Where to write the blank template.",
                                         show_default=False),
    provider: Optional[str] = typer.Option(None, "--provider", metavar="NAME", help="Pre-fill the provider name."),
    cpa: Optional[str] = typer.Option(None, "--cpa", "--contract", metavar="REF", help=f"Pre-fill the contract ({contract_examples()})."),
    period: Optional[str] = typer.Option(None, "--period", metavar="PERIOD", help=f"Pre-fill the period: {period_examples()}."),
    providers: Optional[Path] = typer.Option(
        None, "--providers", metavar="FILE",
        help="A providers register: write one pre-filled, locked template per contract owing the return for --period."),
    out_dir: Optional[Path] = typer.Option(None, "--out", metavar="DIR", help="With --providers: the folder to write into."),
    db: Optional[Path] = typer.Option(
        None, "--db", metavar="PATH",
        help="With --providers, for an Action Plan: the ledger whose pack for --period gives each contract's areas for "
             "attention (default: as for pack)."),
    as_of: Optional[str] = typer.Option(None, "--as-of", metavar="DATE",
                                        help="With --db: judge missing and late returns as at DATE (default: today)."),
) -> None:
    """Write a blank, protected template for providers to fill in."""
    if providers is not None:
        from ..author.prefilled import cli_prefilled  # when run: --help starts without it

        raise typer.Exit(cli_prefilled(return_type, providers, period, out_dir, db=db, as_of=as_of))
    if out is None:
        typer.echo("Give the file to write (OUT), or --providers FILE --period P --out DIR.", err=True)
        raise typer.Exit(2)
    from ..author.template import cli_template  # when run: --help starts without it

    raise typer.Exit(cli_template(return_type, out, provider=provider, contract=cpa, period=period))


@app.command(cls=PlainCommand)
def samples(out: Path = typer.Argument(..., metavar="DIR", help="Folder to write the sample returns into.",
                                      show_default=False)) -> None:
    """Write realistic completed returns, and a set with typical mistakes, for trying the tool."""
    try:
        from ..author.samples import cli_samples  # when run: --help starts without it
    except ValueError as exc:  # validators/samples.toml read on import: one sentence naming it
        typer.echo(f"Cannot make the samples: {exc}", err=True)
        raise typer.Exit(2)
    raise typer.Exit(cli_samples(out))


@app.command(cls=PlainCommand)
def rules(
    return_type: Optional[str] = typer.Argument(None, metavar="[RETURN]", help=f"Return type: {kind_list()} (default: all).",
                                                show_default=False),
    fmt: str = typer.Option("text", "--format", metavar="FORMAT", help="text, json, csv or html (one accessible page)."),
) -> None:
    """List every check of every return: code, kind, what it checks, guidance paragraph and fields read."""
    from ..author.rule_catalogue import cli_rules  # when run: --help starts without it

    raise typer.Exit(cli_rules(return_type, fmt))


@app.command(cls=PlainCommand)
def validate(
    files: list[Path] = typer.Argument(..., metavar="FILE", help="The returns to check: .xlsx files, or folders (every workbook in them; other files are skipped).", show_default=False),
    as_of: Optional[str] = typer.Option(
        None, "--as-of", metavar="DATE",
        help="Check as if today were DATE (2026-11-20), e.g. for deadlines of returns not yet submitted."),
    submitted: Optional[str] = typer.Option(
        None, "--submitted", metavar="DATETIME",
        help="When the return(s) arrived: 2026-11-20 or 2026-11-20T14:30. Overrides the workbook's own date."),
    region: str = typer.Option(
        DEFAULT_REGION, "--region", metavar="REGION",
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
    from .validate import run  # when run: --help starts without it

    raise typer.Exit(run(files, as_of=as_of, submitted=submitted, region=region, deadlines=deadlines, fmt=fmt,
                         annotate=annotate, annotate_dir=annotate_dir, fix_totals=fix_totals, workers=workers))


# -- batch commands: ingest, status, consolidate (kpd_returns/cli/batch.py) ------------------
_LEDGER_HELP = ("The ledger (SQLite). Default: the one the last consolidate or ingest in this folder used "
                f"(.kpd-returns.toml), else ./{DEFAULT_LEDGER}.")
_REGION_HELP = "UK division for working days when the register does not say: england-and-wales, scotland or northern-ireland."


@app.command(cls=PlainCommand)
def ingest(
    inboxes: list[Path] = typer.Argument(..., metavar="INBOX...", help="Folders of returns, workbooks or e-mails (.eml, .msg).", show_default=False),
    db: Optional[Path] = typer.Option(None, "--db", metavar="PATH", help=_LEDGER_HELP),
    workers: Optional[str] = typer.Option(None, "--workers", metavar="N", help="Check N files at a time (default: one per CPU core)."),
    region: str = typer.Option(DEFAULT_REGION, "--region", metavar="REGION", help=_REGION_HELP),
    deadlines: Optional[Path] = typer.Option(None, "--deadlines", metavar="FILE", help="A deadline calendar (TOML) laid over the packaged one."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="List accepted files too, not only the others."),
) -> None:
    """Check every return in the inboxes and add it to the ledger (identical files are added once).

    Exit codes: 0 = all accepted or already in the ledger; 1 = some rejected or unreadable; 2 = could not run.
    """
    from .batch import run_ingest  # when run: --help starts without it

    raise typer.Exit(run_ingest(inboxes, db=db, workers=workers, region=region, deadlines=deadlines, verbose=verbose))


@app.command(cls=PlainCommand)
def status(
    db: Optional[Path] = typer.Option(None, "--db", metavar="PATH", help=_LEDGER_HELP),
    period: Optional[list[str]] = typer.Option(None, "--period", metavar="P", help=f"Only this period: {period_examples()}. Repeatable."),
    providers: Optional[Path] = typer.Option(None, "--providers", metavar="FILE", help="The providers register (CSV or TOML): who owes which returns."),
    as_of: Optional[str] = typer.Option(None, "--as-of", metavar="DATE", help="Judge missing and late as at DATE (default: today)."),
    region: str = typer.Option(DEFAULT_REGION, "--region", metavar="REGION", help=_REGION_HELP),
    deadlines: Optional[Path] = typer.Option(None, "--deadlines", metavar="FILE", help="A deadline calendar (TOML) laid over the packaged one."),
    fmt: str = typer.Option("text", "--format", metavar="text|json|csv", help="text: a table per return and period that fits the screen (80 columns when piped; columns left out in the order Files, Resubmitted, Days late). json or csv: every column."),
) -> None:
    """Show what the ledger holds: per provider and return, received, deadline, on time or late, resubmissions, missing."""
    from .batch import run_status  # when run: --help starts without it

    raise typer.Exit(run_status(db=db, periods=period, providers=providers, as_of=as_of, region=region, deadlines=deadlines,
                                fmt=fmt.strip().lower()))


@app.command(cls=PlainCommand)
def consolidate(
    inboxes: list[Path] = typer.Argument(..., metavar="INBOX...", help="Folders of returns, workbooks or e-mails (.eml, .msg).", show_default=False),
    out: Path = typer.Option(..., "--out", metavar="DIR", help="Where to write consolidated.xlsx, summary.json, rejected/ and drafts/."),
    db: Optional[Path] = typer.Option(None, "--db", metavar="PATH", help=f"The ledger (SQLite). Default: DIR/{LEDGER_NAME}."),
    providers: Optional[Path] = typer.Option(None, "--providers", metavar="FILE", help="The providers register (CSV or TOML): who owes which returns."),
    period: Optional[list[str]] = typer.Option(None, "--period", metavar="P", help=f"Report this period: {period_examples()} (a month with its contract year to date). Repeatable."),
    as_of: Optional[str] = typer.Option(None, "--as-of", metavar="DATE", help="Judge missing and late as at DATE (default: today)."),
    workers: Optional[str] = typer.Option(None, "--workers", metavar="N", help="Check N files at a time (default: one per CPU core)."),
    region: str = typer.Option(DEFAULT_REGION, "--region", metavar="REGION", help=_REGION_HELP),
    deadlines: Optional[Path] = typer.Option(None, "--deadlines", metavar="FILE", help="A deadline calendar (TOML) laid over the packaged one."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="List accepted files too, not only the others."),
    whp: Optional[Path] = typer.Option(None, "--whp", metavar="FILE", help="The WHP register (TOML): each Work and Health Programme contract's performance levels, PMIR levels and compliance samples."),
    packs: bool = typer.Option(True, "--packs/--no-packs", help="Also write the performance packs (DIR/packs) for the report month: the month given with --period, else the latest in the ledger."),
) -> None:
    """Ingest the inboxes, then write the consolidated workbook, the run summary, the findings of rejected files, draft e-mails back to providers (drafts/) and the performance packs.

    Exit codes: 0 = all accepted or already in the ledger; 1 = some rejected or unreadable; 2 = could not run.
    """
    from .batch import run_consolidate  # when run: --help starts without it

    raise typer.Exit(run_consolidate(inboxes, out_dir=out, db=db, providers=providers, periods=period, as_of=as_of,
                                     workers=workers, region=region, deadlines=deadlines, verbose=verbose,
                                     packs=packs, whp=whp))


@app.command(cls=PlainCommand)
def pack(
    period: str = typer.Option(..., "--period", metavar="YYYY-MM", help="The report month, e.g. 2026-10."),
    out: Path = typer.Option(..., "--out", metavar="DIR", help="Where to write the packs."),
    provider: Optional[list[str]] = typer.Option(None, "--provider", metavar="NAME_OR_CONTRACT", help="Only this provider (name, contract reference or file-name slug). Repeatable."),
    all_providers: bool = typer.Option(False, "--all", help="Every provider, the national overview and the publication files (the default)."),
    db: Optional[Path] = typer.Option(None, "--db", metavar="PATH", help=_LEDGER_HELP),
    fmt: str = typer.Option("xlsx,html", "--format", metavar="xlsx,html", help="Which packs to write."),
    marking: str = typer.Option("OFFICIAL-SENSITIVE", "--marking", metavar="TEXT", help="The protective marking printed at the top (and bottom) of every pack."),
    as_of: Optional[str] = typer.Option(None, "--as-of", metavar="DATE", help="Judge missing and late as at DATE (default: today)."),
    providers: Optional[Path] = typer.Option(None, "--providers", metavar="FILE", help="The providers register (CSV or TOML): who owes which returns, and service start dates."),
    whp: Optional[Path] = typer.Option(None, "--whp", metavar="FILE", help="The WHP register (TOML): each Work and Health Programme contract's performance levels, PMIR levels and compliance samples."),
) -> None:
    """Write performance packs (Excel and self-contained HTML) for Contract Performance Reviews.

    Exit codes: 0 = packs written; 2 = could not run (no ledger, a bad option or an unknown provider).
    """
    from .pack import run  # when run: --help starts without it

    raise typer.Exit(run(period=period, out=out, providers=provider, all_providers=all_providers, db=db, formats=fmt,
                         marking=marking, as_of=as_of, register=providers, whp=whp))


@app.command(cls=PlainCommand)
def demo(
    out: Path = typer.Option(Path("demo-output"), "--out", metavar="DIR", help="Where to write everything."),
    as_of: Optional[str] = typer.Option(None, "--as-of", metavar="DATE", help="Judge late and missing returns as at DATE (default 2026-11-20, so the demo is repeatable)."),
    workers: Optional[int] = typer.Option(None, "--workers", metavar="N", help="Check N files at a time (default: one per CPU core)."),
) -> None:
    """Run the whole job on the sample returns: templates, samples, validation, consolidation and packs."""
    try:
        from .demo import DEMO_AS_OF, run_demo  # when run: --help starts without it
    except ValueError as exc:  # validators/samples.toml or season.toml read on import: one sentence naming it
        typer.echo(f"Cannot run the demo: {exc}", err=True)
        raise typer.Exit(2)

    try:
        day = dt.date.fromisoformat(as_of) if as_of else DEMO_AS_OF
    except ValueError:
        print(f"--as-of '{as_of}' is not a date: write it as 2026-11-20.", file=sys.stderr)
        raise typer.Exit(2)
    raise typer.Exit(run_demo(out, as_of=day, workers=workers, echo=sys.stdout))


@app.command(cls=PlainCommand)
def web(
    out: Path = typer.Option(Path("site"), "--out", metavar="DIR", help="Where to write the site (default: site)."),
    serve: bool = typer.Option(False, "--serve", help="Serve the site on 127.0.0.1 to try it (built first if DIR has none)."),
    port: int = typer.Option(8000, "--port", metavar="PORT", help="The port for --serve (default 8000; 0 picks a free one)."),
) -> None:
    """Write the page providers check their returns with in their own browser: nothing to install, nothing sent."""
    from .web import run  # when run: --help starts without it

    raise typer.Exit(run(out, serve=serve, port=port))


def _skip_optional_imports() -> None:
    """Keep pandera from importing hypothesis, which the command line never uses.

    On the first schema check pandera registers its pandas backends, and that imports
    ``pandera.strategies``, which imports hypothesis when it happens to be installed (it is
    an optional extra of pandera, for generating test data): about 0.12 s of a provider's
    one-file validate. pandera handles hypothesis being absent (it catches the ImportError),
    so for this process we make it absent. Only the console command does this; importing
    kpd_returns as a library changes nothing.
    """
    if "hypothesis" not in sys.modules:
        sys.modules["hypothesis"] = None  # type: ignore[assignment]  # "import hypothesis" raises ImportError


def main() -> None:  # the console-script entry point
    _skip_optional_imports()
    app()


if __name__ == "__main__":
    main()
