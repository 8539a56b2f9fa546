"""Working days and R9 deadlines against the State Council's published schedules.

Expected dates are worked out by hand from the notices (国办发明电〔2022〕16号 for 2023,
国办发明电〔2023〕7号 for 2024), not from the code under test:
2023 National Day 9/29-10/6 off, Sat 10/7 and Sun 10/8 working;
2024 Spring Festival 2/10-2/17 off, Sun 2/4 and Sun 2/18 working;
2024 National Day 10/1-10/7 off, Sun 9/29 and Sat 10/12 working.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dsr_analysis.errors import CalendarError
from dsr_analysis.paths import PARAMETERS_DIR
from dsr_analysis.workcalendar import (
    WorkCalendar,
    load_holiday_file,
    reporting_deadlines,
    result_due,
    statistics_due,
    summary_window,
)

D = dt.date
cal = WorkCalendar()


@pytest.mark.parametrize("day,working", [
    (D(2023, 9, 28), True),    # Thursday before the Mid-Autumn / National Day block
    (D(2023, 9, 29), False),   # Mid-Autumn Festival (Friday)
    (D(2023, 10, 2), False),
    (D(2023, 10, 6), False),   # last day of the block (Friday)
    (D(2023, 10, 7), True),    # adjusted working Saturday
    (D(2023, 10, 8), True),    # adjusted working Sunday
    (D(2024, 2, 4), True),     # Sunday worked before the Spring Festival
    (D(2024, 2, 12), False),   # Monday inside the Spring Festival
    (D(2024, 2, 18), True),    # Sunday worked after it
    (D(2024, 9, 29), True),    # Sunday worked before National Day
    (D(2024, 10, 7), False),
    (D(2024, 10, 12), True),   # Saturday worked after it
    (D(2024, 10, 13), False),  # an ordinary Sunday
])
def test_official_days(day, working):
    assert cal.is_working_day(day) is working


def test_statistics_due_across_2023_national_day(policy):
    # Q3 ends Sat 9/30 (inside the block); working days after it: Sat 10/7, Sun 10/8, Mon 10/9.
    assert statistics_due("2023Q3", policy, cal) == D(2023, 10, 9)


def test_statistics_due_across_2024_national_day(policy):
    # Q3 ends Mon 9/30; 10/1-10/7 off; 10/8, 10/9, 10/10.
    assert statistics_due("2024Q3", policy, cal) == D(2024, 10, 10)


def test_statistics_due_after_new_year(policy):
    # 2023Q4 ends Sun 12/31; Mon 1/1/2024 is New Year's Day; then 1/2, 1/3, 1/4.
    assert statistics_due("2023Q4", policy, cal) == D(2024, 1, 4)


def test_summary_window_before_2023_national_day(policy):
    # Q3 2023's last working days: 9/29 and 9/30 are off, so 9/26, 9/27, 9/28.
    assert summary_window("2023Q3", policy, cal) == (D(2023, 9, 26), D(2023, 9, 28))


def test_summary_window_uses_adjusted_working_sunday(policy):
    # Q3 2024: Mon 9/30, Sun 9/29 (adjusted working day), Fri 9/27 (Sat 9/28 is off).
    assert summary_window("2024Q3", policy, cal) == (D(2024, 9, 27), D(2024, 9, 30))


def test_result_due_across_2024_spring_festival(policy):
    # Checked Thu 2024-02-01; working days after it: 2/2, Sun 2/4, 2/5..2/9 (5) = 7;
    # 2/10-2/17 off; Sun 2/18 = 8; 2/19..2/23 = 13; 2/26..3/1 = 18; 3/4 = 19; 3/5 = 20.
    assert result_due(D(2024, 2, 1), policy, cal) == D(2024, 3, 5)
    assert policy.reporting.results_within_working_days == 20


def test_result_due_across_2023_spring_festival(policy):
    # 2023 Spring Festival 1/21-1/27 off, Sat 1/28 and Sun 1/29 working. Checked Fri 1/20:
    # 1/28, 1/29, 1/30..2/3 (7), 2/6..2/10 (12), 2/13..2/17 (17), 2/20, 2/21, 2/22 = 20.
    assert result_due(D(2023, 1, 20), policy, cal) == D(2023, 2, 22)


def test_working_days_between(policy):
    assert cal.working_days_between(D(2023, 9, 28), D(2023, 10, 7)) == 1
    assert cal.working_days_between(D(2023, 9, 28), D(2023, 10, 9)) == 3
    assert cal.working_days_between(D(2023, 12, 29), D(2024, 1, 2)) == 1
    assert cal.working_days_between(D(2023, 10, 9), D(2023, 9, 28)) == -3
    assert cal.working_days_between(D(2024, 2, 1), result_due(D(2024, 2, 1), policy, cal)) == 20


def test_deadline_table(policy):
    table = reporting_deadlines("2023Q3", policy, cal)
    assert table["report"].tolist()[:2] == ["summary", "statistics"]
    assert table.loc[1, "due"] == D(2023, 10, 9)
    # The September notice is due on the last working day of September.
    assert table.loc[table["report"] == "notice-2023-09", "due"].item() == D(2023, 9, 28)


def test_example_schedule_agrees_with_chinesecalendar():
    path = PARAMETERS_DIR / "holidays" / "EXAMPLE-2024.yaml"
    schedule = load_holiday_file(path)
    days = pd.date_range("2024-01-01", "2024-12-31").date
    from_file = np.array([(d.weekday() < 5 and d not in schedule.holidays)
                          or d in schedule.working_days for d in days])
    assert (from_file == cal.year_mask(2024)).all()


def test_unknown_year_without_file_is_an_error(tmp_path):
    empty = WorkCalendar(holidays_dir=tmp_path)
    with pytest.raises(CalendarError, match=r"no official holiday schedule for 2031: .*"
                       r"2031\.yaml does not exist.*never guessed from weekends"):
        empty.is_working_day(D(2031, 5, 6))


def _write(directory: Path, year: int, body: str) -> Path:
    path = directory / f"{year}.yaml"
    path.write_text(body, encoding="utf-8")
    return path


def test_unknown_year_from_user_file(tmp_path):
    _write(tmp_path, 2031, """
