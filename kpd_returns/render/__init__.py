"""Reports of validation results: text, JSON, an annotated copy of the workbook and a
copy with its totals' formulas restored.

Each renderer takes ``FileReport`` records (kpd_returns.spec.model) and never changes
them; none of them reads the clock, so the same reports give the same output.

The browser page is rendered here too: ``web_site`` writes the static site (its pinned
runtime and wheels from ``web_assets`` and ``web_lock.toml``), and ``web_check`` is what the
page runs for each file inside the browser: these same renderers over ``validate_file``.
"""

from __future__ import annotations

from .json_report import SCHEMA_ID, SCHEMA_VERSION, report_dict, write_json
from .text import render_text, verdict_line

__all__ = ["SCHEMA_ID", "SCHEMA_VERSION", "render_text", "report_dict", "verdict_line", "write_json"]
