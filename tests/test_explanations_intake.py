"""Issue 13: an explained query shows as explained, and an unexplained one as open, where the
central team looks: the ledger, the consolidated workbook's Queries sheet and the packs'
attention list (kpd-returns status: test_status_report)."""
from __future__ import annotations

import datetime as dt

import openpyxl
from test_checks_explanations import ODD, WHY, explain
from test_checks_helpers import build, check, kpd_cells, only

from kpd_returns.intake.consolidate import Scope, ingest, workbook_input
from kpd_returns.intake.consolidated_workbook import write_consolidated
from kpd_returns.intake.ledger import Ledger
from kpd_returns.packs.attention import attention_items


def test_explained_and_open_queries_in_the_ledger_workbook_and_packs(tmp_path):
    ref = only(check("kpd", kpd_cells("Q1", **ODD)), "implausible-value").ref
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "a.xlsx").write_bytes(build("kpd", kpd_cells("Q1", cpa__="CPA 07", **ODD),
                                         explain(("implausible-value", ref, WHY))))
    (inbox / "b.xlsx").write_bytes(build("kpd", kpd_cells("Q1", cpa__="CPA 08", provider__="Other Provider Ltd",
                                                          **ODD)))
    with Ledger(tmp_path / "ledger.db") as ledger:
        ingest([inbox], ledger, workers=1)
        assert ledger.finding_counts(contract="CPA 07") == {"explained:implausible-value": 1}
        assert ledger.finding_counts(contract="CPA 08") == {"implausible-value": 1}
        items = attention_items("Test Provider Ltd", findings=ledger.finding_counts(contract="CPA 07"))
        assert [i.subject for i in items] == ["Queries explained by the provider"]
        assert "1 query on returns explained by the provider" in items[0].fact
        assert [i.subject for i in attention_items("Other", findings=ledger.finding_counts(contract="CPA 08"))] \
            == ["Open warnings on returns"]
        data = workbook_input(ledger, scope=Scope.from_periods(None), as_of=dt.date(2026, 8, 1), register=None)
        out = tmp_path / "consolidated.xlsx"
        write_consolidated(out, data)
    ws = openpyxl.load_workbook(out)["Queries"]
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=6) if row[0].value]
    assert sorted((r[2], r[4], r[5], r[6], r[7]) for r in rows) == [
        ("CPA 07", "implausible-value", ref, "explained", WHY), ("CPA 08", "implausible-value", ref, "open", None)]
