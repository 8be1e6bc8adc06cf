"""Performance pack data: ledger rows -> KPI engine inputs -> one ``PackData`` per provider (+ national).

Pure functions over plain rows (objects with attributes, dicts or ``sqlite3.Row``), so
packs can be built and tested without the ledger. The KPI arithmetic is the engine's
(kpd_returns.packs.kpis, measures, attention); this module only feeds it and words results.

Decisions:

* Which returns make the packs is read from their specs' ``[pack]`` sections (packs.specs): the
  return with ``[pack.kpis]`` (the MMIR) gives the contracts rated by the KPI engine, each return with
  ``[[pack.measures]]`` (the KPD) a measures section (measure_view). No return is named here.
* A month counts for a contract when it has a current KPI return with an accepted verdict
  (valid, valid with warnings). Missing months are the months from the contract's
  Service Start Date to the report month without one (AtW 7.05): windows that include
  them are incomplete, never silently averaged over fewer months.
* The Social Value KPI comes from the spec's Social Value fields of the latest quarter-end month at
  or before the report month (AtW 7.16, 7.18); publication covers that quarter.
* The summary shows a cohort once it has had cases due (both cohorts, or the first one
  while neither has). Cohort "all" is not shown: targets differ by cohort (AtW 7.16).
* The national pack sums, for each basis, the contracts that sent every return they owed in
  its months, and says which those are (pack_national).
* Provider text is kept as given: renderers escape it (HTML) or write it as a string (Excel).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Iterable

from ..spec.personal_data import mask_all
from .attention import AttentionItem, attention_items, target_items
from .kpis import (KpiConfig, MonthKpiCounts, SocialValueInput, default_config, kpi_windows, month_at, month_index,
                   social_value_kpi, trend)
from .measure_view import MeasureSection, section_failure
from .measures import contract_months, national_months
from .pack_inputs import (ACCEPTED_VERDICTS, _ck, _sv_fields, accepted_months, end_month, field_values, get,  # noqa: F401
                          is_accepted, kpi_counts, missing_months, period_end_month, quarter_end_at_or_before,
                          slugify, social_value_input, value_month)
from .pack_national import national_kpis
from .plan_review import Reviewer
from .publication import publication_rows, quarter_label
from .pack_text import (TREND_MONTHS, AttentionLine, load_notes, ContractKpis, KpiLine, PackData, SocialValueView,
                        register_text, short_month)
from .specs import kpi_spec, measure_specs, pack_specs, section_of, year_start_of

NATIONAL = "national"
_REGISTER_ATTENTION = {"missing": "missing", "rejected only": "rejected", "rejected": "rejected"}


def notes_for(pack: PackData) -> dict:
    """The notes a pack prints: the "how to read" lines of its lead section (AtW chapter 7's when it holds
    an AtW MHSS contract, the KPD guidance's for a pack of KPD returns only), and the notes of the sections
    it holds (every section's when it holds none) with the general notes, in order."""
    whp = load_notes().get("whp", {})
    if pack.whp and not pack.held:  # a pack of Work and Health Programme contracts only: their notes alone
        return {"how_to_read": list(whp.get("how_to_read", [])), "measures": list(whp.get("measures", []))}
    held = pack.held or [(s.id, s.pack) for s in pack_specs()]
    entries: list[tuple[float, int, dict]] = [(float(m.get("order", 0)), 0, {k: v for k, v in m.items() if k != "order"})
                                             for m in load_notes()["measures"]]
    kpis = kpi_spec()
    for rid, section in held:
        notes = [n.model_dump() for n in section.notes]
        if kpis is not None and rid == kpis.id and notes:
            # Each KPI's clock and condition, from the KPI config (AtW 7.16): the same words the checks use;
            # after the section's first note.
            notes[1:1] = [{"measure": f"KPI {k.id}: {k.name}", "explanation": f"{k.description}.",
                           "guidance": k.guidance} for k in default_config().kpis]
        entries += [(float(section.order), 1, n) for n in notes]
    measures = [n for _, _, n in sorted(entries, key=lambda e: (e[0], e[1]))] + (whp.get("measures", []) if pack.whp
                                                                                else [])
    return {"how_to_read": list(held[0][1].how_to_read) if held else [], "measures": measures}


# ---------------------------------------------------------------- assembling
def contract_kpis(contract: str, provider: str, counts: list[MonthKpiCounts], accepted: set[str], report_month: str,
                  kpi_values: list[Any], config: KpiConfig, *, service_start: str | None = None,
                  missing: list[str] | None = None, service_end: str | None = None) -> ContractKpis:
    start = service_start or config.service_start(contract)
    if month_index(report_month) < month_index(start):
        return ContractKpis(contract, provider, start, [], [], counts, [],
                            notes=[f"The Service Start Date ({start}) is after the report month."])
    # Months after the contract's last month are not owed (registry.owed_span decides both ends).
    last_owed = min(report_month, service_end, key=month_index) if service_end else report_month
    missing = missing_months(accepted, start, last_owed) if missing is None else missing
    if not accepted & set(month_at(i) for i in range(month_index(start), month_index(last_owed) + 1)):
        # Nothing to rate: no KPI line at all, rather than lines of blanks read as "0 below target".
        return ContractKpis(contract, provider, start, missing, [], counts, [], None, service_end=service_end,
                            no_returns=True)
    windows = kpi_windows(counts, report_month, missing_months=missing, service_start=start, config=config,
                          include_all=False)
    by_line: dict[tuple[int, str], dict] = {}
    for w in windows:
        by_line.setdefault((w.kpi, w.cohort), {})[w.window] = w
    with_cases = {c.cohort for c in counts if c.due > 0 and c.month <= report_month}
    cohorts = [c for c in config.cohorts if c in with_cases] or list(config.cohorts)[:1]
    lines = []
    for kdef in config.kpis:
        for cohort in cohorts:
            points = trend(counts, kdef.id, cohort, report_month, n=TREND_MONTHS, missing_months=missing,
                           service_start=start, config=config)
            lines.append(KpiLine(contract, kdef.id, kdef.name, cohort, config.cohorts[cohort], kdef.published,
                                 kdef.targets[cohort], by_line[(kdef.id, cohort)], points, kdef.guidance,
                                 config.publication_window, {c.month: (c.due, c.within) for c in counts
                                                             if c.kpi == kdef.id and c.cohort == cohort}))
    q_end = quarter_end_at_or_before(report_month, config.year_start_month)
    sv = None
    if month_index(q_end) >= month_index(start):
        sv_in, companies = social_value_input(kpi_values, contract, q_end) if q_end in accepted else (None, None)
        # Returned without its measures: an incomplete result, so the attention list asks for them.
        result = social_value_kpi(sv_in or SocialValueInput(None, None, None, None), config) \
            if q_end in accepted else None
        sv = SocialValueView(contract, q_end, quarter_label(q_end, config.year_start_month), sv_in, companies,
                             result, q_end in accepted)
    return ContractKpis(contract, provider, start, missing, lines, counts, windows, sv, service_end=service_end)


def no_returns_note(ck: ContractKpis, register: list[dict], as_of: dt.date) -> str:
    """'No returns received yet: the first, for October 2026, was due by 2026-11-04 and is missing.'"""
    kpis = kpi_spec()
    first = next((r for r in register if kpis and r["return_id"] == kpis.id and _ck(r["contract"]) == _ck(ck.contract)
                  and end_month(r) == ck.service_start), None)
    deadline = first["deadline"] if first else None
    when = f" by {deadline:%Y-%m-%d}" if deadline else ""
    text = f"No returns received yet: the first, for {short_month(ck.service_start, full=True)}, "
    if first and first["status"] == "missing":
        return text + f"was due{when} and is missing."
    if deadline and deadline.date() < as_of:
        return text + f"was due{when}."
    return text + f"is due{when}."


def _date_only(line: dict) -> dict:
    """A submission whose return gave only its date is received on that date, not at midnight: its time is
    dropped, so no output shows "00:00" for it (issue 19 item 20)."""
    received = line.get("received_at")
    if line.get("received_date_only") and isinstance(received, dt.datetime):
        line["received_at"] = received.date()
    return line


def _register_line(row: Any) -> dict:
    keys = ("provider", "contract", "return_id", "period", "period_end", "status", "received_at", "deadline",
            "late_working_days", "resubmissions", "files", "received_date_only")
    return _date_only({k: get(row, k) for k in keys})


VERDICT_WORDS = {"valid": "accepted", "valid-with-warnings": "accepted with warnings", "invalid": "rejected",
                 "unreadable": "could not be read"}


def timeliness_map(register: Iterable[dict]) -> dict[tuple[str, str, str], str]:
    """(return id, contract key, period) -> the register's one decision on the return's timeliness, in words
    ('on time', 'late by 2 working days', 'rejected only', 'missing'): every output reads this."""
    return {(str(r["return_id"]), _ck(r["contract"]), str(r["period"])): register_text(r)["status"] for r in register}


def _source_line(row: Any, timeliness: Mapping[tuple[str, str, str], str] | None = None) -> dict:
    keys = ("return_id", "provider", "contract", "period", "name", "received_at", "verdict", "late_working_days",
            "submitted_source", "deadline", "received_date_only")
    line = _date_only({k: get(row, k) for k in keys})
    line["name"] = mask_all(line["name"])  # a file's name may hold personal data (an older ledger's unmasked)
    # The file's own lateness can differ from the return's (a resubmission after an on-time first
    # file): say the register's, never the file's.
    line["timeliness"] = (timeliness or {}).get((str(line["return_id"]), _ck(line["contract"]), str(line["period"])),
                                                "")
    line["verdict"] = VERDICT_WORDS.get(str(line["verdict"]), line["verdict"])
    return line



def _in_window(row: dict, report_month: str, n: int = TREND_MONTHS) -> bool:
    end = end_month(row)
    return end is not None and 0 <= month_index(report_month) - month_index(end) < n


def _attention(provider: str, contract: str, return_id: str, ck: ContractKpis | None, register: list[dict],
               findings: dict[str, int], config: KpiConfig, measures: list[AttentionItem]) -> list[AttentionLine]:
    # Missing and rejected returns over the 12 months stay on the list; lateness only for the latest
    # return received (earlier late returns are in the register, not repeated as actions).
    # One contract may owe several returns (an AtW MHSS contract's MMIR and Customer Insight): this return's rows.
    mine = [r for r in register if _ck(r["contract"]) == _ck(contract) and r["return_id"] == return_id]
    received = [month_index(e) for r in mine if r["status"] in ("on time", "late") and (e := end_month(r))]
    latest = month_at(max(received)) if received else None
    returns = [(r["return_id"], r["period"], _REGISTER_ATTENTION.get(str(r["status"]).lower(), r["status"]),
                r["late_working_days"] if r["status"] == "late" and end_month(r) == latest else 0) for r in mine]
    sv = ck.social_value.result if ck and ck.social_value else None
    items = attention_items(provider, windows=ck.windows if ck else (), social_value=sv, returns=returns,
                            findings=findings, findings_guidance=section_of(return_id).findings_guidance,
                            config=config, measures=measures)
    return [AttentionLine(contract, i) for i in items]


def build_packs(*, returns: Iterable[Any], values: Mapping[str, Iterable[Any]], period: str,
                as_of: dt.date, marking: str = "OFFICIAL-SENSITIVE", register: Iterable[Any] = (),
                findings: Mapping[str, Mapping[str, int]] | None = None, providers: Iterable[str] | None = None,
                service_starts: Mapping[str, str] | None = None, service_ends: Mapping[str, str] | None = None,
                config: KpiConfig | None = None,
                profiles: Mapping[str, Mapping[str, Mapping[str, float]]] | None = None) -> list[PackData]:
    """One PackData per provider (sorted by name), then the national one when ``providers`` is None.

    ``values``: return id -> its current values (ledger rows), for the returns with a pack section.
    ``findings``: contract -> {finding code: open count}; ``service_starts``: contract -> "YYYY-MM" (from
    the providers register, registry.owed_span; else the KPI config); ``service_ends``: contract -> last month
    owed; ``profiles``: return id -> contract key -> month -> the register's profiled figure (measures with
    ``target_from = "profile"``, packs.build.contract_profiles). Contracts match whatever their case and spacing.
    ``providers``: names, contracts or slugs to select (ValueError naming the known ones if one matches none)."""
    config = config or default_config()
    month_index(period)
    sections = [s.id for s in pack_specs()]
    kpis = kpi_spec()
    kpi_id = kpis.id if kpis else None
    returns = list(returns)
    rows_of = {rid: list(values.get(rid, ())) for rid in sections}
    kpi_values = rows_of.get(kpi_id, []) if kpi_id else []
    full_register = list(map(_register_line, register))
    reg = [r for r in full_register if _in_window(r, period)]
    timeliness = timeliness_map(full_register)
    counts, notes = kpi_counts(kpi_values, config)
    accepted = accepted_months(returns, kpi_id) if kpi_id else {}
    starts = {_ck(c): s for c, s in (service_starts or {}).items() if s}
    ends = {_ck(c): s for c, s in (service_ends or {}).items() if s}
    fmap = {_ck(c): dict(f) for c, f in (findings or {}).items()}
    owner: dict[tuple[str, str], tuple[str, str]] = {}  # (return_id, contract key) -> (provider, contract)
    for r in sorted(returns, key=lambda r: str(get(r, "received_at") or "")):
        owner[(get(r, "return_id"), _ck(get(r, "contract")))] = (get(r, "provider"), get(r, "contract"))
    for rows, rid in [*((rows_of[rid], rid) for rid in sections), (reg, None)]:
        for r in rows:
            key = (rid or get(r, "return_id"), _ck(get(r, "contract")))
            if get(r, "provider") and key not in owner:
                owner[key] = (get(r, "provider"), get(r, "contract"))
    names = sorted({p for p, _ in owner.values() if p}, key=lambda p: (p.casefold(), p))
    selected = _select(names, owner, providers)
    measured, nationals, failed = _measure(rows_of, profiles)
    held_of: dict[tuple[str, str, str], dict[str, Any]] = {}  # (return, provider, contract key) -> month -> figures
    for rid, cms in measured.items():
        for cm in cms:
            held_of.setdefault((rid, cm.provider, _ck(cm.contract)), {})[cm.month] = cm
    months12 = set(PackData("", "", period, as_of, marking).trend_months)
    packs, slugs = [], {NATIONAL}
    reviewer = Reviewer(dict(values), period, as_of)  # the Action Plan review (WHP ch.16 23)
    # Only the Social Value fields are looked up per contract: filter once, not per contract.
    sv_fields = _sv_fields()
    sv_by_contract: dict[str, list[Any]] = {}
    for r in kpi_values:
        if get(r, "field") in sv_fields:
            sv_by_contract.setdefault(_ck(get(r, "contract")), []).append(r)
    for name in names:
        mine = sorted(((rid, c) for (rid, k), (p, c) in owner.items() if p == name and rid in sections),
                      key=lambda x: (sections.index(x[0]), _ck(x[1])))
        cks = {c: contract_kpis(c, name, counts.get(_ck(c), []), accepted.get(_ck(c), set()), period,
                                sv_by_contract.get(_ck(c), []), config, service_start=starts.get(_ck(c)),
                                service_end=ends.get(_ck(c)))
               for rid, c in mine if rid == kpi_id}
        for ck in cks.values():
            if ck.no_returns:
                ck.notes.append(no_returns_note(ck, reg, as_of))
        if name not in selected:  # still needed for the national figures
            packs.append(PackData(name, "", period, as_of, marking, contracts=list(cks.values())))
            continue
        shown = [MeasureSection(rid, section_of(rid), [], {}, [], failure=why) for rid, why in failed.items()
                 if any(r == rid for r, _ in mine)]
        for rid, cms in measured.items():
            own = [cm for cm in cms if cm.provider == name and cm.month in months12]
            if own or any(r == rid for r, _ in mine):
                shown.append(MeasureSection(rid, section_of(rid), own, nationals[rid],
                                            [f"{cm.contract} {cm.period or cm.month}: {f}" for cm in own for f in cm.flags],
                                            [cm for cm in cms if cm.provider == name], year_start_of(rid)))
        order = [s.id for s in measure_specs()]
        shown.sort(key=lambda section: order.index(section.return_id))
        fnd: dict[str, int] = {}
        lines: list[AttentionLine] = []
        counted: set[str] = set()
        for rid, c in mine:
            # Findings are counted per contract: once, under its first return, when it owes several.
            f = {} if _ck(c) in counted else fmap.get(_ck(c), {})
            counted.add(_ck(c))
            for code, n in f.items():
                fnd[code] = fnd.get(code, 0) + n
            # A measure below its own target (a query for discussion, e.g. starts against profile).
            below = target_items(name, section_of(rid).measures, held_of.get((rid, name, _ck(c)), {}), period,
                                 year_start_of(rid))
            lines += _attention(name, c, rid, cks.get(c) if rid == kpi_id else None, reg, f, config, below)
        lines.sort(key=lambda a: a.item.severity)
        srcs = [_source_line(r, timeliness) for r in returns if get(r, "provider") == name
                and (end := end_month(r)) and month_index(end) <= month_index(period)]
        srcs.sort(key=lambda s: (s["return_id"], _ck(s["contract"]), period_end_month(s["period"]) or ""))
        packs.append(PackData(name, _unique(slugify(name), slugs), period, as_of, marking, False, list(cks.values()),
                              shown, lines, [r for r in reg if r["provider"] == name], srcs, fnd,
                              [n for n in notes if any(f", {c} " in n for c in cks)],
                              reviews=reviewer.reviews(lines, [c for (rid, _), (p, c) in owner.items()
                                                               if p == name and rid == reviewer.return_id])))
    chosen = [p for p in packs if p.slug]
    if providers is None:
        national = [MeasureSection(rid, section_of(rid), [], nationals[rid],
                                   [f"{cm.provider} {cm.contract} {cm.period or cm.month}: {f}" for cm in cms for f in cm.flags
                                    if cm.month in months12]) for rid, cms in measured.items() if cms]
        national += [MeasureSection(rid, section_of(rid), [], {}, [], failure=why) for rid, why in failed.items()]
        national.sort(key=lambda section: [s.id for s in measure_specs()].index(section.return_id))
        chosen.append(_national(packs, period, as_of, marking, reg, [_source_line(r, timeliness) for r in returns],
                                national, notes, config))
    return chosen


def _measure(rows_of: Mapping[str, list[Any]], profiles: Mapping[str, Mapping[str, Mapping[str, float]]] | None):
    """Each measures section's contract months and national months, by return id; a section whose figures
    cannot be drawn (a figure the ledger holds with a malformed month, say) costs that section only: its
    return id -> the sentence the packs print in its place (and the command on stderr)."""
    measured, nationals, failed = {}, {}, {}
    for s in measure_specs():
        try:
            cms = contract_months(field_values(rows_of[s.id]), s.pack,
                                  profiles={k: dict(v) for k, v in (profiles or {}).get(s.id, {}).items()})
            nationals[s.id] = {nm.month: nm for nm in national_months(cms, s.pack)}
            measured[s.id] = cms
        except Exception as exc:  # noqa: BLE001 - one section's failure must not stop every pack
            failed[s.id] = section_failure(s.pack.title, exc)
    return measured, nationals, failed


def _select(names: list[str], owner: dict, wanted: Iterable[str] | None) -> set[str]:
    if wanted is None:
        return set(names)
    chosen = set()
    for w in wanted:
        key = w.strip().casefold()
        hits = {n for n in names if key in (n.casefold(), slugify(n))} | \
               {p for (_, c), (p, _) in owner.items() if p and c == _ck(w)}
        if not hits:
            raise ValueError(f"No provider or contract '{w}' in the ledger (providers: {', '.join(names) or 'none'}).")
        chosen |= hits
    return chosen


def _unique(slug: str, taken: set[str]) -> str:
    out, n = slug, 2
    while out in taken:
        out, n = f"{slug}-{n}", n + 1
    taken.add(out)
    return out


def _national(packs, period, as_of, marking, reg, sources, sections, notes, config) -> PackData:
    cks = [c for p in packs for c in p.contracts]
    nat = national_kpis(cks, period, config)
    summary = []
    for p in (p for p in packs if p.slug):
        sev = [a.item.severity for a in p.attention]
        summary.append({"provider": p.provider, "high": sev.count(1), "medium": sev.count(2), "low": sev.count(3),
                        "top": p.attention[0].item.fact if p.attention else "Nothing flagged."})
    return PackData("National overview", NATIONAL, period, as_of, marking, True, [nat] if nat else [],
                    sections, [], reg,
                    sources, {}, notes,
                    [(ck.provider, line) for ck in cks for line in ck.lines],
                    [(ck.provider, ck.social_value) for ck in cks if ck.social_value], summary)


def publication(packs: list[PackData], period: str, config: KpiConfig | None = None) -> tuple[str, list[dict]]:
    """Publication rows (publication.publication_rows) for every KPI contract, for the latest quarter ending at or
    before ``period``: (quarter label, rows), contracts in the packs' order."""
    config = config or default_config()
    q_end = quarter_end_at_or_before(period, config.year_start_month)
    rows: list[dict] = []
    for ck in (c for p in packs if not p.is_national for c in p.contracts):
        if month_index(q_end) < month_index(ck.service_start):
            continue
        sv = ck.social_value.input if ck.social_value and ck.social_value.quarter_end == q_end else None
        rows += publication_rows(ck.contract, ck.provider, ck.counts, q_end, missing_months=ck.missing,
                                 service_start=ck.service_start, social_value=sv, config=config)
    return quarter_label(q_end, config.year_start_month), rows
