"""Working days and reporting deadlines (R9) on the official Chinese calendar.

A working day is a day the State Council's schedule makes a working day: Monday-Friday
unless a public holiday (法定节假日, including the weekdays taken off in a holiday block), plus
the adjusted working weekends (调休上班). Sources, in order:

1. the ``chinesecalendar`` package, for every year it knows (its release carries the
   State Council's notices up to a year);
2. ``parameters/holidays/YEAR.yaml``, which the user writes from the State Council's notice
   for a year the package does not know yet (format: ``parameters/holidays/README.md``);
3. neither: :class:`~dsr_analysis.errors.CalendarError` naming the year and the file to write.
   The calendar never falls back to plain weekends - that would silently put deadlines on
   holidays.

Deadlines (R9, numbers from ``policy.reporting``):

- statistics table (统计表): due on the N-th working day after the quarter's last day;
- quarterly summary (工作总结): within the last N working days before the quarter ends, i.e. the
  window opens on the N-th last working day of the quarter and closes on its last working day;
- results (抽查结果): published monthly, and each within N working days of the check.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


from .config import read_regular, read_yaml
from .errors import CalendarError
from .i18n import _
from .paths import PARAMETERS_DIR
from .periods import Quarter
from .policy import Policy

#: Directory of user-supplied holiday schedules (``YEAR.yaml``).
HOLIDAYS_DIR = PARAMETERS_DIR / "holidays"

_YAML_KEYS = {"year", "source", "holidays", "working_days"}


@dataclass(frozen=True)
class HolidaySchedule:
    """The State Council's holiday schedule of one year, as written in ``YEAR.yaml``.

    Attributes
    ----------
    year : int
    source : str
        The notice it is copied from (e.g. 国办发明电〔2023〕7号).
    holidays : frozenset of date
        Days off that would otherwise be working days or fall in a holiday block.
    working_days : frozenset of date
        Adjusted working days on a Saturday or Sunday (调休上班).
    path : str
        File it was read from.
    """

    year: int
    source: str
    holidays: frozenset[dt.date]
    working_days: frozenset[dt.date]
    path: str


def _as_date(value: Any, file: str, key: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise CalendarError(_("{file}: key '{key}': {value} is not a date (expected "
                              "YYYY-MM-DD)").format(file=file, key=key, value=repr(value))
                            ) from None


def load_holiday_file(path: str | Path) -> HolidaySchedule:
    """Read and check one ``YEAR.yaml`` holiday schedule.

    ``holidays`` is a list of dates or ``{name, from, to}`` ranges (inclusive);
    ``working_days`` a list of dates. Every date must fall in the file's year, adjusted
    working days must be Saturdays or Sundays, and no day may be both.
    """
    path = Path(path)
    file = str(path)
    raw = read_regular(path, _("holiday schedule"), CalendarError)
    data = read_yaml(raw, file, CalendarError)  # strict: duplicate keys, bounded nesting
    if not isinstance(data, dict):
        raise CalendarError(_("{file}: expected a mapping with keys {keys}").format(
            file=file, keys=", ".join(sorted(_YAML_KEYS))))
    unknown = sorted(set(data) - _YAML_KEYS)
    if unknown:
        raise CalendarError(_("{file}: unknown key '{key}' (allowed: {allowed})").format(
            file=file, key=unknown[0], allowed=", ".join(sorted(_YAML_KEYS))))
    missing = sorted(_YAML_KEYS - set(data))
    if missing:
        raise CalendarError(_("{file}: missing key '{key}'").format(file=file, key=missing[0]))
    year = data["year"]
    if not isinstance(year, int) or isinstance(year, bool):
        raise CalendarError(_("{file}: key 'year': expected a year, got {value}").format(
            file=file, value=repr(year)))
    if path.stem.isdigit() and int(path.stem) != year:
        raise CalendarError(_("{file}: key 'year': {year} does not match the file name "
                              "{name}").format(file=file, year=year, name=path.name))
    holidays: set[dt.date] = set()
    for i, entry in enumerate(data["holidays"] or []):
        key = f"holidays[{i}]"
        if isinstance(entry, dict):
            extra = sorted(set(entry) - {"name", "from", "to"})
            if extra:
                raise CalendarError(_("{file}: unknown key '{key}' (allowed: {allowed})").format(
                    file=file, key=f"{key}.{extra[0]}", allowed="name, from, to"))
            if "from" not in entry or "to" not in entry:
                raise CalendarError(_("{file}: key '{key}': a range needs 'from' and 'to'").format(
                    file=file, key=key))
            start = _as_date(entry["from"], file, f"{key}.from")
            end = _as_date(entry["to"], file, f"{key}.to")
            if end < start:
                raise CalendarError(_("{file}: key '{key}': 'to' {end} is before 'from' "
                                      "{start}").format(file=file, key=key, end=end, start=start))
            days = [start + dt.timedelta(days=k) for k in range((end - start).days + 1)]
        else:
            days = [_as_date(entry, file, key)]
        for d in days:
            if d.year != year:
                raise CalendarError(_("{file}: key '{key}': {day} is not in {year}").format(
                    file=file, key=key, day=d, year=year))
        holidays.update(days)
    working: set[dt.date] = set()
    for i, entry in enumerate(data["working_days"] or []):
        key = f"working_days[{i}]"
        d = _as_date(entry, file, key)
        if d.year != year:
            raise CalendarError(_("{file}: key '{key}': {day} is not in {year}").format(
                file=file, key=key, day=d, year=year))
        if d.weekday() < 5:
            raise CalendarError(_("{file}: key '{key}': {day} is a weekday; adjusted working "
                                  "days (调休上班) are Saturdays or Sundays").format(
                                      file=file, key=key, day=d))
        if d in holidays:
            raise CalendarError(_("{file}: key '{key}': {day} is also listed as a holiday").format(
                file=file, key=key, day=d))
        working.add(d)
    return HolidaySchedule(year, str(data["source"]), frozenset(holidays), frozenset(working), file)


def _chinesecalendar_years() -> tuple[int, int]:
    from chinese_calendar import constants

    years = [d.year for d in constants.holidays]
    return min(years), max(years)


@lru_cache(maxsize=8)
def _year_mask_cached(year: int, holidays_dir: str) -> tuple[np.ndarray, str]:
    days = pd.date_range(f"{year}-01-01", f"{year}-12-31", freq="D")
    lo, hi = _chinesecalendar_years()
    if lo <= year <= hi:
        import chinese_calendar

        mask = np.array([chinese_calendar.is_workday(d.date()) for d in days], dtype=bool)
        return mask, f"chinesecalendar {chinese_calendar.__version__}"
    path = Path(holidays_dir) / f"{year}.yaml"
    if not path.exists():
        raise CalendarError(_(
            "no official holiday schedule for {year}: the chinesecalendar package knows "
            "{first}-{last} only, and {path} does not exist. Write the State Council's holidays "
            "and adjusted working days for {year} into {path} (format: {readme}); working days "
            "are never guessed from weekends alone.").format(
                year=year, first=lo, last=hi, path=path,
                readme=Path(holidays_dir) / "README.md"))
    schedule = load_holiday_file(path)
    weekday = np.array([d.weekday() < 5 for d in days], dtype=bool)
    dates = [d.date() for d in days]
    off = np.array([d in schedule.holidays for d in dates], dtype=bool)
    on = np.array([d in schedule.working_days for d in dates], dtype=bool)
    return (weekday & ~off) | on, f"{path} ({schedule.source})"


class WorkCalendar:
    """Working-day arithmetic on the official calendar.

    Parameters
    ----------
    holidays_dir : path, optional
        Where ``YEAR.yaml`` schedules for years ``chinesecalendar`` does not know are looked
        up (default ``parameters/holidays/``).
    """

    def __init__(self, holidays_dir: str | Path | None = None):
        self.holidays_dir = Path(holidays_dir) if holidays_dir is not None else HOLIDAYS_DIR

    def year_mask(self, year: int) -> np.ndarray:
        """Boolean array over the days of ``year`` (1 Jan first): True = working day."""
        return _year_mask_cached(int(year), str(self.holidays_dir))[0]

    def source(self, year: int) -> str:
        """Where the schedule of ``year`` comes from."""
        return _year_mask_cached(int(year), str(self.holidays_dir))[1]

    def is_working_day(self, day: dt.date) -> bool:
        day = _to_date(day)
        return bool(self.year_mask(day.year)[day.timetuple().tm_yday - 1])

    def add_working_days(self, day: dt.date, n: int) -> dt.date:
        """The n-th working day after ``day`` (``day`` itself not counted; n = 0 -> ``day``)."""
        day = _to_date(day)
        if n < 0:
            raise ValueError("n must be >= 0")
        while n > 0:
            day += dt.timedelta(days=1)
            if self.is_working_day(day):
                n -= 1
        return day

    def nth_last_working_day(self, day: dt.date, n: int) -> dt.date:
        """The n-th working day counted backwards from ``day`` inclusive (n = 1: the last
        working day on or before ``day``)."""
        day = _to_date(day)
        if n < 1:
            raise ValueError("n must be >= 1")
        while True:
            if self.is_working_day(day):
                n -= 1
                if n == 0:
                    return day
            day -= dt.timedelta(days=1)

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Number of working days in ``(start, end]`` (a check on a Friday published the next
        Monday took 1 working day); negative when ``end`` is before ``start``."""
        start, end = _to_date(start), _to_date(end)
        if end < start:
            return -self.working_days_between(end, start)
        count = 0
        for year in range(start.year, end.year + 1):
            mask = self.year_mask(year)
            lo = (start - dt.date(year, 1, 1)).days + 1 if year == start.year else 0
            hi = (end - dt.date(year, 1, 1)).days + 1 if year == end.year else len(mask)
            count += int(mask[max(lo, 0):hi].sum())
        return count

    def working_days_in(self, start: dt.date, end: dt.date) -> list[dt.date]:
        """Working days from ``start`` to ``end`` inclusive."""
        start, end = _to_date(start), _to_date(end)
        out = []
        day = start
        while day <= end:
            if self.is_working_day(day):
                out.append(day)
            day += dt.timedelta(days=1)
        return out


