"""The providers register: who owes which returns, from when, and where in the UK they are.

A register is a CSV or TOML file with one entry per provider and contract:

    provider,contract,returns,region,service_start,first_period,year_start_month,service_end
    Northbridge Employment Ltd,CPA 07,kpd,england-and-wales,,2026-27 Q1,
    Northbridge Employment Ltd,AtW-MHSS-C014,mmir,england-and-wales,2024-08,,

* ``contract``: the CPA (KPD) or contract reference (MMIR), matched whatever its
  case and spacing;
* ``returns``: the return types expected, separated by ``;`` (``kpd;mmir``);
* ``region``: the UK division whose bank holidays count for deadlines:
  england-and-wales (default), scotland or northern-ireland;
* ``service_start`` (optional, ``YYYY-MM``): returns are owed from the period
  containing that month;
* ``first_period`` (optional): the first period owed, in the return's own form
  (``2026-27 Q1``, ``2026-08``), or per return type (``kpd=2026-27 Q1;mmir=2026-08``).
  It wins over ``service_start``;
* ``service_end`` (optional, ``YYYY-MM``): the contract's last month; no return is
  owed for a period starting after it;
* ``year_start_month`` (optional, 1-12): the month the contract year starts, for
  year-to-date checks (default: the spec's, April);
* ``profile`` (optional): the number the contract is profiled to deliver, one whole
  number for every period (``25``) or per period (``2026-10=20;2026-11=25``), e.g. the
  profiled starts of JOBS II 6.10 (see ``intake.profile``).

The TOML form is a list of tables with the same keys: ``[[providers]]``
(``returns`` may be a list, ``first_period`` a table by return type, ``profile`` a
number or a table by period).

Without a register, the providers and contracts expected are those seen in the
ledger, for the periods seen in the ledger from each contract's first one.

``owed_span`` is the one place that decides from when (and until when) a contract owes a
return: the submissions register, the packs, the KPI windows and the publication rows all
read it, so a contract is never "0 missing" in one output and "14 months missing" in another.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..spec.return_spec import ReturnSpec, SpecError, get_spec, load_all
from ..read.values import parse_period_label, period_from_month, period_from_quarter
from ..spec.workdays import DEFAULT_REGION, REGIONS
from .profile import Profile, parse_profile, profile_for

if TYPE_CHECKING:
    from .ledger import Ledger, RegisterRow

STATUSES = ("on time", "late", "missing", "rejected only", "not yet due")

_HEADER_ALIASES = {
    "provider": "provider", "provider name": "provider", "prime provider": "provider", "supplier": "provider",
    "contract": "contract", "cpa": "contract", "contract reference": "contract", "contract ref": "contract",
    "returns": "returns", "return types": "returns", "return_types": "returns", "return types expected": "returns",
    "returns expected": "returns", "region": "region", "division": "region", "uk division": "region",
    "service_start": "service_start", "service start": "service_start", "service start date": "service_start",
    "first_period": "first_period", "first period": "first_period", "first period expected": "first_period",
    "year_start_month": "year_start_month", "year start month": "year_start_month",
    "service_end": "service_end", "service end": "service_end", "service end date": "service_end",
    "contract year start": "year_start_month",
    "profile": "profile", "profiled": "profile", "profiled number": "profile",
}
_REGION_ALIASES = {
    "england-and-wales": "england-and-wales", "england and wales": "england-and-wales", "england": "england-and-wales",
    "wales": "england-and-wales", "eng": "england-and-wales", "wls": "england-and-wales", "e&w": "england-and-wales",
    "scotland": "scotland", "sct": "scotland", "northern-ireland": "northern-ireland",
    "northern ireland": "northern-ireland", "nir": "northern-ireland", "ni": "northern-ireland",
}
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class RegistryError(Exception):
    """The register file cannot be used (a plain sentence naming the file, line and column)."""


# -- periods --------------------------------------------------------------------------------
def period_bounds(spec: ReturnSpec, label: str) -> tuple[str, dt.date, dt.date] | None:
    """'2026-27 Q2' or '2026-10' -> (normalised label, first day, last day); None if not this spec's form."""
    try:
        return parse_period_label(spec.period, label)
    except (ValueError, TypeError):
        return None


def period_containing(spec: ReturnSpec, day: dt.date) -> tuple[str, dt.date, dt.date]:
    if spec.period.kind == "month":
        return period_from_month(day)
    ysm = spec.period.year_start_month
    first_year = day.year - (1 if day.month < ysm else 0)
    quarter = ((day.month - ysm) % 12) // 3 + 1
    result = period_from_quarter(spec.period, f"{first_year}-{(first_year + 1) % 100:02d}", f"Q{quarter}")
    assert result is not None
    return result


