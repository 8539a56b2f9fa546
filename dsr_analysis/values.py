"""Cell values of the registers: booleans, counts, dates, deadlines, amounts of money, lists,
units, enumerations and unified social credit codes. :func:`value_converter` gives, per column
kind of :data:`dsr_analysis.schema.SCHEMAS`, the function that turns a non-blank cell's text
into its value or a message saying why it is not one; :func:`uscc_status` checks a whole column
of USCCs at once. :mod:`dsr_analysis.registers` applies them column by column."""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pyarrow as pa
from stdnum.cn import uscc as stdnum_uscc
from stdnum.exceptions import InvalidChecksum, InvalidLength

from .schema import ENUMS, LIST_SEPARATORS
from .i18n import N_, _
from .tabular import shown, string_bytes

Converter = Callable[[str], tuple[object, str | None]]

BOOL_TRUE = {"true", "1", "yes", "y", "t", "是", "有", "√"}
BOOL_FALSE = {"false", "0", "no", "n", "f", "否", "无", "×"}

#: Separators of list cells ("a;b", "a；b", "a|b", a line break in a workbook cell); never
#: 、, which GB/T 4754 industry names contain ("电线、电缆制造").
LIST_SPLIT = re.compile("[" + re.escape(LIST_SEPARATORS) + "]")
#: The list rule of the registers read for draw records up to issue 19 (format
#: ``dsr-draw-record/3``): 、 separated too, and 全部行业 was one industry's name. Only
#: ``dsr verify`` reads with it (``legacy_lists``), to replay a draw recorded then.
LEGACY_LIST_SPLIT = re.compile(r"[;；、|]")


def _bool(text: str) -> tuple[object, str | None]:
    low = text.lower()
    if low in BOOL_TRUE:
        return True, None
    if low in BOOL_FALSE:
        return False, None
    return False, _("'{text}' is not a boolean (use true/false, 1/0, yes/no or 是/否)").format(
        text=text)


def _count(text: str) -> tuple[object, str | None]:
    if not re.fullmatch(r"[0-9]+", text):  # not \d: no full-width or Arabic digits
        return 0, _("'{text}' is not a non-negative whole number").format(text=text)
    value = int(text)
    if value >= 2**63:
        return 0, _("'{text}' is too large a number").format(text=text)
    return value, None


_NOT_A_DATE = N_("'{text}' is not a date (use YYYY-MM-DD, YYYY/M/D or YYYY年M月D日)")


def _past_date() -> Converter:
    """A date of something that has happened: not after today."""
    today = datetime.date.today()

    def convert(text: str) -> tuple[object, str | None]:
        parsed = parse_date(text)
        if parsed is None:
            return None, _(_NOT_A_DATE).format(text=text)
        if parsed > today:
            return None, _("'{text}' is after today ({today}): a register records what has "
                           "happened").format(text=text, today=today.isoformat())
        return parsed, None
    return convert


def _deadline(text: str) -> tuple[object, str | None]:
    """A date set for the future (整改期限): may lie after today."""
    parsed = parse_date(text)
    if parsed is None:
        return None, _(_NOT_A_DATE).format(text=text)
    return parsed, None


def _list(legacy_lists: bool) -> Converter:
    split = LEGACY_LIST_SPLIT.split if legacy_lists else LIST_SPLIT.split

    def convert(text: str) -> tuple[object, str | None]:
        return tuple(p.strip() for p in split(text) if p.strip()), None
    return convert


def _unit(units: Mapping[str, str] | None) -> Converter:
    """A unit by its id or its Chinese name (any text when no units are given)."""
    lookup: dict[str, str] = {}
    for uid, zh in (units or {}).items():
        lookup[uid.lower()] = uid
        lookup[zh] = uid

    def convert(text: str) -> tuple[object, str | None]:
        if units is None:
            return text, None
        found = lookup.get(text.lower(), lookup.get(text))
        if found is not None:
            return found, None
        valid = ", ".join(f"{k} ({v})" for k, v in units.items())
        return text, _("unknown unit '{text}' (valid: {valid})").format(
            text=text, valid=valid, valid_zh="、".join(units.values()))
    return convert


