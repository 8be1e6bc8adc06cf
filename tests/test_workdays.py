"""Working days by UK division (kpd_returns.spec.workdays).

Holiday dates are the gov.uk bank holiday lists as the ``holidays`` package
(vacanza) gives them; see /work/shared/FIELD-NOTES.md, "UK working days".
"""

import datetime as dt

import pytest

from kpd_returns.spec.workdays import (
    add_working_days,
    is_working_day,
    next_working_day_on_or_after,
    working_days_between,
)

D = dt.date.fromisoformat
EW, SCT, NI = "england-and-wales", "scotland", "northern-ireland"


@pytest.mark.parametrize(
    "day", ["2022-06-02", "2022-06-03", "2022-09-19", "2023-05-08", "2020-05-08"])
def test_one_off_bank_holidays_in_england_and_wales(day):
    """FIELD-NOTES "UK working days": Spring bank holiday moved to 2 June and the
    Platinum Jubilee 3 June 2022, the State Funeral 19 September 2022, the
    Coronation 8 May 2023 and the VE Day May Day move to 8 May 2020 (all weekdays)."""
    assert D(day).weekday() < 5
    assert is_working_day(D(day), EW) is False
    assert is_working_day(D(day)) is False  # England and Wales is the default


@pytest.mark.parametrize("day", ["2026-04-06", "2026-08-31"])
def test_easter_monday_and_late_august_holiday_in_england(day):
    """FIELD-NOTES: without subdiv "ENG" holidays omits Easter Monday and the late
    August holiday; gov.uk lists Mon 6 April and Mon 31 August 2026 for England and Wales."""
    assert is_working_day(D(day), EW) is False
    assert is_working_day(D(day) + dt.timedelta(days=1), EW) is True


@pytest.mark.parametrize("day", ["2021-12-27", "2021-12-28", "2022-12-26", "2022-12-27"])
def test_christmas_substitute_days(day):
    """gov.uk: Christmas Day and Boxing Day 2021 fell on a weekend, substitutes Mon 27
    and Tue 28 December 2021; Christmas Day 2022 was a Sunday, so Boxing Day Mon 26
    and the Christmas substitute Tue 27 December 2022. The same in all three divisions."""
    for region in (EW, SCT, NI):
        assert is_working_day(D(day), region) is False


@pytest.mark.parametrize("day", ["2026-01-02", "2026-11-30", "2026-06-15"])
def test_scotland_only_holidays(day):
    """gov.uk Scotland: 2 January (Fri 2 January 2026) and St Andrew's Day (Mon 30
    November 2026); FIELD-NOTES: Scotland also has a one-off on Mon 15 June 2026
    (the library names it for Scotland's FIFA World Cup match). Working days in England."""
    assert is_working_day(D(day), SCT) is False
    assert is_working_day(D(day), EW) is True


def test_st_andrews_day_substitute_in_scotland():
    """gov.uk Scotland: St Andrew's Day 2025 is Sun 30 November, substitute Mon 1 December 2025."""
    assert is_working_day(D("2025-12-01"), SCT) is False
    assert is_working_day(D("2025-12-01"), EW) is True


@pytest.mark.parametrize("day", ["2026-03-17", "2027-03-17", "2027-07-12", "2026-07-13"])
def test_northern_ireland_holidays(day):
    """gov.uk Northern Ireland: St Patrick's Day 17 March and the Battle of the Boyne
    12 July (Sun 12 July 2026, so substitute Mon 13 July 2026). Working days in England."""
    assert is_working_day(D(day), NI) is False
    assert is_working_day(D(day), EW) is True


def test_weekends_are_not_working_days():
    """Module docstring: a working day is Monday to Friday, not a bank holiday."""
    assert is_working_day(D("2026-11-07")) is False  # Saturday
    assert is_working_day(D("2026-11-08")) is False  # Sunday
    assert is_working_day(D("2026-11-09")) is True  # Monday


def test_add_working_days_across_the_2022_jubilee():
    """FIELD-NOTES one-offs: from Tue 31 May 2022, Wed 1 June = 1, Thu 2 and Fri 3 June
    are bank holidays, Mon 6 June = 2, Tue 7 June = 3."""
    assert add_working_days(D("2022-05-31"), 1) == D("2022-06-01")
    assert add_working_days(D("2022-05-31"), 2) == D("2022-06-06")
    assert add_working_days(D("2022-05-31"), 3) == D("2022-06-07")


