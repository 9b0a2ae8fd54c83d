"""The PRC working-day calendar — public holidays and their 调休 (a Saturday or Sunday made a
working day) — from the maintained `chinese_calendar` package, not a hand-typed list.

Reminders and overdue notices go out on working days only: a reminder due on a holiday or a
weekend goes out on the working day before; overdue days are counted in working days. The
package carries the State Council's arrangement up to the latest year it has published; for a
year it does not know yet, Monday to Friday are the working days (`covers()` says so, and the
county can add the published days itself with NIANBAO_EXTRA_HOLIDAYS / NIANBAO_EXTRA_WORKDAYS
until the package is upgraded)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache

import chinese_calendar

WEEKDAYS = "一二三四五六日"
HOLIDAY_NAMES = {
    "New Year's Day": "元旦", "Spring Festival": "春节", "Tomb-sweeping Day": "清明节", "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节", "National Day": "国庆节", "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}


def zh_weekday(d: date) -> str:
    return "星期" + WEEKDAYS[d.weekday()]


def zh_date(d: date, weekday: bool = False) -> str:
    text = f"{d.year}年{d.month}月{d.day}日"
    return f"{text}（{zh_weekday(d)}）" if weekday else text


@lru_cache(maxsize=64)
def covers(year: int) -> bool:
    """Whether the package knows that year's holiday arrangement."""
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


@dataclass(frozen=True)
class WorkCalendar:
    extra_holidays: frozenset[date] = field(default_factory=frozenset)
    extra_workdays: frozenset[date] = field(default_factory=frozenset)

    @classmethod
    def of(cls, holidays: Iterable[date] = (), workdays: Iterable[date] = ()) -> WorkCalendar:
        return cls(frozenset(holidays), frozenset(workdays))

    def covers(self, year: int) -> bool:
        return covers(year)

    def is_workday(self, d: date) -> bool:
        if d in self.extra_workdays:
            return True
        if d in self.extra_holidays:
            return False
        if covers(d.year):
            return chinese_calendar.is_workday(d)
        return d.weekday() < 5

    def holiday_name(self, d: date) -> str | None:
        """The public holiday d falls in (春节 …), None on a weekend or a working day."""
        if not covers(d.year) or self.is_workday(d):
            return None
        _, name = chinese_calendar.get_holiday_detail(d)
        return HOLIDAY_NAMES.get(name, name) if name else None

    def on_or_before(self, d: date) -> date:
        """d if it is a working day, else the working day before it."""
        while not self.is_workday(d):
            d -= timedelta(days=1)
        return d

    def workdays_after(self, start: date, end: date) -> int:
        """Working days in (start, end]."""
        n, d = 0, start + timedelta(days=1)
        while d <= end:
            n += self.is_workday(d)
            d += timedelta(days=1)
        return n

    def reminder_days(self, deadline: date, offsets: Iterable[int]) -> dict[date, int]:
        """The day each reminder goes out → calendar days from that day to the deadline. A reminder
        due on a day off goes out on the working day before; reminders that land on the same day
        are one reminder."""
        out: dict[date, int] = {}
        for k in offsets:
            day = self.on_or_before(deadline - timedelta(days=k))
            out[day] = (deadline - day).days
        return dict(sorted(out.items()))

    def overdue_days(self, deadline: date, until: date, every: int) -> list[date]:
        """Working days after the deadline (up to `until`) on which overdue notices go out: the
        1st, (1+every)th, (1+2·every)th … working day after it."""
        out, n, d = [], 0, deadline + timedelta(days=1)
        while d <= until:
            if self.is_workday(d):
                n += 1
                if (n - 1) % every == 0:
                    out.append(d)
            d += timedelta(days=1)
        return out


def calendar_note(cal: WorkCalendar, deadline: date, offsets: list[int]) -> str | None:
    """Said when a cycle opens whose reminder days fall in a year the holiday package lacks."""
    years = sorted({(deadline - timedelta(days=k)).year for k in [*offsets, 0]} | {deadline.year})
    missing = [y for y in years if not cal.covers(y)]
    if not missing:
        return None
    return (f"节假日数据包（chinesecalendar）尚未收录{'、'.join(map(str, missing))}年的放假安排：这些年份暂按周一至周五"
            "计算工作日。国务院办公厅公布安排后，请升级 chinesecalendar，或用 NIANBAO_EXTRA_HOLIDAYS / "
            "NIANBAO_EXTRA_WORKDAYS 写明放假和调休上班的日期。")
