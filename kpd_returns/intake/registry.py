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
  profiled starts of JOBS II 6.10 (see ``intake.profile``);
* ``contact`` (optional): the e-mail address the draft e-mail about a return goes to when the
  return came without one (a bare workbook: ``intake.drafts``). It is used there only, and
  never shown anywhere else.

The TOML form is a list of tables with the same keys: ``[[providers]]``
(``returns`` may be a list, ``first_period`` a table by return type, ``profile`` a
number or a table by period).

Without a register, the providers and contracts expected are those seen in the
ledger, for the periods seen in the ledger from each contract's first one.

Who owed what, and from when, is worked out from the register in ``intake.submissions``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..spec.return_spec import ReturnSpec, SpecError, get_spec, load_all
from ..spec.model import contract_key
from ..spec.periods import Period
from ..spec.small_files import MB, SmallFileError, parse_toml, read_small_text
from ..spec.workdays import DEFAULT_REGION, REGIONS
from .profile import Profile, parse_profile, profile_for
from ..render.draft_email import usable_address
from ..spec.personal_data import mask_all

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
    "contact": "contact", "contact email": "contact", "contact e-mail": "contact", "contact_email": "contact",
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
def period_bounds(spec: ReturnSpec, label: str) -> Period | None:
    """'2026-27 Q2' or '2026-10' -> (normalised label, first day, last day); None if not this spec's form."""
    return spec.period.parse(label)


def month_date(text: str) -> dt.date | None:
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
    contact: str | None = None  # the address for draft e-mails about a bare workbook (intake.drafts)

    def profiled(self, period: str) -> int | None:
        """The number this contract is profiled to deliver in ``period`` (None: the register does not say)."""
        return profile_for(self.profile, period)

    @property
    def contract_key(self) -> str:
        return contract_key(self.contract) or ""

    def spec_for(self, spec: ReturnSpec) -> ReturnSpec:
        """``spec`` with this contract's own contract year: where the spec's period says the year starts at
        the Service Start Date (``year_start = "service_start"``), it starts in this row's service_start month."""
        period = spec.period.for_service_start(self.service_start)
        return spec if period is spec.period else spec.model_copy(update={"period": period})

    def first_period_for(self, spec: ReturnSpec) -> str | None:
        """The first period this contract owes ``spec``'s return, or None if the register does not say."""
        spec = self.spec_for(spec)
        given = self.first_period.get(spec.id) if isinstance(self.first_period, dict) else self.first_period
        if given:
            exact = period_bounds(spec, given)
            if exact:
                return exact[0]
            month = month_date(given)
            if month:  # a month given for a quarterly return: the quarter containing it
                return spec.period.containing(month).label
            for other in load_all().values():  # a quarter given for a monthly return: its first month
                b = period_bounds(other, given)
                if b:
                    return spec.period.containing(b[1]).label
        if self.service_start:
            month = month_date(self.service_start)
            if month:
                return spec.period.containing(month).label
        return None


@dataclass
class Registry:
    entries: list[RegistryEntry] = field(default_factory=list)
    source: str = ""

    def __post_init__(self) -> None:
        self._by_contract: dict[str, RegistryEntry] = {}
        for e in self.entries:
            self._by_contract.setdefault(e.contract_key, e)

    def for_contract(self, contract: str | None) -> RegistryEntry | None:
        return self._by_contract.get(contract_key(contract) or "")

    def region_for(self, contract: str | None, default: str = DEFAULT_REGION) -> str:
        e = self.for_contract(contract)
        return e.region if e else default

    def year_start(self, return_id: str, contract: str | None) -> int | None:
        e = self.for_contract(contract)
        return e.year_start_month if e and e.year_start_month else None

    def expected(self) -> list[tuple[RegistryEntry, str]]:
        return [(e, r) for e in self.entries for r in e.returns]


# A register lists providers and contracts: hundreds of rows, each value a name, a reference or a short
# list. The bounds keep a hostile register to one sentence and well under 300 MB (a 1,000,000-row
# register took 1.37 GB; a value over 131,072 characters was a traceback): issue 19 item 13.
MAX_REGISTER_BYTES = 5 * MB
MAX_REGISTER_ROWS = 20_000
MAX_VALUE_CHARS = 4_000


def read_register_text(path: str | Path) -> str:
    """The text of a register file: a regular UTF-8 file of at most 5 MB, else RegistryError naming it."""
    path = Path(path)
    try:
        return read_small_text(path, MAX_REGISTER_BYTES, bom=True)
    except OSError as exc:
        raise RegistryError(f"The providers register {path} cannot be read ({exc.strerror or exc}).") from None
    except SmallFileError as exc:
        text = str(exc)
        if text.startswith("is not UTF-8"):
            text = "is not UTF-8 text. Save it as CSV UTF-8 or TOML."
        raise RegistryError(f"The providers register {path} {text}") from None


def load_registry(path: str | Path) -> Registry:
    """Read a CSV or TOML register; RegistryError names the file, line and column of a problem."""
    return registry_from_text(read_register_text(path), Path(path).name)