def test_add_zero_working_days_returns_the_day_itself():
    """Module docstring: the trigger day is day 0, so n = 0 returns it, working day or not."""
    assert add_working_days(D("2026-10-31"), 0) == D("2026-10-31")
    with pytest.raises(ValueError):
        add_working_days(D("2026-10-31"), -1)


def test_add_working_days_over_new_year_by_region():
    """gov.uk 2027: New Year's Day Fri 1 January everywhere; in Scotland 2 January is a
    Saturday, so its substitute is Mon 4 January 2027. 3rd working day after 31 December 2026."""
    assert add_working_days(D("2026-12-31"), 3, EW) == D("2027-01-06")
    assert add_working_days(D("2026-12-31"), 3, NI) == D("2027-01-06")
    assert add_working_days(D("2026-12-31"), 3, SCT) == D("2027-01-07")


def test_next_working_day_on_or_after():
    """Module docstring: a working day is itself, otherwise the next one. gov.uk 2026:
    Good Friday 3 April and Easter Monday 6 April, so the next working day is Tue 7 April."""
    assert next_working_day_on_or_after(D("2026-11-04")) == D("2026-11-04")
    assert next_working_day_on_or_after(D("2026-04-03")) == D("2026-04-07")
    assert next_working_day_on_or_after(D("2026-01-02"), SCT) == D("2026-01-05")


def test_working_days_between_counts_after_start_up_to_end():
    """Module docstring: (start, end], start is day 0. From Wed 4 to Fri 20 November 2026:
    5-6, 9-13 and 16-20 November = 12; 0 when end is on or before start."""
    assert working_days_between(D("2026-11-04"), D("2026-11-20")) == 12
    assert working_days_between(D("2026-11-04"), D("2026-11-05")) == 1
    assert working_days_between(D("2026-11-06"), D("2026-11-08")) == 0  # Fri to Sun
    assert working_days_between(D("2026-11-04"), D("2026-11-04")) == 0
    assert working_days_between(D("2026-11-20"), D("2026-11-04")) == 0


def test_working_days_between_spans_years():
    """gov.uk England and Wales 2026: 261 weekdays less the 8 bank holidays that fall on
    weekdays (Boxing Day is a Saturday; its substitute Mon 28 December counts) = 253."""
    weekdays = sum(1 for i in range(365) if (D("2026-01-01") + dt.timedelta(days=i)).weekday() < 5)
    # Thu 1 Jan, Fri 3 Apr, Mon 6 Apr, Mon 4 May, Mon 25 May, Mon 31 Aug, Fri 25 Dec, Mon 28 Dec.
    assert working_days_between(D("2025-12-31"), D("2026-12-31")) == weekdays - 8 == 253


def test_unknown_region_is_a_plain_error():
    """Module docstring: the regions are england-and-wales, scotland and northern-ireland."""
    message = "There is no region 'wales': use one of england-and-wales, scotland, northern-ireland."
    with pytest.raises(ValueError, match=message):
        is_working_day(D("2026-11-04"), "wales")
    with pytest.raises(ValueError, match="no region"):
        working_days_between(D("2026-11-04"), D("2026-11-04"), "GB")


def test_the_bank_holiday_cache_file_gives_the_holidays_package_dates(tmp_path, monkeypatch):
    """The on-disk cache (a speed-up) must hold exactly what `holidays` says, subdiv set."""
    import holidays

    from kpd_returns.spec import workdays

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    workdays._bank_holidays.cache_clear()
    try:
        first = workdays._bank_holidays("SCT", 2020)  # computed, then written
        assert list((tmp_path / "kpd-returns").glob("bank-holidays-*-SCT-2020.txt"))
        workdays._bank_holidays.cache_clear()
        second = workdays._bank_holidays("SCT", 2020)  # read back from the file
        direct = set(holidays.country_holidays("GB", subdiv="SCT", years=range(2020, 2030)))
        assert first == second == direct
        assert dt.date(2026, 6, 15) in second and dt.date(2026, 1, 2) in second
    finally:
        workdays._bank_holidays.cache_clear()