def _to_date(value: Any) -> dt.date:
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


# --------------------------------------------------------------------------------------
# R9 deadlines
# --------------------------------------------------------------------------------------
def statistics_due(quarter: str | Quarter, policy: Policy, calendar: WorkCalendar | None = None
                   ) -> dt.date:
    """Last day the quarter's statistics table (统计表) may be delivered: the N-th working day
    after the quarter ends (N = ``policy.reporting.statistics_working_days_after_quarter_end``)."""
    cal = calendar or WorkCalendar()
    q = Quarter.parse(quarter)
    return cal.add_working_days(q.end, policy.reporting.statistics_working_days_after_quarter_end)


def summary_window(quarter: str | Quarter, policy: Policy, calendar: WorkCalendar | None = None
                   ) -> tuple[dt.date, dt.date]:
    """(opens, due) of the quarterly summary (工作总结): the last N working days of the quarter
    (N = ``policy.reporting.summary_working_days_before_quarter_end``, at least 1)."""
    cal = calendar or WorkCalendar()
    q = Quarter.parse(quarter)
    n = max(1, policy.reporting.summary_working_days_before_quarter_end)
    return cal.nth_last_working_day(q.end, n), cal.nth_last_working_day(q.end, 1)


def result_due(date_checked: dt.date, policy: Policy, calendar: WorkCalendar | None = None
               ) -> dt.date:
    """Last day a result may be published: N working days after the check
    (N = ``policy.reporting.results_within_working_days``)."""
    cal = calendar or WorkCalendar()
    return cal.add_working_days(date_checked, policy.reporting.results_within_working_days)


