"""The spec stage: validators/*.toml in, typed return specifications out.

Takes the spec files; gives the return models and their loader (``return_spec``, with the
field and sheet models in ``sheet_model``), the period kinds (``periods``), the one evaluator
of computed fields (``computed``) and their spreadsheet formulas (``formulas``), where each field
sits (``layout``), the deadlines and the working-day calendar (``deadlines``, ``workdays``),
the KPI engine's configuration and window arithmetic (``kpi_config``, ``kpi_windows``),
the records passed between stages (``model``), the findings catalogue (``findings``) and
the personal-data scanner every output is masked with (``personal_data``). Nothing
here imports another stage."""

from __future__ import annotations