def _enum(enum: str) -> Converter:
    """A value of ``ENUMS[enum]`` by its canonical name or any accepted spelling."""
    lookup: dict[str, str] = {}
    for canonical, spellings in ENUMS[enum].items():
        lookup[canonical.lower()] = canonical
        for spelling in spellings:
            lookup[spelling.lower()] = canonical

    def convert(text: str) -> tuple[object, str | None]:
        canonical = lookup.get(text.lower())
        if canonical is not None:
            return canonical, None
        valid = ", ".join(f"{c} ({'/'.join(s)})" for c, s in ENUMS[enum].items())
        return text, _("unknown {kind} '{text}' (valid: {valid})").format(
            kind=enum.replace("_", " "), text=text, valid=valid,
            valid_zh="、".join(s[0] if s else c for c, s in ENUMS[enum].items()))
    return convert


def value_converter(kind: str, units: Mapping[str, str] | None, legacy_lists: bool = False
                    ) -> Converter:
    """The function: non-blank text -> (value, problem message or None) of a column ``kind``
    (``bool``, ``int``, ``date``, ``deadline``, ``amount``, ``list``, ``unit``,
    ``enum:NAME``); ``legacy_lists``: :data:`LEGACY_LIST_SPLIT`."""
    if kind.startswith("enum:"):
        return _enum(kind[5:])
    factories: dict[str, Callable[[], Converter]] = {
        "bool": lambda: _bool, "int": lambda: _count, "date": _past_date,
        "deadline": lambda: _deadline, "amount": lambda: parse_amount,
        "list": lambda: _list(legacy_lists), "unit": lambda: _unit(units),
    }
    if kind not in factories:  # pragma: no cover - schema error
        raise ValueError(kind)
    return factories[kind]()


# ASCII digits only ([0-9], not \d, which takes full-width and Arabic-Indic digits too)
_DATE_PATTERNS = (
    re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})"),
    re.compile(r"([0-9]{4})/([0-9]{1,2})/([0-9]{1,2})"),
    re.compile(r"([0-9]{4})\.([0-9]{1,2})\.([0-9]{1,2})"),
    re.compile(r"([0-9]{4})年([0-9]{1,2})月([0-9]{1,2})日"),
)


#: An amount of money [yuan]: ASCII digits, optional thousands commas, at most 2 decimals,
#: an optional trailing 元.
_AMOUNT = re.compile(r"([0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(\.[0-9]{1,2})?(?:元)?")


def parse_amount(text: str) -> tuple[float | None, str | None]:
    """(amount in yuan, None) or (None, message) for a cell of an amount column."""
    m = _AMOUNT.fullmatch(text.strip())
    if m is None and _AMOUNT.fullmatch(text.strip().removeprefix("-")):
        return None, _("'{text}' is negative: an amount of money is 0 or more (yuan)").format(
            text=text)
    if m is None:
        return None, _("'{text}' is not an amount of money (a non-negative number of yuan, "
                       "at most 2 decimals, e.g. 50000 or 12500.50)").format(text=text)
    value = float(m.group(1).replace(",", "") + (m.group(2) or ""))
    if value >= 1e13:
        return None, _("'{text}' is too large an amount").format(text=text)
    return value, None


def parse_date(text: str) -> datetime.date | None:
    """A calendar date in one of the spellings registers use; None if it is not one."""
    text = text.strip()
    if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ]00:00:00", text):  # spreadsheet date cells
        text = text[:10]
    for pattern in _DATE_PATTERNS:
        m = pattern.fullmatch(text)
        if m:
            try:
                return datetime.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError:
                return None
    return None


# --------------------------------------------------------------------------------------
# Unified social credit code (GB 32100-2015), column-wise
# --------------------------------------------------------------------------------------
#: The 31 characters of a USCC (no I, O, S, V, Z); a character's value is its position.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
#: Weight of each of the first 17 characters: 3**i mod 31.
USCC_WEIGHTS = np.array([pow(3, i, 31) for i in range(17)], dtype=np.int64)
_USCC_VALUE = np.full(256, -1, dtype=np.int8)
for _i, _c in enumerate(USCC_ALPHABET):
    _USCC_VALUE[ord(_c)] = _i
#: Bytes a code in canonical form may hold (anything else: ``stdnum`` decides, code by code).
_USCC_PLAIN = np.zeros(256, dtype=bool)
_USCC_PLAIN[0x21:0x7F] = True
_USCC_PLAIN[[ord("-")] + list(range(ord("a"), ord("z") + 1))] = False

