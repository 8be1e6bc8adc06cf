"""The intake stage: an inbox in, the ledger and the consolidated workbook out.

Takes files, e-mails and a providers register; gives the inputs of an inbox (``inbox``,
``inbox_item``, ``inbox_email``), the SQLite ledger of files, verdicts and values (``ledger``,
``ledger_schema``, ``ledger_rows``, ``ledger_reads``, ``ledger_cross``, ``ledger_lock``), the
providers register (``registry``), who owed what and when it came (``submissions``), each input's
outcome (``ingest``, ``outcomes``, ``rejected``) and the batch run with the consolidated workbook
(``consolidate``, ``scope``, ``consolidated_workbook`` with its ``consolidated_measures`` and
``consolidated_kpis`` sheets)."""

from __future__ import annotations
