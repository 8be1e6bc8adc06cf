"""What the browser page runs for each workbook, inside Pyodide: the package's own code, nothing else.

The page's worker puts the chosen file in the in-memory file system as ``<folder>/<name>`` and
calls ``check(folder, name, region, as_of)``. This works in that folder, as
``cd folder && kpd-returns validate name --region R --as-of D --annotate ...`` would: the
same ``validate_file`` (the field limits in plain Python, as pandas cannot run in the
browser: checks.fields picks that engine by itself), the same JSON report (masked as the
command line masks it), the same text report and the same annotated copy. Nothing here
reaches the network; the result is a JSON text the page shows.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
from pathlib import Path
from typing import Any

from ..checks.validate import usable_specs, validate_file
from ..spec.model import crashed_report
from ..spec.constants import DEFAULT_REGION
from ..spec.personal_data import mask_all
from ..spec.workdays import REGIONS
from .annotate import CopyError, annotate
from .annotate_marks import annotated_name
from .json_report import dumps, report_dict
from .text import render_text, verdict_line


def warm() -> str:
    """Load the return specs (and the modules the checks use) before the first file; say which returns."""
    specs = usable_specs()
    return ", ".join(sorted(spec.short_title for spec in specs.values()))


def check(folder: str, name: str, region: str = DEFAULT_REGION, as_of: str | None = None,
          out_dir: str | None = None) -> str:
    """Validate ``folder/name``: a JSON text with the report (as a dict and as ``--format json`` writes it),
    the text report, its verdict line, and the annotated copy's path in the file system (in ``out_dir``,
    else ``folder/out``: the page mounts the chosen file read-only, so it gives a folder of its own)."""
    region = region if region in REGIONS else DEFAULT_REGION
    when = dt.date.fromisoformat(as_of) if as_of else None
    here = os.getcwd()
    os.chdir(folder)
    try:
        try:
            report = validate_file(name, name=name, as_of=when, region=region)
        except Exception as exc:  # noqa: BLE001 - the command line's one sentence, never a traceback
            report = crashed_report(name, exc)
        text = io.StringIO()
        render_text([report], text, color=False)
        out: dict[str, Any] = {"report": report_dict([report]), "json": dumps([report]), "text": text.getvalue(),
                               "summary": verdict_line(report), "annotated": None, "annotated_name": None,
                               "json_name": annotated_name(name).removesuffix(".annotated.xlsx") + ".report.json",
                               "note": None}
        if report.verdict != "unreadable":
            target = Path(out_dir or Path(folder) / "out") / annotated_name(name)
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                annotate(name, report, target)
                out["annotated"], out["annotated_name"] = str(target), target.name
            except CopyError as exc:
                out["note"] = str(exc)
            except Exception as exc:  # noqa: BLE001 - the report stands without its copy, as in consolidate
                out["note"] = mask_all(f"No annotated copy could be made ({type(exc).__name__}).")
        return json.dumps(out, ensure_ascii=False)
    finally:
        os.chdir(here)
