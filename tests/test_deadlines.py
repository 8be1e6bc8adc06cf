"""Deadlines and lateness from the deadline calendar (kpd_returns.spec.deadlines, validators/deadlines.toml).

Guidance: AtW MHSS chapter 7 (/work/shared/guidance/atw-mhss-ch7-performance-and-mi.txt)
paragraphs 7.24, 7.26 and 7.32, and /work/shared/FIELD-NOTES.md.
"""

import datetime as dt

import pytest

from kpd_returns.spec.deadlines import DeadlineError, assess, deadline_for, load_deadlines
from kpd_returns.spec.workdays import add_working_days

D = dt.date.fromisoformat
T = dt.datetime.fromisoformat


def write(tmp_path, text, name="my-deadlines.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# -- MMIR: 3rd working day after the month ------------------------------------

def test_mmir_deadline_october_2026():
    """AtW 7.24 / FIELD-NOTES (earlier guidance: 3rd working day of the month): October 2026
    ends Sat 31 October; Mon 2 = 1, Tue 3 = 2, Wed 4 November 2026 = 3."""
    d = deadline_for("mmir", "2026-10", D("2026-10-31"))
    assert d.due == T("2026-11-04 23:59")
    assert d.rule == "3rd working day after the period ends, 23:59"
    assert d.due_text == "Wed 4 November 2026 23:59"


def test_mmir_late_by_twelve_working_days():
    """AtW 7.24: due Wed 4 November 2026; sent Fri 20 November: 5-6, 9-13, 16-20 November = 12."""
    late = assess("mmir", "2026-10", D("2026-10-31"), D("2026-11-20"))
    assert late.late_working_days == 12
    assert late.on_time is False
    assert late.describe() == "late by 12 working days (deadline Wed 4 November 2026 23:59)"
    assert assess("mmir", "2026-10", D("2026-10-31"), T("2026-11-20 09:15")).late_working_days == 12


def test_mmir_on_time_on_the_due_date():
    """AtW 7.24: a return sent on Wed 4 November 2026 meets the 3rd-working-day deadline;
    a date-only submission on the due date is on time (module docstring)."""
    for submitted in (D("2026-11-04"), T("2026-11-04 23:59"), T("2026-11-02 08:00")):
        result = assess("mmir", "2026-10", D("2026-10-31"), submitted)
        assert result.on_time is True
        assert result.late_working_days == 0
        assert result.describe() == "on time (deadline Wed 4 November 2026 23:59)"


def test_mmir_one_minute_late_and_day_after():
    """Module docstring: any late submission is late by at least 1 working day."""
    late = assess("mmir", "2026-10", D("2026-10-31"), T("2026-11-05 00:00"))
    assert late.late_working_days == 1
    assert late.describe() == "late by 1 working day (deadline Wed 4 November 2026 23:59)"
    assert assess("mmir", "2026-10", D("2026-10-31"), D("2026-11-05")).late_working_days == 1


def test_mmir_december_2026_across_christmas_and_new_year():
    """AtW 7.24 with gov.uk 2027 bank holidays: December 2026 ends Thu 31 December; Fri 1
    January 2027 is New Year's Day, so Mon 4 = 1, Tue 5 = 2, Wed 6 January = 3 in England
    and Wales and in Northern Ireland. In Scotland 2 January 2027 is a Saturday and gov.uk
    gives Mon 4 January 2027 as its substitute day (the holidays package agrees), so
    Tue 5 = 1, Wed 6 = 2, Thu 7 January = 3."""
    end = D("2026-12-31")
    assert deadline_for("mmir", "2026-12", end).due == T("2027-01-06 23:59")
    assert deadline_for("mmir", "2026-12", end, region="northern-ireland").due == T("2027-01-06 23:59")
    assert deadline_for("mmir", "2026-12", end, region="scotland").due == T("2027-01-07 23:59")
    on_6th = assess("mmir", "2026-12", end, D("2027-01-07"), region="england-and-wales")
    assert on_6th.late_working_days == 1
    assert assess("mmir", "2026-12", end, D("2027-01-07"), region="scotland").on_time is True


# -- day_of_following_month (AtW 7.32) -----------------------------------------

def test_fifteenth_on_a_saturday_moves_to_monday():
    """AtW 7.32: by 5pm on the 15th of the following month, moved to the next Working Day.
    For July 2026 the 15th is Sat 15 August 2026, so Mon 17 August 2026 17:00."""
    d = deadline_for("insight", "2026-07", D("2026-07-31"))
    assert d.due == T("2026-08-17 17:00")
    assert d.rule == "15th of the following month (or the next working day), 17:00"


def test_fifteenth_on_a_sunday_moves_to_monday():
    """AtW 7.32: for February 2026 the 15th is Sun 15 March 2026, so Mon 16 March 2026 17:00."""
    assert deadline_for("insight", "2026-02", D("2026-02-28")).due == T("2026-03-16 17:00")


def test_fifteenth_on_a_working_day_and_across_the_year_end():
    """AtW 7.32: for December 2026 the 15th of the following month is Fri 15 January 2027."""
    assert deadline_for("insight", "2026-12", D("2026-12-31")).due == T("2027-01-15 17:00")


def test_one_minute_after_five_is_late():
    """AtW 7.32 "by 5pm": 17:00 on Mon 17 August 2026 is on time, 17:01 is late by 1 working day."""
    end = D("2026-07-31")
    assert assess("insight", "2026-07", end, T("2026-08-17 17:00")).on_time is True
    late = assess("insight", "2026-07", end, T("2026-08-17 17:01"))
    assert late.late_working_days == 1
    assert late.describe() == "late by 1 working day (deadline Mon 17 August 2026 17:00)"
    # A date-only submission on the due date has no time, so it counts as on time.
    assert assess("insight", "2026-07", end, D("2026-08-17")).on_time is True


def test_time_zone_aware_submission_is_compared_in_uk_time():
    """AtW 7.32 "by 5pm" is UK time: 16:30 UTC on 17 August 2026 is 17:30 BST, late."""
    utc = dt.datetime(2026, 8, 17, 16, 30, tzinfo=dt.timezone.utc)
    assert assess("insight", "2026-07", D("2026-07-31"), utc).late_working_days == 1
    utc = dt.datetime(2026, 8, 17, 15, 30, tzinfo=dt.timezone.utc)
    assert assess("insight", "2026-07", D("2026-07-31"), utc).on_time is True


# -- calendar_days_after_period (AtW 7.26) --------------------------------------

def test_atw_yearly_seven_calendar_days():
    """AtW 7.26: yearly MI within seven calendar days after the contract year ends
    (Wed 31 March 2027 -> Wed 7 April 2027)."""
    d = deadline_for("atw_yearly", "2026-27", D("2027-03-31"))
    assert d.due == T("2027-04-07 23:59")
    assert d.rule == "7 calendar days after the period ends, 23:59"
    assert d.source == "AtW 7.26"


# -- KPD: table with a fallback ---------------------------------------------------

KPD_QUARTER_ENDS = {
    "2025-26 Q1": "2025-06-30", "2025-26 Q2": "2025-09-30", "2025-26 Q3": "2025-12-31",
    "2025-26 Q4": "2026-03-31", "2026-27 Q1": "2026-06-30", "2026-27 Q2": "2026-09-30",
    "2026-27 Q3": "2026-12-31", "2026-27 Q4": "2027-03-31",
}


def test_kpd_table_lookup():
    """FIELD-NOTES: the KPD timetable (annex 9) is not public; the packaged table's dates
    are the 15th working day after each quarter ends (England and Wales)."""
    d = deadline_for("kpd", "2026-27 Q1", D("2026-06-30"))
    assert d.due == T("2026-07-21 23:59")
    assert d.rule == "the date set for 2026-27 Q1 in the deadline table, 23:59"
    # Easter 2026 (Fri 3 and Mon 6 April) falls in the 15 working days after Q4 2025-26.
    assert deadline_for("kpd", "2025-26 Q4", D("2026-03-31")).due == T("2026-04-23 23:59")


@pytest.mark.parametrize("period,end", KPD_QUARTER_ENDS.items())
def test_kpd_table_dates_are_fifteen_working_days(period, end):
    """validators/deadlines.toml comment: each date is add_working_days(quarter end, 15)."""
    assert deadline_for("kpd", period, D(end)).due.date() == add_working_days(D(end), 15)


def test_kpd_fallback_for_a_quarter_not_in_the_table():
    """validators/deadlines.toml: fallback nth_working_day_after_period n = 15.
    2027-28 Q1 ends Wed 30 June 2027: 1-2 July = 2, 5-9 = 7, 12-16 = 12, 19-21 = 15."""
    d = deadline_for("kpd", "2027-28 Q1", D("2027-06-30"))
    assert d.due == T("2027-07-21 23:59")
    assert d.rule == "15th working day after the period ends, 23:59"


def test_no_rule_gives_none():
    """Module docstring: no rule for a return id (or a table without the period and without
    a fallback) means no deadline is known."""
    assert deadline_for("other", "2026-10", D("2026-10-31")) is None
    assert assess("other", "2026-10", D("2026-10-31"), D("2026-11-20")) is None


def test_table_without_fallback(tmp_path):
    """validators/deadlines.toml: a table's fallback is optional."""
    path = write(tmp_path, '[kpd]\nkind = "table"\ntime = "17:00"\ndates = { "2026-27 Q1" = 2026-07-24 }\n')
    cal = load_deadlines(path)
    assert deadline_for("kpd", "2026-27 Q1", D("2026-06-30"), calendar=cal).due == T("2026-07-24 17:00")
    assert deadline_for("kpd", "2026-27 Q2", D("2026-09-30"), calendar=cal) is None


# -- user files --------------------------------------------------------------------

def test_user_file_overrides_the_packaged_rule(tmp_path):
    """Module docstring: a return id in the user's file replaces the packaged rule; others stay.
    A contract whose Reporting Date (AtW 7.24) is the 5th working day: October 2026 -> Fri 6 November."""
    path = write(tmp_path, '[mmir]\nkind = "nth_working_day_after_period"\nn = 5\ntime = "12:00"\n')
    cal = load_deadlines(path)
    assert deadline_for("mmir", "2026-10", D("2026-10-31"), calendar=cal).due == T("2026-11-06 12:00")
    assert deadline_for("mmir", "2026-10", D("2026-10-31"), calendar=str(path)).due == T("2026-11-06 12:00")
    assert deadline_for("kpd", "2026-27 Q1", D("2026-06-30"), calendar=cal).due == T("2026-07-21 23:59")
    # The packaged calendar is unchanged.
    assert deadline_for("mmir", "2026-10", D("2026-10-31")).due == T("2026-11-04 23:59")


def test_user_file_day_past_month_end(tmp_path):
    """Module docstring of validators/deadlines.toml: a day past the end of a short month
    means its last day (31st of February 2027 -> Sun 28 February -> Mon 1 March 2027)."""
    path = write(tmp_path, '[x]\nkind = "day_of_following_month"\nday = 31\n')
    d = deadline_for("x", "2027-01", D("2027-01-31"), calendar=path)
    assert d.due == T("2027-03-01 23:59")
    assert d.rule == "31st of the following month (or the next working day), 23:59"


@pytest.mark.parametrize("text,message", [
    ('[mmir]\nkind = "nth_working_days"\nn = 3\n',
     "my-deadlines.toml: key 'mmir.kind' is 'nth_working_days': use one of nth_working_day_after_period, "
     "day_of_following_month, calendar_days_after_period, table."),
    ('[mmir]\nn = 3\n',
     "my-deadlines.toml: key 'mmir.kind' is missing: use one of nth_working_day_after_period, "
     "day_of_following_month, calendar_days_after_period, table."),
    ('[mmir]\nkind = "nth_working_day_after_period"\n',
     "my-deadlines.toml: key 'mmir.n' is missing: give a whole number from 1 to 366."),
    ('[mmir]\nkind = "nth_working_day_after_period"\nn = "3"\n',
     "my-deadlines.toml: key 'mmir.n' is '3': give a whole number from 1 to 366."),
    ('[mmir]\nkind = "nth_working_day_after_period"\nn = 3\ndays = 7\n',
     "my-deadlines.toml: key 'mmir.days' is not used by a nth_working_day_after_period rule, "
     "which takes guidance, kind, n, source, time."),
    ('[mmir]\nkind = "nth_working_day_after_period"\nn = 3\ntime = "5pm"\n',
     "my-deadlines.toml: key 'mmir.time' is '5pm': give a time of day as \"HH:MM\", for example \"17:00\"."),
    ('[kpd]\nkind = "table"\n[kpd.dates]\n"2026-27 Q1" = "2026-13-40"\n',
     "my-deadlines.toml: key 'kpd.dates.2026-27 Q1' is '2026-13-40': give a date as \"YYYY-MM-DD\"."),
    ('[kpd]\nkind = "table"\n[kpd.fallback]\nkind = "table"\n',
     "my-deadlines.toml: key 'kpd.fallback.kind' is 'table': use one of nth_working_day_after_period, "
     "day_of_following_month, calendar_days_after_period."),
    ('mmir = 3\n',
     "my-deadlines.toml: key 'mmir' must be a table holding one deadline rule."),
])
def test_malformed_file_names_file_and_key(tmp_path, text, message):
    """Module docstring: a malformed deadline file gives one plain sentence naming the file and key."""
    path = write(tmp_path, text)
    with pytest.raises(DeadlineError) as err:
        load_deadlines(path)
    assert str(err.value) == message


def test_not_toml_and_missing_file(tmp_path):
    """Module docstring: an unreadable or invalid file is a DeadlineError naming the file."""
    with pytest.raises(DeadlineError, match=r"^my-deadlines.toml: is not valid TOML"):
        load_deadlines(write(tmp_path, "[mmir\n"))
    missing = tmp_path / "nope.toml"
    with pytest.raises(DeadlineError, match=r"^The deadline file .*nope.toml cannot be read"):
        load_deadlines(missing)


def test_packaged_file_has_the_documented_rules():
    """validators/deadlines.toml: MMIR (AtW 7.24), KPD (FIELD-NOTES), customer insight (AtW 7.32),
    yearly MI (AtW 7.26), JOBS II (the project's default: chapter 6 states no day)."""
    cal = load_deadlines()
    assert sorted(cal) == ["action_plan", "atw_yearly", "insight", "jobs2", "kpd", "mmir"]
    assert (cal["jobs2"].kind, cal["jobs2"].number) == ("nth_working_day_after_period", 10)
    assert (cal["mmir"].kind, cal["mmir"].number) == ("nth_working_day_after_period", 3)
    assert (cal["kpd"].kind, cal["kpd"].fallback.number) == ("table", 15)
    assert sorted(cal["kpd"].dates) == sorted(KPD_QUARTER_ENDS)
    assert (cal["insight"].number, cal["insight"].time) == (15, dt.time(17, 0))
    assert (cal["atw_yearly"].kind, cal["atw_yearly"].number) == ("calendar_days_after_period", 7)