def periods_between(spec: ReturnSpec, first: str, last_end: dt.date) -> list[tuple[str, dt.date]]:
    """(label, last day) of every period from ``first`` whose last day is on or before ``last_end``."""
    bounds = period_bounds(spec, first)
    out: list[tuple[str, dt.date]] = []
    while bounds and bounds[2] <= last_end:
        out.append((bounds[0], bounds[2]))
        bounds = period_containing(spec, bounds[2] + dt.timedelta(days=1))
        if len(out) > 1200:  # a hundred years of months: a typo, not a register
            break
    return out


def _month_date(text: str) -> dt.date | None:
    m = _MONTH.match(text.strip())
    if not m or not 1 <= int(m.group(2)) <= 12:
        return None
    return dt.date(int(m.group(1)), int(m.group(2)), 1)


# -- the register -----------------------------------------------------------------------
@dataclass(frozen=True)
class RegistryEntry:
    provider: str
    contract: str
    returns: tuple[str, ...]
    region: str = DEFAULT_REGION
    service_start: str | None = None  # 'YYYY-MM'
    first_period: dict[str, str] | str | None = None  # one label, or by return id
    year_start_month: int | None = None
    line: int = 0
    service_end: str | None = None  # 'YYYY-MM': the last month of the contract
    profile: Profile = None  # the profiled number, for every period or by period label

    def profiled(self, period: str) -> int | None:
        """The number this contract is profiled to deliver in ``period`` (None: the register does not say)."""
        return profile_for(self.profile, period)

    @property
    def contract_key(self) -> str:
        from .ledger import contract_key

        return contract_key(self.contract) or ""

    def first_period_for(self, spec: ReturnSpec) -> str | None:
        """The first period this contract owes ``spec``'s return, or None if the register does not say."""
        given = self.first_period.get(spec.id) if isinstance(self.first_period, dict) else self.first_period
        if given:
            exact = period_bounds(spec, given)
            if exact:
                return exact[0]
            month = _month_date(given)
            if month:  # a month given for a quarterly return: the quarter containing it
                return period_containing(spec, month)[0]
            for other in load_all().values():  # a quarter given for a monthly return: its first month
                b = period_bounds(other, given)
                if b:
                    return period_containing(spec, b[1])[0]
        if self.service_start:
            month = _month_date(self.service_start)
            if month:
                return period_containing(spec, month)[0]
        return None


@dataclass(frozen=True)
class OwedSpan:
    """The periods a contract owes one return: from ``first_period`` (its first month ``first_month``)
    to the period ending ``last_end`` (None: still running). ``first_period`` None: nothing says."""

    first_period: str | None
    first_month: str | None
    last_end: dt.date | None = None

    @property
    def last_month(self) -> str | None:
        return None if self.last_end is None else f"{self.last_end:%Y-%m}"


def configured_start(spec: ReturnSpec, contract: str | None) -> str | None:
    """An MMIR contract's Service Start Date month from validators/kpis.toml ([contracts."REF"]), if set."""
    if spec.id != "mmir" or not contract:
        return None
    from ..packs.kpis import default_config
    from .ledger import contract_key

    key = contract_key(contract)
    return next((c.service_start for ref, c in default_config().contracts.items()
                 if contract_key(ref) == key and c.service_start), None)


def owed_span(entry: RegistryEntry | None, spec: ReturnSpec, first_seen: str | None = None,
              contract: str | None = None) -> OwedSpan:
    """From when a contract owes ``spec``'s return: the register's first_period, else the period holding
    its service_start, else the Service Start Date in validators/kpis.toml (MMIR), else ``first_seen``, the
    first period the ledger holds for it. Until: the period holding the register's service_end."""
    configured = configured_start(spec, entry.contract if entry else contract)
    configured_first = period_containing(spec, _month_date(configured))[0] if configured else None
    first = (entry.first_period_for(spec) if entry else None) or configured_first or first_seen
    bounds = period_bounds(spec, first) if first else None
    end = None
    if entry and entry.service_end and (month := _month_date(entry.service_end)):
        end = period_containing(spec, month)[2]
    return OwedSpan(bounds[0] if bounds else None, f"{bounds[1]:%Y-%m}" if bounds else None, end)