year: 2031
source: test schedule
holidays:
  - {name: 劳动节, from: 2031-05-01, to: 2031-05-05}
working_days: [2031-04-27]
""")
    c = WorkCalendar(holidays_dir=tmp_path)
    assert not c.is_working_day(D(2031, 5, 2))   # a Friday in the block
    assert c.is_working_day(D(2031, 4, 27))      # a Sunday made a working day
    assert not c.is_working_day(D(2031, 5, 10))  # an ordinary Saturday
    assert c.add_working_days(D(2031, 4, 30), 1) == D(2031, 5, 6)
    assert "test schedule" in c.source(2031)


@pytest.mark.parametrize("body,message", [
    ("year: 2032\nsource: x\nholidays: []\nworking_days: []\nextra: 1\n", r"unknown key 'extra'"),
    ("year: 2032\nsource: x\nholidays: []\n", r"missing key 'working_days'"),
    ("year: 2032\nsource: x\nholidays: [2031-01-01]\nworking_days: []\n",
     r"key 'holidays\[0\]': 2031-01-01 is not in 2032"),
    ("year: 2032\nsource: x\nholidays: []\nworking_days: [2032-03-03]\n",
     r"key 'working_days\[0\]': 2032-03-03 is a weekday"),
    ("year: 2032\nsource: x\nholidays: [{from: 2032-01-05, to: 2032-01-01}]\nworking_days: []\n",
     r"'to' 2032-01-01 is before 'from' 2032-01-05"),
    ("year: 2032\nsource: x\nholidays: [1st May]\nworking_days: []\n", r"is not a date"),
])
def test_bad_holiday_file(tmp_path, body, message):
    path = _write(tmp_path, 2032, body)
    with pytest.raises(CalendarError, match=message):
        load_holiday_file(path)
    with pytest.raises(CalendarError, match=str(path).replace(".", r"\.")):
        WorkCalendar(holidays_dir=tmp_path).is_working_day(D(2032, 1, 2))