def registry_from_text(text: str, name: str) -> Registry:
    """A register from its text; ``name`` (e.g. providers.csv) says whether it is CSV or TOML."""
    if len(text) > MAX_REGISTER_BYTES:
        raise RegistryError(f"{name}: is too big (over {MAX_REGISTER_BYTES // MB} MB, the most kpd-returns reads).")
    if name.lower().endswith(".toml"):
        return _from_toml(text, name)
    return _from_csv(text, name)


def _too_many(name: str, where: str) -> RegistryError:
    return RegistryError(f"{name}: {where}: the register has more than {MAX_REGISTER_ROWS:,} rows, the most "
                         "kpd-returns reads.")


def _too_long(name: str, where: str, n: int | None = None) -> RegistryError:
    size = f"{n:,} characters long" if n is not None else "too long"
    return RegistryError(f"{name}: {where}: the value is {size}; the most is {MAX_VALUE_CHARS:,}.")


def _csv_rows(text: str, name: str):
    """(line number, row) of the CSV text, read one row at a time, each value at most 4,000 characters."""
    reader = csv.reader(io.StringIO(text))
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # a value over csv's own limit (131,072 characters), a NUL byte
            if "field limit" in str(exc):
                raise _too_long(name, f"line {reader.line_num}") from None
            raise RegistryError(f"{name}: line {reader.line_num}: cannot be read as CSV ({exc}).") from None
        for i, cell in enumerate(row):
            if len(cell) > MAX_VALUE_CHARS:
                raise _too_long(name, f"line {reader.line_num}, column {i + 1}", len(cell))
        yield reader.line_num, row


def _from_csv(text: str, name: str) -> Registry:
    rows = _csv_rows(text, name)
    # Skip blank lines and comment lines before the header.
    header_row = None
    for line, row in rows:
        if any(c.strip() for c in row) and not row[0].lstrip().startswith("#"):
            header_row = (line, row)
            break
    if header_row is None:
        raise RegistryError(f"{name}: is empty: give a header row (provider,contract,returns,region,...) and one "
                            "row per provider and contract.")
    start, header_cells = header_row
    header = []
    for i, h in enumerate(header_cells):
        key = _HEADER_ALIASES.get(h.strip().lower())
        if key is None and h.strip():
            raise RegistryError(f"{name}: line {start}, column {i + 1}: the heading '{h.strip()[:80]}' is not one of "
                                "provider, contract, returns, region, service_start, first_period, year_start_month, "
                                "service_end, profile, contact.")
        header.append(key)
    for needed in ("provider", "contract", "returns"):
        if needed not in header:
            raise RegistryError(f"{name}: line {start}: the column '{needed}' is missing.")
    entries = []
    for n, row in rows:
        if not any(c.strip() for c in row) or row[0].lstrip().startswith("#"):
            continue
        if len(entries) >= MAX_REGISTER_ROWS:
            raise _too_many(name, f"line {n}")
        data = {k: row[i].strip() for i, k in enumerate(header) if k and i < len(row)}
        entries.append(_entry(data, name, n, {k: i + 1 for i, k in enumerate(header) if k}))
    return _registry(entries, name)


def _from_toml(text: str, name: str) -> Registry:
    try:
        data = parse_toml(text, max_depth=8)
    except SmallFileError as exc:
        raise RegistryError(f"{name}: {exc}") from None
    items = data.get("providers", data.get("provider"))
    if not isinstance(items, list) or not items:
        raise RegistryError(f"{name}: key 'providers' is missing: list each provider as a [[providers]] table.")
    entries = []
    for i, item in enumerate(items, start=1):
        if i > MAX_REGISTER_ROWS:
            raise _too_many(name, f"providers entry {i}")
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
            if len(item[k]) > MAX_VALUE_CHARS:
                raise _too_long(name, f"providers entry {i}, key '{k}'", len(item[k]))
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
    if service_start and month_date(service_start) is None:
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
            if not (month_date(fp) or any(period_bounds(s, fp) for s in specs.values())):
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
    if service_end and month_date(service_end) is None:
        raise fail("service_end", f"'{service_end}' is not a month: write it as 2027-03.")
    try:
        profile = parse_profile(data.get("profile", ""),
                                lambda label: month_date(label) or any(period_bounds(s, label) for s in specs.values()))
    except ValueError as exc:
        raise fail("profile", str(exc)) from None
    contact = data.get("contact") or None
    if contact and usable_address(contact) is None:
        raise fail("contact", f"'{mask_all(contact)}' is not one e-mail address: write it as mi@provider.example.")
    return RegistryEntry(provider, contract, returns, region, service_start, first, ysm, line, service_end, profile,
                         contact)


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


def registry_or_none(path: str | Path | None) -> Registry | None:
    return load_registry(path) if path else None


__all__ = ["Registry", "RegistryEntry", "RegistryError", "load_registry", "period_bounds", "read_register_text",
           "registry_or_none",
           "SpecError", "get_spec"]
