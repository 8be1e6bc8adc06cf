"""The text report: grouping, order, the verdict line and readability without colour."""

from __future__ import annotations

import datetime as dt
import io

from kpd_returns.spec import findings as F
from kpd_returns.spec.model import FileReport
from kpd_returns.render.text import render_text, summary_line, verdict_line


def mmir_report(**kw) -> FileReport:
    base = dict(
        path="samples/x.xlsx", name="x.xlsx", sha256="0" * 64, return_id="mmir", version="1.0",
        provider="Northbridge Employment Ltd", contract="AtW-MHSS-07", period="2026-10",
        findings=[
            F.make("implausible-value", sheet="Volumes", cell="C5", field="referrals", field_label="Referrals",
                   found=9999, expected=500, guidance="AtW 7.25"),
            F.make("not-a-number", sheet="Volumes", cell="D6", field="support_plans_approved",
                   field_label="Support Plans approved", found="12 plans", guidance="AtW 7.25"),
            F.make("required-missing", sheet="Header", cell="B9", field="contact", field_label="Contact",
                   guidance="AtW 7.24"),
        ],
    )
    base.update(kw)
    return FileReport(**base)


def render(reports, **kw) -> str:
    buf = io.StringIO()
    render_text(reports, buf, **kw)
    return buf.getvalue()


def test_verdict_line_as_documented():
    assert verdict_line(mmir_report()) == (
        "samples/x.xlsx: MMIR for October 2026, Northbridge Employment Ltd: 2 errors, 1 warning — not valid")


def test_verdict_line_with_lateness_and_source():
    late = mmir_report(deadline=dt.datetime(2026, 11, 4, 23, 59), late_working_days=12,
                       submitted=dt.datetime(2026, 11, 20), submitted_source="workbook")
    line = verdict_line(late)
    assert line.endswith("— not valid; late by 12 working days (deadline Wed 4 November 2026 23:59), "
                         "submitted 2026-11-20 (from the workbook's Date submitted)")
    on_time = mmir_report(findings=[], deadline=dt.datetime(2026, 11, 4, 23, 59), late_working_days=0,
                          submitted=dt.datetime(2026, 11, 3, 14, 5), submitted_source="option")
    assert verdict_line(on_time) == (
        "samples/x.xlsx: MMIR for October 2026, Northbridge Employment Ltd: 0 errors, 0 warnings — valid; "
        "on time (deadline Wed 4 November 2026 23:59), submitted 2026-11-03 14:05 (from --submitted)")
    one = mmir_report(findings=[], deadline=dt.datetime(2026, 11, 4, 23, 59), late_working_days=1,
                      submitted=dt.date(2026, 11, 5), submitted_source="file-modified")
    assert "late by 1 working day (deadline" in verdict_line(one)
    assert "submitted 2026-11-05 (from the file's last-modified time)" in verdict_line(one)


def test_unreadable_file_has_no_identity():
    r = FileReport(path="bad.xlsx", name="bad.xlsx", findings=[F.make("file-empty", file="bad.xlsx")])
    assert verdict_line(r) == "bad.xlsx: 1 error, 0 warnings — could not be read"


def test_grouped_by_sheet_in_spec_order_errors_first():
    r = mmir_report(findings=mmir_report().findings + [F.make("submitted-late", detail="on 20 November 2026",
                                                              expected="4 November 2026")])
    lines = render([r], color=False).splitlines()
    assert lines[0].startswith("samples/x.xlsx: MMIR for October 2026")
    # whole-file findings first, then the sheets in the return's order (Header before Volumes)
    heads = [ln.strip() for ln in lines if ln.startswith("  ") and not ln.startswith("    ")]
    assert heads == ["Whole file", "Header", "Volumes"]
    volumes = lines[lines.index("  Volumes") + 1:]
    assert volumes[0].split()[:3] == ["error", "not-a-number", "Volumes!D6"]
    assert volumes[1].split()[:3] == ["warning", "implausible-value", "Volumes!C5"]
    assert volumes[0].rstrip().endswith("[AtW 7.25]")