@dataclass
class Registry:
    entries: list[RegistryEntry] = field(default_factory=list)
    source: str = ""

    def __post_init__(self) -> None:
        self._by_contract: dict[str, RegistryEntry] = {}
        for e in self.entries:
            self._by_contract.setdefault(e.contract_key, e)

    def for_contract(self, contract: str | None) -> RegistryEntry | None:
        from .ledger import contract_key

        return self._by_contract.get(contract_key(contract) or "")

    def region_for(self, contract: str | None, default: str = DEFAULT_REGION) -> str:
        e = self.for_contract(contract)
        return e.region if e else default

    def year_start(self, return_id: str, contract: str | None) -> int | None:
        e = self.for_contract(contract)
        return e.year_start_month if e and e.year_start_month else None

    def expected(self) -> list[tuple[RegistryEntry, str]]:
        return [(e, r) for e in self.entries for r in e.returns]


def load_registry(path: str | Path) -> Registry:
    """Read a CSV or TOML register; RegistryError names the file, line and column of a problem."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise RegistryError(f"The providers register {path} cannot be read ({exc.strerror or exc}).") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RegistryError(f"{path.name}: is not UTF-8 text. Save it as CSV UTF-8 or TOML.") from None
    return registry_from_text(text, path.name)


def registry_from_text(text: str, name: str) -> Registry:
    """A register from its text; ``name`` (e.g. providers.csv) says whether it is CSV or TOML."""
    if name.lower().endswith(".toml"):
        return _from_toml(text, name)
    return _from_csv(text, name)


def _from_csv(text: str, name: str) -> Registry:
    reader = csv.reader(io.StringIO(text))
    rows = [r for r in reader]
    # Skip blank lines and comment lines before the header.
    start = 0
    while start < len(rows) and (not any(c.strip() for c in rows[start]) or rows[start][0].lstrip().startswith("#")):
        start += 1
    if start >= len(rows):
        raise RegistryError(f"{name}: is empty: give a header row (provider,contract,returns,region,...) and one "
                            "row per provider and contract.")
    header = []
    for i, h in enumerate(rows[start]):
        key = _HEADER_ALIASES.get(h.strip().lower())
        if key is None and h.strip():
            raise RegistryError(f"{name}: line {start + 1}, column {i + 1}: the heading '{h.strip()}' is not one of "
                                "provider, contract, returns, region, service_start, first_period, year_start_month, "
                                "service_end, profile.")
        header.append(key)
    for needed in ("provider", "contract", "returns"):
        if needed not in header:
            raise RegistryError(f"{name}: line {start + 1}: the column '{needed}' is missing.")
    entries = []
    for n, row in enumerate(rows[start + 1:], start=start + 2):
        if not any(c.strip() for c in row) or row[0].lstrip().startswith("#"):
            continue
        data = {k: row[i].strip() for i, k in enumerate(header) if k and i < len(row)}
        entries.append(_entry(data, name, n, {k: i + 1 for i, k in enumerate(header) if k}))
    return _registry(entries, name)


def _from_toml(text: str, name: str) -> Registry:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RegistryError(f"{name}: is not valid TOML ({exc}).") from None
    items = data.get("providers", data.get("provider"))
    if not isinstance(items, list) or not items:
        raise RegistryError(f"{name}: key 'providers' is missing: list each provider as a [[providers]] table.")
    entries = []
    for i, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise RegistryError(f"{name}: providers entry {i} must be a table.")
        unknown = sorted(set(item) - set(_HEADER_ALIASES.values()))
        if unknown:
            raise RegistryError(f"{name}: providers entry {i}: key '{unknown[0]}' is not used.")
        item = dict(item)
        if isinstance(item.get("returns"), list):
            item["returns"] = ";".join(str(x) for x in item["returns"])
        for key in ("first_period", "profile"):
            if isinstance(item.get(key), dict):
                item[key] = ";".join(f"{k}={v}" for k, v in item[key].items())
        for k, v in list(item.items()):
            item[k] = "" if v is None else str(v).strip()
        entries.append(_entry(item, name, i, None))
    return _registry(entries, name)


def _entry(data: dict[str, str], name: str, line: int, cols: dict[str, int] | None) -> RegistryEntry:
    def fail(key: str, problem: str) -> RegistryError:
        where = f"line {line}, column {cols[key]}" if cols and key in cols else (
            f"line {line}" if cols else f"providers entry {line}, key '{key}'")
        return RegistryError(f"{name}: {where}: {problem}")

    specs = load_all()
    provider = data.get("provider", "")
    contract = data.get("contract", "")
    if not provider:
        raise fail("provider", "the provider is empty.")
    if not contract:
        raise fail("contract", "the contract (CPA or contract reference) is empty.")
    returns = tuple(dict.fromkeys(r.strip().lower() for r in re.split(r"[;,|\s]+", data.get("returns", "")) if r.strip()))
    if not returns:
        raise fail("returns", f"no return types: give one or more of {', '.join(sorted(specs))}, separated by ';'.")
    for r in returns:
        if r not in specs:
            raise fail("returns", f"'{r}' is not a return type (known: {', '.join(sorted(specs))}).")
    region_text = data.get("region", "").strip().lower()
    region = _REGION_ALIASES.get(region_text, region_text) if region_text else DEFAULT_REGION
    if region not in REGIONS:
        raise fail("region", f"'{data.get('region')}' is not a UK division: use england-and-wales, scotland or "
                             "northern-ireland.")
    service_start = data.get("service_start") or None
    if service_start and _month_date(service_start) is None:
        raise fail("service_start", f"'{service_start}' is not a month: write it as 2026-04.")
    first: dict[str, str] | str | None = None
    fp = data.get("first_period", "")
    if fp:
        if "=" in fp:
            first = {}
            for part in fp.split(";"):
                if not part.strip():
                    continue
                rid, _, label = part.partition("=")
                rid = rid.strip().lower()
                if rid not in specs or period_bounds(specs[rid], label.strip()) is None:
                    raise fail("first_period", f"'{part.strip()}' is not a return type and one of its periods "
                                               "(for example kpd=2026-27 Q1).")
                first[rid] = period_bounds(specs[rid], label.strip())[0]
        else:
            if not (_month_date(fp) or any(period_bounds(s, fp) for s in specs.values())):
                raise fail("first_period", f"'{fp}' is not a period: write 2026-27 Q1 or 2026-08.")
            first = fp
    ysm = None
    if data.get("year_start_month"):
        try:
            ysm = int(data["year_start_month"])
        except ValueError:
            ysm = 0
        if not 1 <= ysm <= 12:
            raise fail("year_start_month", f"'{data['year_start_month']}' is not a month number from 1 to 12.")
    service_end = data.get("service_end") or None
    if service_end and _month_date(service_end) is None:
        raise fail("service_end", f"'{service_end}' is not a month: write it as 2027-03.")
    try:
        profile = parse_profile(data.get("profile", ""),
                                lambda label: _month_date(label) or any(period_bounds(s, label) for s in specs.values()))
    except ValueError as exc:
        raise fail("profile", str(exc)) from None
    return RegistryEntry(provider, contract, returns, region, service_start, first, ysm, line, service_end, profile)


def _registry(entries: list[RegistryEntry], name: str) -> Registry:
    seen: dict[tuple[str, str], int] = {}
    for e in entries:
        for r in e.returns:
            k = (e.contract_key, r)
            if k in seen:
                raise RegistryError(f"{name}: line {e.line}: contract '{e.contract}' already expects a {r} return "
                                    f"(line {seen[k]}). List each contract once.")
            seen[k] = e.line
    return Registry(entries, name)


# -- who owed what ----------------------------------------------------------------------
def submissions_register(ledger: "Ledger", *, as_of: dt.date, register: Registry | None,
                         periods: Iterable[str] | None = None, region_default: str = DEFAULT_REGION,
                         calendar: Any = None) -> list["RegisterRow"]:
    """One row per expected (provider, contract, return, period), plus any received but not expected.

    Status: "on time" / "late" (by the FIRST valid submission, in working days of
    the provider's UK division), "rejected only" (files came but none valid),
    "missing" (owed: its deadline passed before the as-of date, nothing received)
    or "not yet due". Periods count up to the as-of date (those that have ended).
    """
    from ..spec.deadlines import load_deadlines
    from .ledger import contract_key

    cal = calendar if calendar is not None and not isinstance(calendar, (str, Path)) else load_deadlines(calendar)
    specs = load_all()
    groups = ledger.group_files()
    wanted = set(periods) if periods else None

    # (return_id, contract_key) -> (provider, contract, region, in_register, expected periods)
    plan: dict[tuple[str, str], tuple[str | None, str, str, bool, dict[str, dt.date]]] = {}
    seen_periods: dict[str, list[tuple[str, dt.date]]] = {}
    for rid in specs:
        seen_periods[rid] = ledger.periods_seen(rid)

    def add_periods(target: dict[str, dt.date], spec: ReturnSpec, first: str | None, floor: dt.date | None,
                    last_end: dt.date | None = None) -> None:
        until = min(as_of, last_end) if last_end else as_of
        if first:
            for label, end in periods_between(spec, first, until):
                target[label] = end
        else:
            for label, end in seen_periods.get(spec.id, []):
                if end <= until and (floor is None or end >= floor):
                    target[label] = end
        if wanted:
            first_end = period_bounds(spec, first)[2] if first and period_bounds(spec, first) else floor
            for label in wanted:
                b = period_bounds(spec, label)
                if b and (first_end is None or b[2] >= first_end) and (last_end is None or b[2] <= last_end):
                    target[b[0]] = b[2]

    # Each attributable contract seen in the ledger, with its first period seen.
    first_seen: dict[tuple[str, str], dt.date] = {}
    for (rid, ck, _period), files in groups.items():
        end = files[0].period_end
        if end and ((rid, ck) not in first_seen or end < first_seen[(rid, ck)]):
            first_seen[(rid, ck)] = end

    if register is not None:
        for entry, rid in register.expected():
            spec = specs.get(rid)
            if spec is None:
                continue
            target: dict[str, dt.date] = {}
            span = owed_span(entry, spec)
            add_periods(target, spec, span.first_period,
                        None if span.first_period else first_seen.get((rid, entry.contract_key)), span.last_end)
            plan[(rid, entry.contract_key)] = (entry.provider, entry.contract, entry.region, True, target)
    for rid, ck, provider, contract in ledger.contracts_seen():
        if (rid, ck) in plan or rid not in specs:
            continue
        target = {}
        if register is None:
            span = owed_span(None, specs[rid], contract=contract or ck)
            add_periods(target, specs[rid], span.first_period,
                        None if span.first_period else first_seen.get((rid, ck)))
        plan[(rid, ck)] = (provider, contract or ck, register.region_for(contract, region_default)
                           if register else region_default, False if register is not None else True, target)

    rows: list[RegisterRow] = []
    for (rid, ck), (provider, contract, region, in_register, target) in plan.items():
        spec = specs[rid]
        # Periods with files count too, even if not expected (early, or before the first period).
        for (g_rid, g_ck, g_period), files in groups.items():
            if g_rid == rid and g_ck == ck and files[0].period_end:
                target.setdefault(g_period, files[0].period_end)
        for period, end in target.items():
            if wanted and period not in wanted:
                continue
            files = groups.get((rid, ck, period), [])
            rows.append(_register_row(spec, provider, contract, period, end, region, in_register, files, as_of, cal))
    rows.sort(key=lambda r: (r.return_id, (r.provider or "").casefold(), contract_key(r.contract) or "",
                             r.period_end or dt.date.min, r.period))
    return rows


def _register_row(spec: ReturnSpec, provider: str | None, contract: str, period: str, period_end: dt.date,
                  region: str, in_register: bool, files: list, as_of: dt.date, calendar: Any) -> "RegisterRow":
    from ..spec.deadlines import assess, deadline_for
    from .ledger import VALID_VERDICTS, RegisterRow

    dl = deadline_for(spec.id, period, period_end, region=region, calendar=calendar)
    deadline = dl.due if dl else None
    valid = [f for f in files if f.verdict in VALID_VERDICTS]
    current = None
    if valid:
        current = max(valid, key=lambda f: (f.received_text or "", f.file_id))
    base = dict(provider=provider, contract=contract,
                return_id=spec.id, period=period, deadline=deadline,
                resubmissions=max(0, len(files) - 1), files=len(files), period_end=period_end, region=region,
                in_register=in_register, current_file_id=current.file_id if current else None,
                current_name=current.name if current else None, sender=current.sender if current else None)
    if valid:
        first = valid[0]
        late = first.late_working_days
        if first.received_at is not None and dl is not None:
            when = first.received_at.date() if first.received_date_only else first.received_at
            lateness = assess(spec.id, period, period_end, when, region=region, calendar=calendar)
            late = lateness.late_working_days if lateness else late
        status = "late" if late else "on time"
        return RegisterRow(status=status, received_at=first.received_at, late_working_days=late or 0,
                           received_date_only=first.received_date_only, **base)
    if files:
        return RegisterRow(status="rejected only", received_at=files[-1].received_at, late_working_days=None,
                           received_date_only=files[-1].received_date_only, **base)
    owed = as_of > deadline.date() if deadline else as_of > period_end
    return RegisterRow(status="missing" if owed else "not yet due", received_at=None, late_working_days=None, **base)


def registry_or_none(path: str | Path | None) -> Registry | None:
    return load_registry(path) if path else None


__all__ = ["Registry", "RegistryEntry", "RegistryError", "STATUSES", "load_registry", "period_bounds",
           "period_containing", "periods_between", "submissions_register", "registry_or_none", "SpecError",
           "OwedSpan", "owed_span", "get_spec"]
