"""Deadlines and lateness, from the deadline calendar in validators/deadlines.toml.

The calendar is data: one TOML table per return id, each one rule (the kinds
are described at the top of validators/deadlines.toml), or ``no_deadline = true``
with a ``reason``. Every return type must have one: the spec loader refuses a
return without (kpd_returns.spec.return_spec). In the packaged calendar a
malformed rule costs only its own return (``calendar_problems``); a user's file
(``--deadlines``) must be right as a whole. A user's own file
(``load_deadlines(path)``, the CLI's ``--deadlines FILE``) is laid over the
packaged one: a return id it defines replaces the packaged rule for that id,
other return ids keep theirs.

Deadlines are UK local time. Working days follow kpd_returns.spec.workdays: the
period's last day (or the deadline) is day 0; weekends and the region's bank
holidays are not working days.

Lateness (``assess``):

* A submission with a time is late when it is after the due date and time.
  A time-zone-aware time is first converted to UK time.
* A submission with only a date (``datetime.date``) has no known time, so it is
  on time on the due date and late from the day after.
* ``late_working_days`` is ``working_days_between(due date, submission date)``:
  the working days after the due date up to and including the day of the
  submission. It is at least 1 for any late submission, so a return sent at
  17:30 against a 17:00 deadline, or on the weekend after a Friday deadline, is
  "late by 1 working day" (it is dealt with on the next working day), never
  "late by 0".
"""

from __future__ import annotations

import calendar as _cal
import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

from .periods import ISO_DAY
from .resources import validators_dir
from .small_files import SmallFileError, load_toml_file
from .workdays import DEFAULT_REGION, add_working_days, next_working_day_on_or_after, working_days_between

DEADLINES_FILE = "deadlines.toml"
_UK = ZoneInfo("Europe/London")
_DEFAULT_TIME = dt.time(23, 59)

# kind -> (its number parameter, lowest allowed, highest allowed)
_NUMBER_PARAM = {
    "nth_working_day_after_period": ("n", 1, 366),
    "day_of_following_month": ("day", 1, 31),
    "calendar_days_after_period": ("days", 0, 366),
}
KINDS = (*_NUMBER_PARAM, "table")
NO_DEADLINE = "none"  # the kind of a rule written `no_deadline = true` with a `reason`


class DeadlineError(Exception):
    """A deadline file is missing, unreadable or malformed."""


@dataclass(frozen=True)
class Deadline:
    due: dt.datetime  # UK local time, naive
    rule: str  # e.g. "3rd working day after the period ends, 23:59"
    source: str = ""  # the guidance behind the rule, from the file's `source`

    @property
    def due_text(self) -> str:
        """e.g. 'Wed 4 November 2026 23:59'."""
        d = self.due
        return f"{d:%a} {d.day} {d:%B %Y %H:%M}"


