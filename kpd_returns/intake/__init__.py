"""The intake stage: an inbox in, the ledger and the consolidated workbook out.

Takes files, e-mails and a providers register; gives the SQLite ledger of files,
verdicts and values (``ledger``), the providers register (``registry``), who owed what and
when it came (``submissions``), the
batch run (``consolidate``) and the consolidated workbook (``consolidated_workbook``)."""

from __future__ import annotations