def reporting_deadlines(quarter: str | Quarter, policy: Policy,
                        calendar: WorkCalendar | None = None) -> pd.DataFrame:
    """The quarter's R9 calendar as a table (report, report_zh, opens, due, rule, basis)."""
    cal = calendar or WorkCalendar()
    q = Quarter.parse(quarter)
    r = policy.reporting
    opens, due = summary_window(q, policy, cal)
    rows = [
        {"report": "summary", "report_zh": "季度工作总结", "opens": opens, "due": due,
         "rule": r.rule,
         "basis": f"季度结束前{r.summary_working_days_before_quarter_end}个工作日内"},
        {"report": "statistics", "report_zh": "季度统计表", "opens": cal.add_working_days(q.end, 1),
         "due": statistics_due(q, policy, cal), "rule": r.rule,
         "basis": f"季度结束后{r.statistics_working_days_after_quarter_end}个工作日内"},
    ]
    for month in q.months:
        first = dt.date(q.year, month, 1)
        last = (pd.Timestamp(first) + pd.offsets.MonthEnd(0)).date()
        rows.append({"report": f"notice-{q.year}-{month:02d}", "report_zh": f"{month}月抽查结果公示",
                     "opens": first, "due": cal.nth_last_working_day(last, 1), "rule": r.rule,
                     "basis": f"每月公开；每项结果在检查后{r.results_within_working_days}个工作日内公开"})
    return pd.DataFrame(rows)
