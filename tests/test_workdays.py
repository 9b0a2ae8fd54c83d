"""Reminders and overdue days on the PRC working-day calendar (chinese_calendar), with 调休."""

from __future__ import annotations

from datetime import date, timedelta

from nianbao.workdays import WorkCalendar, calendar_note, covers, zh_date

CAL = WorkCalendar()
D = date.fromisoformat


def test_the_2025_spring_festival_week():
    # holiday 28 Jan – 4 Feb 2025; Sunday 26 Jan and Saturday 8 Feb are working days (调休)
    assert [d.day for d in map(D, ["2025-01-28", "2025-01-31", "2025-02-04"]) if CAL.is_workday(d)] == []
    assert CAL.is_workday(D("2025-01-26")) and CAL.is_workday(D("2025-02-08"))
    assert not CAL.is_workday(D("2025-01-25")) and not CAL.is_workday(D("2025-02-09"))
    assert CAL.holiday_name(D("2025-01-31")) == "春节" and CAL.holiday_name(D("2025-01-25")) is None


def test_reminders_due_on_a_day_off_go_out_on_the_working_day_before():
    deadline = D("2025-01-31")  # a Friday inside the holiday
    assert CAL.reminder_days(deadline, [14, 7, 3, 1, 0]) == {
        D("2025-01-17"): 14, D("2025-01-24"): 7, D("2025-01-27"): 4}  # 3, 1, 0 → Monday 27th, once
    assert CAL.reminder_days(deadline, [5]) == {D("2025-01-26"): 5}  # the 调休 Sunday is a working day
    later = D("2025-02-10")
    assert CAL.reminder_days(later, [7, 2]) == {D("2025-01-27"): 14, D("2025-02-08"): 2}  # 3 Feb → 27 Jan; Sat 8th
    days = CAL.reminder_days(deadline, range(0, 31))
    assert D("2024-12-31") in days  # 1 January is 元旦: the reminder due then goes out the day before
    assert all(CAL.is_workday(day) for day in days)  # never on a weekend or a holiday


def test_overdue_days_are_counted_in_working_days():
    deadline = D("2025-01-31")
    assert CAL.overdue_days(deadline, D("2025-02-14"), 3) == [D("2025-02-05"), D("2025-02-08"), D("2025-02-12")]
    assert CAL.workdays_after(deadline, D("2025-02-04")) == 0  # still the holiday
    assert CAL.workdays_after(deadline, D("2025-02-08")) == 4
    assert CAL.overdue_days(deadline, D("2025-02-04"), 3) == []


def test_dates_say_their_weekday():
    assert zh_date(D("2025-01-31"), weekday=True) == "2025年1月31日（星期五）"
    assert zh_date(D("2027-01-31"), weekday=True) == "2027年1月31日（星期日）"
    assert zh_date(D("2025-02-08")) == "2025年2月8日"


def test_a_year_the_package_does_not_know_falls_back_to_monday_to_friday():
    year = next(y for y in range(date.today().year, date.today().year + 10) if not covers(y))
    jan = [date(year, 1, d) for d in range(1, 32)]
    assert [d for d in jan if CAL.is_workday(d)] == [d for d in jan if d.weekday() < 5]
    assert "尚未收录" in calendar_note(CAL, date(year, 1, 31), [14, 7]) and str(year) in calendar_note(
        CAL, date(year, 1, 31), [14, 7])
    assert calendar_note(CAL, D("2025-01-31"), [14, 7, 3, 1, 0]) is None
    # the county adds the published arrangement itself until the package is upgraded
    first_monday = next(d for d in jan if d.weekday() == 0)
    saturday = first_monday + timedelta(days=5)
    own = WorkCalendar.of(holidays=[first_monday], workdays=[saturday])
    assert not own.is_workday(first_monday) and own.is_workday(saturday)
    assert own.on_or_before(first_monday) == first_monday - timedelta(days=3)  # the Friday before
