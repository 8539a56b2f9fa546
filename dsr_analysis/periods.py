"""Quarters ("2023Q1") and their dates."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from .errors import DsrError, QuarterError
from .i18n import _

_QUARTER = re.compile(r"^(\d{4})[Qq]([1-4])$")


@dataclass(frozen=True, order=True)
class Quarter:
    """A calendar quarter.

    Attributes
    ----------
    year : int
        Calendar year.
    q : int
        Quarter number, 1-4.
    """

    year: int
    q: int

    @classmethod
    def parse(cls, label: str | Quarter) -> Quarter:
        """Parse ``2023Q1`` (case-insensitive); anything else is a :class:`QuarterError`."""
        if isinstance(label, Quarter):
            return label
        m = _QUARTER.match(str(label).strip())
        if not m:
            raise QuarterError(_("'{label}' is not a quarter (expected e.g. 2023Q1)").format(
                label=label))
        return cls(int(m.group(1)), int(m.group(2)))

    @property
    def label(self) -> str:
        return f"{self.year}Q{self.q}"

    @property
    def label_zh(self) -> str:
        return f"{self.year}年第{'一二三四'[self.q - 1]}季度"

    @property
    def start(self) -> dt.date:
        return dt.date(self.year, 3 * self.q - 2, 1)

    @property
    def end(self) -> dt.date:
        nxt = self.next()
        return nxt.start - dt.timedelta(days=1)

    @property
    def months(self) -> tuple[int, int, int]:
        return (3 * self.q - 2, 3 * self.q - 1, 3 * self.q)

    def next(self) -> Quarter:
        return Quarter(self.year + (self.q == 4), self.q % 4 + 1)

    def previous(self) -> Quarter:
        return Quarter(self.year - (self.q == 1), (self.q - 2) % 4 + 1)

    def __str__(self) -> str:
        return self.label


def quarters_of(year: int) -> list[Quarter]:
    """The four quarters of a year."""
    return [Quarter(year, q) for q in range(1, 5)]


def date_zh(d, year: bool = True) -> str:
    """A date as official Chinese text, without zero padding: ``2023年4月6日`` (``4月6日``
    with ``year=False``)."""
    return (f"{d.year}年" if year else "") + f"{d.month}月{d.day}日"


_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def parse_month(month: str) -> tuple[int, int]:
    """``YYYY-MM`` as (year, month); :class:`QuarterError` for anything else."""
    m = _MONTH.match(str(month))
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise QuarterError(_("month '{month}' is not a month: write YYYY-MM, e.g. 2024-01"
                             ).format(month=month))
    return int(m.group(1)), int(m.group(2))


def month_quarter(month: str) -> Quarter:
    """The quarter a month ``YYYY-MM`` lies in."""
    year, mon = parse_month(month)
    return Quarter(year, (mon - 1) // 3 + 1)


def option_date(value: dt.date | str | None, option: str, default: dt.date,
                error: type[DsrError] = DsrError) -> dt.date:
    """A date given on the command line (``--date``, ``--effective``…): ``YYYY-MM-DD``, a
    date, or nothing (``default``); ``error`` naming the option and the value otherwise."""
    if value is None or value == "":
        return default
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise error(_("{option} {value}: not a date; write YYYY-MM-DD").format(
            option=option, value=value)) from None