#: :func:`uscc_status` codes.
USCC_OK, USCC_LENGTH, USCC_FORMAT, USCC_CHECKSUM, USCC_NOT_CANONICAL = range(5)
_USCC_REASON = {   # stdnum's reasons (InvalidLength, InvalidFormat, InvalidChecksum)
    USCC_LENGTH: N_("the number has an invalid length"),
    USCC_FORMAT: N_("the number has an invalid format"),
    USCC_CHECKSUM: N_("the number's checksum or check digit is invalid"),
}


def uscc_status(codes: pa.ChunkedArray | pa.Array | Sequence[str]) -> np.ndarray:
    """Check every code of a column at once, as ``stdnum.cn.uscc`` checks one.

    ``stdnum.cn.uscc.validate`` removes spaces and hyphens, upper-cases, then checks the
    length (18), that the first 8 characters are digits, that the other 10 are in
    :data:`USCC_ALPHABET`, and the check character: ``ALPHABET[(31 - sum(value_i *
    3**i mod 31, i < 17) % 31) % 31]`` (GB 32100-2015). It does not check the organisation
    code in characters 9-17 (GB 11714), and neither does this. Codes made only of printable
    ASCII other than space, hyphen and lower case - every code in canonical form - are
    checked with numpy over the whole column; any other (rare: they are errors or not in
    canonical form) by ``stdnum`` itself.

    Returns
    -------
    ndarray of int8
        Per code: ``USCC_OK`` (0), ``USCC_LENGTH``, ``USCC_FORMAT``, ``USCC_CHECKSUM`` (the
        reason ``stdnum`` gives), or ``USCC_NOT_CANONICAL`` (valid for ``stdnum`` but written
        with spaces, hyphens or lower case). ``stdnum.cn.uscc.is_valid`` is true exactly for
        0 and 4.
    """
    if isinstance(codes, pa.Array):
        codes = pa.chunked_array([codes])
    elif not isinstance(codes, pa.ChunkedArray):
        codes = pa.chunked_array([pa.array(list(codes), pa.large_string())], pa.large_string())
    if not (pa.types.is_string(codes.type) or pa.types.is_large_string(codes.type)):
        codes = codes.cast(pa.large_string())
    parts = []
    for chunk in codes.chunks:
        offsets, data = string_bytes(chunk)
        n = len(chunk)
        status = np.zeros(n, dtype=np.int8)
        odd = np.zeros(n, dtype=bool)          # for stdnum: not plain
        not_plain = np.flatnonzero(~_USCC_PLAIN[data])
        if len(not_plain):
            odd[np.searchsorted(offsets, not_plain, "right") - 1] = True
        length = np.diff(offsets)
        status[~odd & (length != 18)] = USCC_LENGTH
        chosen = np.flatnonzero(~odd & (length == 18))
        if len(chosen):
            if len(chosen) == n and offsets[-1] == 18 * n:
                raw = data.reshape(n, 18)
            else:
                raw = data[offsets[chosen][:, None] + np.arange(18)]
            values = _USCC_VALUE[raw]
            well_formed = ((values[:, :8] >= 0) & (values[:, :8] < 10)).all(axis=1) \
                & (values[:, 8:] >= 0).all(axis=1)
            total = np.zeros(len(chosen), dtype=np.int32)
            for i in range(17):
                total += values[:, i].astype(np.int32) * int(USCC_WEIGHTS[i])
            check = (31 - total % 31) % 31
            status[chosen] = np.where(~well_formed, USCC_FORMAT,
                                      np.where(values[:, 17] == check, USCC_OK, USCC_CHECKSUM))
        for i in np.flatnonzero(odd).tolist():
            status[i] = uscc_status_one(chunk[i].as_py())
        parts.append(status)
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int8)


def uscc_status_one(text: str) -> int:
    try:
        stdnum_uscc.validate(text)
    except InvalidLength:
        return USCC_LENGTH
    except InvalidChecksum:
        return USCC_CHECKSUM
    except Exception:  # InvalidFormat, or characters stdnum does not expect
        return USCC_FORMAT
    return USCC_OK if stdnum_uscc.compact(text) == text else USCC_NOT_CANONICAL


def uscc_message(text: str, status: int) -> str:
    """The message of a code whose :func:`uscc_status` is not ``USCC_OK``."""
    if status == USCC_NOT_CANONICAL:
        return _("unified social credit code '{text}' is not in canonical form (expected "
                 "'{expected}')").format(text=text, expected=stdnum_uscc.compact(text))
    return _("invalid unified social credit code {text}: {reason}").format(
        text=shown(text), reason=_(_USCC_REASON[status]))