@dataclass(frozen=True)
class Rule:
    """One rule of the calendar. ``number`` is n, day or days, depending on ``kind``."""

    kind: str
    time: dt.time = _DEFAULT_TIME
    number: int = 0
    dates: Mapping[str, dt.date] = field(default_factory=lambda: MappingProxyType({}))
    fallback: Rule | None = None
    source: str = ""
    guidance: str = ""  # the paragraph a late or missing return cites ("AtW 7.24"), from the file's `guidance`

    @property
    def no_deadline(self) -> bool:
        """The return has no deadline (``source`` holds the reason): never on time, never late."""
        return self.kind == NO_DEADLINE

    def deadline(self, period: str, period_end: dt.date, region: str = DEFAULT_REGION) -> Deadline | None:
        """The deadline for ``period``; None for a table without that period or a fallback, or no deadline."""
        if self.kind == NO_DEADLINE:
            return None
        if self.kind == "table":
            if period in self.dates:
                return self._make(self.dates[period], f"the date set for {period} in the deadline table")
            return self.fallback.deadline(period, period_end, region) if self.fallback else None
        if self.kind == "nth_working_day_after_period":
            due = add_working_days(period_end, self.number, region)
            return self._make(due, f"{_ordinal(self.number)} working day after the period ends")
        if self.kind == "day_of_following_month":
            next_month = (period_end.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
            day = min(self.number, _cal.monthrange(next_month.year, next_month.month)[1])
            due = next_working_day_on_or_after(next_month.replace(day=day), region)
            text = f"{_ordinal(self.number)} of the following month (or the next working day)"
            return self._make(due, text)
        due = period_end + dt.timedelta(days=self.number)
        return self._make(due, f"{self.number} calendar days after the period ends")

    def _make(self, due: dt.date, text: str) -> Deadline:
        return Deadline(due=dt.datetime.combine(due, self.time), rule=f"{text}, {self.time:%H:%M}",
                        source=self.source)


@dataclass(frozen=True)
class Lateness:
    deadline: Deadline
    submitted: dt.datetime | dt.date  # as given: a plain date means the time is not known
    late_working_days: int  # 0 when on time

    @property
    def on_time(self) -> bool:
        return self.late_working_days == 0

    def describe(self) -> str:
        """'on time (deadline Wed 4 November 2026 23:59)' or 'late by 12 working days (deadline ...)'."""
        when = f"(deadline {self.deadline.due_text})"
        if self.on_time:
            return f"on time {when}"
        unit = "working day" if self.late_working_days == 1 else "working days"
        return f"late by {self.late_working_days} {unit} {when}"


Calendar = Mapping[str, Rule]


def load_deadlines(path: str | Path | None = None) -> dict[str, Rule]:
    """The deadline calendar by return id: the packaged file, with ``path``'s rules laid over it."""
    rules = dict(packaged_calendar())
    if path is not None:
        rules.update(_load_file(Path(path)))
    return rules


def deadline_guidance(return_id: str) -> str:
    """The paragraph a late or missing return of ``return_id`` cites (its rule's ``guidance``; "" if none)."""
    rule = packaged_calendar().get(return_id)
    return rule.guidance if rule else ""


def deadline_for(return_id: str, period: str, period_end: dt.date, *, region: str = DEFAULT_REGION,
                 calendar: Calendar | str | Path | None = None) -> Deadline | None:
    """When ``return_id`` for ``period`` is due; None if the calendar has no rule for it.

    ``calendar`` is a loaded calendar, a path to a deadline file, or None for the packaged one.
    """
    if calendar is None or isinstance(calendar, (str, Path)):
        calendar = load_deadlines(calendar)
    rule = calendar.get(return_id)
    return rule.deadline(period, period_end, region) if rule else None


def assess(return_id: str, period: str, period_end: dt.date, submitted: dt.datetime | dt.date, *,
           region: str = DEFAULT_REGION, calendar: Calendar | str | Path | None = None) -> Lateness | None:
    """Whether a submission was on time and, if not, by how many working days (see the module notes)."""
    deadline = deadline_for(return_id, period, period_end, region=region, calendar=calendar)
    if deadline is None:
        return None
    if isinstance(submitted, dt.datetime):
        local = submitted.astimezone(_UK).replace(tzinfo=None) if submitted.tzinfo else submitted
        late, day = local > deadline.due, local.date()
    else:
        late, day = submitted > deadline.due.date(), submitted
    days = max(1, working_days_between(deadline.due.date(), day, region)) if late else 0
    return Lateness(deadline=deadline, submitted=submitted, late_working_days=days)


# -- reading the file ---------------------------------------------------------

def packaged_calendar() -> Mapping[str, Rule]:
    """The calendar in the validators folder in use (see spec.resources.validators_dir)."""
    return calendar_in(str(validators_dir()))


def calendar_in(folder: str) -> Mapping[str, Rule]:
    """The usable rules of ``folder``/deadlines.toml (read once per folder)."""
    return _folder_calendar(folder)[0]


def calendar_problems(folder: str) -> Mapping[str, str]:
    """Return id -> the sentence saying why its rule in ``folder``/deadlines.toml cannot be used;
    "" -> why the file as a whole cannot be read. A bad rule costs only its own return."""
    return _folder_calendar(folder)[1]


@lru_cache(maxsize=None)
def _folder_calendar(folder: str) -> tuple[Mapping[str, Rule], Mapping[str, str]]:
    file = Path(folder) / DEADLINES_FILE
    try:
        data = _read_toml(file)
    except DeadlineError as exc:
        return MappingProxyType({}), MappingProxyType({"": str(exc)})
    rules, problems = {}, {}
    for rid, body in data.items():
        try:
            rules[rid] = _parse_rule(body, rid, file.name)
        except DeadlineError as exc:
            problems[rid] = str(exc)
    return MappingProxyType(rules), MappingProxyType(problems)


def _load_file(file: Path) -> Mapping[str, Rule]:
    """A user's deadline file (--deadlines): every rule must be right."""
    data = _read_toml(file)
    return MappingProxyType({rid: _parse_rule(body, rid, file.name) for rid, body in data.items()})


def _read_toml(file: Path) -> dict[str, Any]:
    try:  # a small regular file only: a pipe, a device or a huge file is refused (spec.small_files)
        return load_toml_file(file)
    except OSError as exc:
        raise DeadlineError(f"The deadline file {file} cannot be read ({exc.strerror}).") from None
    except SmallFileError as exc:
        raise DeadlineError(f"{file.name}: {exc}") from None


def _parse_rule(body: Any, key: str, file: str, *, fallback_allowed: bool = True) -> Rule:
    def fail(sub: str, problem: str) -> DeadlineError:
        return DeadlineError(f"{file}: key '{key}{sub}' {problem}.")

    if not isinstance(body, dict):
        raise fail("", "must be a table holding one deadline rule")
    if "no_deadline" in body and fallback_allowed:
        return _no_deadline_rule(body, fail)
    kind = body.get("kind")
    kinds = KINDS if fallback_allowed else tuple(_NUMBER_PARAM)
    if kind not in kinds:
        found = "is missing" if kind is None else f"is '{kind}'"
        raise fail(".kind", f"{found}: use one of {', '.join(kinds)}")
    allowed = {"kind", "time", "source", "guidance"} | (
        {"dates", "fallback"} if kind == "table" else {_NUMBER_PARAM[kind][0]})
    extra = sorted(set(body) - allowed)
    if extra:
        raise fail(f".{extra[0]}", f"is not used by a {kind} rule, which takes {', '.join(sorted(allowed))}")
    time = _parse_time(body.get("time", _DEFAULT_TIME))
    if time is None:
        raise fail(".time", f"is '{body['time']}': give a time of day as \"HH:MM\", for example \"17:00\"")
    source = body.get("source", "")
    if not isinstance(source, str):
        raise fail(".source", "must be text")
    guidance = body.get("guidance", "")
    if not isinstance(guidance, str):
        raise fail(".guidance", "must be text")
    if kind != "table":
        name, low, high = _NUMBER_PARAM[kind]
        number = body.get(name)
        if type(number) is not int or not low <= number <= high:
            found = "is missing" if number is None else f"is {number!r}"
            raise fail(f".{name}", f"{found}: give a whole number from {low} to {high}")
        return Rule(kind=kind, time=time, number=number, source=source, guidance=guidance)
    dates = body.get("dates", {})
    if not isinstance(dates, dict):
        raise fail(".dates", "must be a table of period = \"YYYY-MM-DD\"")
    parsed = {}
    for period, value in dates.items():
        parsed[period] = _parse_date(value)
        if parsed[period] is None:
            raise fail(f".dates.{period}", f"is '{value}': give a date as \"YYYY-MM-DD\"")
    fallback = None
    if "fallback" in body:
        fallback = _parse_rule(body["fallback"], f"{key}.fallback", file, fallback_allowed=False)
    return Rule(kind=kind, time=time, dates=MappingProxyType(parsed), fallback=fallback, source=source,
                guidance=guidance)


def _no_deadline_rule(body: dict, fail) -> Rule:
    """``no_deadline = true`` with a ``reason``: said explicitly, so it is never mistaken for a forgotten rule."""
    if body["no_deadline"] is not True:
        raise fail(".no_deadline", "must be true (or leave it out and give a deadline rule)")
    extra = sorted(set(body) - {"no_deadline", "reason", "guidance"})
    if extra:
        raise fail(f".{extra[0]}", "is not used by a no_deadline rule, which takes no_deadline, reason and guidance")
    reason = body.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise fail(".reason", "is missing: say why the return has no deadline (the guidance behind it)")
    guidance = body.get("guidance", "")
    if not isinstance(guidance, str):
        raise fail(".guidance", "must be text")
    return Rule(kind=NO_DEADLINE, source=reason.strip(), guidance=guidance)


def _parse_time(value: Any) -> dt.time | None:
    if isinstance(value, dt.time):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{2}:\d{2}", value):
        try:
            return dt.time.fromisoformat(value)
        except ValueError:
            return None
    return None


def _parse_date(value: Any) -> dt.date | None:
    if type(value) is dt.date:
        return value
    if isinstance(value, str) and re.fullmatch(ISO_DAY, value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"