def test_each_finding_is_one_unwrapped_line_without_colour():
    long = F.make("not-a-number", sheet="Late reworks", cell="B5", field="x", field_label="Reference " * 30,
                  found="y" * 200, guidance="AtW 7.25")
    out = render([mmir_report(findings=[long])], color=False)
    assert "\x1b[" not in out
    finding_lines = [ln for ln in out.splitlines() if ln.startswith("    ")]
    assert len(finding_lines) == 1
    assert "'Late reworks'!B5" in finding_lines[0] and "y" * 200 in finding_lines[0]


def test_no_colour_when_not_a_terminal_or_no_color(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    assert "\x1b[" not in render([mmir_report()])
    monkeypatch.delenv("NO_COLOR")
    assert "\x1b[" not in render([mmir_report()])  # a StringIO is not a terminal
    coloured = render([mmir_report()], color=True)
    assert "\x1b[" in coloured


def test_summary_counts_files_by_verdict():
    reports = [
        mmir_report(),
        mmir_report(path="b.xlsx", findings=[]),
        mmir_report(path="c.xlsx", findings=[F.make("implausible-value", sheet="Volumes", cell="C5")]),
        FileReport(path="d.xlsx", name="d.xlsx", findings=[F.make("file-csv", file="d.xlsx")]),
    ]
    assert summary_line(reports) == (
        "Checked 4 files: 1 valid, 1 valid with warnings, 1 not valid, 1 could not be read.")
    out = render(reports, color=False)
    assert out.rstrip().splitlines()[-1] == summary_line(reports)
    assert out.index("samples/x.xlsx:") < out.index("b.xlsx:") < out.index("c.xlsx:") < out.index("d.xlsx:")


def test_notes_are_printed_in_the_file_section():
    r = mmir_report()
    out = render([r], notes={r.path: ["Annotated copy: out.xlsx (3 cells marked)."]}, color=False)
    assert "  Annotated copy: out.xlsx (3 cells marked)." in out.splitlines()


def test_same_reports_same_text():
    assert render([mmir_report()], color=False) == render([mmir_report()], color=False)


def test_as_of_is_not_shown_as_a_submission():
    # validate: with no submission time known, lateness is judged as of --as-of (or today)
    r = mmir_report(findings=[], deadline=dt.datetime(2026, 11, 4, 23, 59), late_working_days=3,
                    submitted=dt.datetime(2026, 11, 9), submitted_source="as-of")
    assert verdict_line(r).endswith(
        "— valid; late by 3 working days (deadline Wed 4 November 2026 23:59), "
        "as of 2026-11-09 (submission date not known)")
    unreadable = FileReport(path="bad.xlsx", name="bad.xlsx", submitted=dt.datetime(2026, 11, 9),
                            submitted_source="as-of", findings=[F.make("file-empty", file="bad.xlsx")])
    assert verdict_line(unreadable) == "bad.xlsx: 1 error, 0 warnings — could not be read"


def test_plain_output_is_what_rich_prints_without_colour(monkeypatch):
    """Piped output skips rich; it must be exactly the text rich would print with colour off."""
    from rich.console import Console
    from rich.text import Text

    from kpd_returns.render.text import report_lines

    reports = [mmir_report(), mmir_report(path="b.xlsx", findings=[])]
    notes = {"b.xlsx": ["Annotated copy: out/b.annotated.xlsx (0 cells marked)."]}
    buf = io.StringIO()
    console = Console(file=buf, soft_wrap=True, highlight=False, emoji=False, markup=False, color_system=None)
    for segments in report_lines(reports, notes):
        console.print(Text.assemble(*segments))
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    plain = render(reports, notes=notes)  # a StringIO is not a terminal: the plain path
    assert plain == buf.getvalue() == render(reports, notes=notes, color=False)
    assert "\x1b[" not in plain and "Whole file" not in plain and "  Volumes" in plain
    coloured = render(reports, notes=notes, color=True)
    assert "\x1b[" in coloured
