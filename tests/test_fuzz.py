"""Hostile input (issue 12): mutated registers, results registers and policies are refused
with messages of the documented form, or read exactly; never a traceback, never a row or a
value lost, merged or changed on the way.

The mutations and the oracle are those of ``scripts/fuzz_inputs.py`` (its docstring says how
the reference reading is made from the documented rules); hypothesis draws the mutations,
with a fixed seed, a few hundred in all. Below them: the oracle caught readers that have the
issue's bugs (a quote spanning rows merging two rows, a missing trailing field padded), and
the bugs the fuzzing found, pinned one by one.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import re
import subprocess
import sys
import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dsr_analysis.registers as registers_module
from dsr_analysis.config import _INVISIBLE, clip
from dsr_analysis.errors import PolicyError, RegisterError
from dsr_analysis.paths import PROJECT_ROOT, SAMPLE_REGISTERS
from dsr_analysis.policy import load_policy
from dsr_analysis.registers import load_registers
from dsr_analysis.tabular import FORBIDDEN_PATTERN

SCRIPT = PROJECT_ROOT / "scripts" / "fuzz_inputs.py"
_spec = importlib.util.spec_from_file_location("fuzz_inputs", SCRIPT)
fuzz = importlib.util.module_from_spec(_spec)
sys.modules["fuzz_inputs"] = fuzz
_spec.loader.exec_module(fuzz)

#: Data rows of each sample register the properties mutate (mutations near the header
#: and the ends are frequent; the script runs on the whole files).
ROWS = 40

FUZZ = settings(derandomize=True, database=None, deadline=None, print_blob=False,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


class DataChooser:
    """The script's choices drawn by hypothesis (so that failures shrink)."""

    def __init__(self, data: st.DataObject):
        self.data = data

    def integer(self, lo: int, hi: int) -> int:
        return self.data.draw(st.integers(lo, hi))


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    return fuzz.make_bench(tmp_path_factory.mktemp("fuzz"), rows=ROWS)


def _verdict(out) -> str:
    return f"{out.category}: {out.mutation}: {out.detail}"


# --------------------------------------------------------------------------------------
# The properties
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", fuzz.REGISTER_KINDS)
@settings(FUZZ, max_examples=50)
@given(data=st.data())
def test_mutated_register_is_refused_well_or_read_exactly(bench, kind, data):
    """Every mutation of a register gives either a RegisterError whose problems all read
    ``file:row:column: message`` (a row of the file, no raw invisible character), or a frame
    equal, row by row and cell by cell, to the reference reading of the mutated file."""
    out = fuzz.run_one(bench, kind, DataChooser(data))
    assert out.category in ("refused", "accepted"), _verdict(out)


@settings(FUZZ, max_examples=100)
@given(data=st.data())
def test_mutated_policy_is_refused_well_or_read_exactly(bench, data):
    """Every mutation of the Xiong'an policy gives either a PolicyError of one-line messages
    ``file: key 'a.b': message`` / ``file: message``, or a Policy equal, field by field, to
    PyYAML's reading (duplicate keys and the node and depth bounds refused)."""
    out = fuzz.run_one(bench, "policy", DataChooser(data))
    assert out.category in ("refused", "accepted"), _verdict(out)


def test_the_script_prints_the_table():
    run = subprocess.run([sys.executable, str(SCRIPT), "--mutations", "3", "--rows", "10"],
                         capture_output=True, text=True, timeout=120, cwd=PROJECT_ROOT)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "| register | mutations | refused, good messages | accepted correctly | " \
           "tracebacks | wrongly accepted | silently coerced | badly formatted |" in run.stdout
    for kind in fuzz.KINDS:
        assert re.search(rf"^\| {kind} \| 3 \| ", run.stdout, re.M), run.stdout


# --------------------------------------------------------------------------------------
# The oracle catches the issue's bugs
# --------------------------------------------------------------------------------------
def _experts_lines(bench) -> list[str]:
    return bench.texts["experts"].split("\n")


def _quote_across_rows_6_and_7(bench) -> fuzz.Mutation:
    """The issue's reproduction: '"' before the name in row 6 and after it in row 7."""
    lines = _experts_lines(bench)
    row6, row7 = lines[5].split(","), lines[6].split(",")
    row6[1], row7[1] = '"' + row6[1], row7[1] + '"'
    lines[5], lines[6] = ",".join(row6), ",".join(row7)
    text = "\n".join(lines)
    return fuzz.Mutation("quote across rows 6 and 7", text, text.encode())


def _missing_trailing_field(bench) -> fuzz.Mutation:
    lines = bench.texts["inspectors"].split("\n")
    lines[3] = lines[3][: lines[3].rfind(",")]
    text = "\n".join(lines)
    return fuzz.Mutation("row 4 without its last field", text, text.encode())


def _lenient_read_cells(path, known_headers=(), required=None):
    """A reader with the issue's bugs: Python's csv module (a quoted field may span lines)
    and short rows padded with blanks."""
    import csv
    import io

    import numpy as np
    import pyarrow as pa

    from dsr_analysis.tabular import Cells

    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    header, body = rows[0], [r for r in rows[1:] if r]
    columns = tuple(pa.chunked_array([pa.array([r[i] if i < len(r) else "" for r in body],
                                               pa.string())]) for i in range(len(header)))
    return Cells(str(path), tuple(h.strip() for h in header), 1, columns,
                 np.arange(2, len(body) + 2), "utf-8"), []


def test_the_reader_refuses_the_issues_bugs(bench):
    for kind, mutation in (("experts", _quote_across_rows_6_and_7(bench)),
                           ("inspectors", _missing_trailing_field(bench))):
        out = fuzz.judge(bench, kind, mutation)
        assert out.category == "refused", _verdict(out)


def _no_character_check(fname, rows, columns, names):
    import numpy as np
    return [], [np.zeros(len(rows), dtype=bool) for _ in columns]


def test_the_oracle_catches_a_reader_that_merges_rows_or_pads_fields(bench, monkeypatch):
    """The reader before issue 12: rows merged by a quote, short rows padded, and no check
    of the line feed the merged value then holds."""
    monkeypatch.setattr(registers_module, "read_cells", _lenient_read_cells)
    monkeypatch.setattr(registers_module, "character_problems", _no_character_check)
    merged = fuzz.judge(bench, "experts", _quote_across_rows_6_and_7(bench))
    assert merged.category == "wrongly_accepted", _verdict(merged)
    assert "row 6: quoting not closed on the line" in merged.detail
    padded = fuzz.judge(bench, "inspectors", _missing_trailing_field(bench))
    assert padded.category == "wrongly_accepted", _verdict(padded)
    assert "row 4: 7 fields, header 8" in padded.detail


def test_the_oracle_catches_a_reader_that_lets_invisible_characters_through(bench,
                                                                           monkeypatch):
    monkeypatch.setattr(registers_module, "character_problems", _no_character_check)
    lines = _experts_lines(bench)
    lines[2] = lines[2].replace(",", ",\u200b", 1)  # a zero-width space before the name
    text = "\n".join(lines)
    out = fuzz.judge(bench, "experts", fuzz.Mutation("zero-width name", text, text.encode()))
    assert out.category == "silently_coerced", _verdict(out)


def test_the_oracle_compares_every_cell_and_accepts_what_the_rules_trim(bench):
    lines = _experts_lines(bench)
    fields = lines[4].split(",")
    fields[1] = "\u3000" + fields[1] + " "        # trimmed: the data stay the same
    fields[2] = '"' + fields[2] + '"'             # quoted: the same
    lines[4] = ",".join(fields)
    text = "\r\n".join(lines)                     # CRLF: the same
    out = fuzz.judge(bench, "experts", fuzz.Mutation("trim, quote, CRLF", text,
                                                     b"\xef\xbb\xbf" + text.encode()))
    assert out.category == "accepted", _verdict(out)
    expected = fuzz.expect_register("experts", text, text.encode(), bench.units)
    got = dict(expected.columns)
    got["name"] = got["name"][:3] + ["X"] + got["name"][4:]
    assert fuzz.compare_register(expected, got)[0] == "silently_coerced"
    got = {k: v[:-1] for k, v in expected.columns.items()}
    assert fuzz.compare_register(expected, got)[0] == "wrongly_accepted"


def test_the_policy_oracle_wants_text_as_written(bench):
    """``authority: 010`` read as the text '8' (YAML 1.1 octal) would be silently coerced."""
    text = bench.texts["policy"].replace("authority: 安新县生态环境局", "authority: 010")
    policy = load_policy()
    units = list(policy.units)
    units[3] = dataclasses.replace(units[3], authority="8")
    why, _, data = fuzz.expect_policy(text, text.encode())
    assert why is None
    category, detail = fuzz.compare_policy(dataclasses.replace(policy, units=tuple(units)), data)
    assert category == "silently_coerced" and "units[3].authority: '010' read as" in detail


# --------------------------------------------------------------------------------------
# Bugs the fuzzing found (each was accepted or badly reported before its fix)
# --------------------------------------------------------------------------------------
def _register_problems(directory, kind) -> list[str]:
    with pytest.raises(RegisterError) as info:
        load_registers(directory, names=(kind,))
    return [str(p) for p in info.value.problems]


def _write_edit(tmp_path, bench, kind, row, column, value) -> tuple:
    lines = bench.texts[kind].split("\n")
    header = lines[0].split(",")
    fields = lines[row - 1].split(",")
    fields[header.index(column)] = value
    lines[row - 1] = ",".join(fields)
    path = tmp_path / f"{kind}.csv"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path, header


@pytest.mark.parametrize("value", ["３", "١٢", "१२"])
def test_counts_in_other_digits_are_not_read_as_numbers(tmp_path, bench, value):
    path, _ = _write_edit(tmp_path, bench, "enterprises", 3, "complaints_last_year", value)
    assert _register_problems(tmp_path, "enterprises") == [
        f"{path}:3:complaints_last_year: '{value}' is not a non-negative whole number"]


@pytest.mark.parametrize("value", ["２０２３-０１-０５", "٢٠٢٣-٠١-٠٥", "２０２３-01-05 00:00:00"])
def test_dates_in_other_digits_are_not_read_as_dates(tmp_path, bench, value):
    path, _ = _write_edit(tmp_path, bench, "results", 2, "date_checked", value)
    with pytest.raises(RegisterError) as info:
        fuzz.load_results(path, bench.tasks)
    assert f"{path}:2:date_checked: '{value}' is not a date (use YYYY-MM-DD, YYYY/M/D or " \
           "YYYY年M月D日)" in [str(p) for p in info.value.problems]


@pytest.mark.parametrize("value", [";", "|；", " | ", "；；"])  # 、 is not one (issue 19)
def test_a_required_list_of_separators_only_is_blank(tmp_path, bench, value):
    path, _ = _write_edit(tmp_path, bench, "experts", 4, "industries", value)
    assert _register_problems(tmp_path, "experts") == [
        f"{path}:4:industries: blank required value ('{value.strip()}' holds only separators)"]


def test_an_optional_list_of_separators_only_is_empty(tmp_path, bench):
    _write_edit(tmp_path, bench, "inspectors", 4, "expertise", ";")
    assert load_registers(tmp_path, names=("inspectors",)).inspectors["expertise"][2] == ()


def test_a_header_with_an_invisible_character_is_named_by_its_position(tmp_path, bench):
    lines = bench.texts["experts"].split("\n")
    lines[0] = lines[0].replace("name", "na\u202eme")
    fields = lines[3].split(",")
    fields[1] = fields[1][:1] + '"' + fields[1][1:]   # a stray quote in row 4's name
    lines[3] = ",".join(fields)
    path = tmp_path / "experts.csv"
    path.write_text("\n".join(lines), encoding="utf-8")
    found = _register_problems(tmp_path, "experts")
    assert len(found) == 1 and found[0].startswith(
        f"{path}:4:column 2: a quote inside an unquoted field"), found
    lines[3] = bench.texts["experts"].split("\n")[3]
    lines[5] = lines[5].replace(",", ",\x07", 1)      # a control character in row 6's name
    path.write_text("\n".join(lines), encoding="utf-8")
    found = _register_problems(tmp_path, "experts")
    assert found[0] == (f"{path}:1:column 2: header bidirectional control character U+202E "
                        "RIGHT-TO-LEFT OVERRIDE at position 3 of 'na\\u202Eme': retype the "
                        "value without it")
    assert found[1].startswith(f"{path}:6:column 2: control character U+0007 at position 1")
    assert len(found) == 2 and not any(FORBIDDEN_PATTERN.search(line) for line in found)


def test_a_gb18030_register_with_a_utf8_row_is_refused(tmp_path, bench):
    """A row pasted from a UTF-8 file into a GBK export: GB18030 read it as other
    characters, and the file as a whole was under the 20 % of unusual ones."""
    lines = bench.texts["enterprises"].split("\n")[:-1]
    row = next(k for k in range(1, len(lines)) if _also_gb18030(lines[k].encode("utf-8")))
    data = b"".join((line + "\n").encode("utf-8" if k == row else "gb18030")
                    for k, line in enumerate(lines))
    path = tmp_path / "enterprises.csv"
    path.write_bytes(data)
    assert _register_problems(tmp_path, "enterprises") == [
        f"{path}:{row + 1}:-: row {row + 1} is UTF-8 but the file is not (it decodes as "
        "GB18030, the row into other characters): the file mixes two encodings; save it again "
        "in one, as UTF-8"]


def _also_gb18030(data: bytes) -> bool:
    """Whether UTF-8 bytes also decode as GB18030 (else the mixed file fails as GB18030)."""
    try:
        data.decode("gb18030")
        return True
    except UnicodeDecodeError:
        return False


def test_gb18030_registers_are_still_read(tmp_path):
    for kind in fuzz.REGISTER_KINDS[:4]:
        text = (SAMPLE_REGISTERS / f"{kind}.csv").read_text(encoding="utf-8")
        (tmp_path / f"{kind}.csv").write_bytes(text.encode("gb18030"))
    assert len(load_registers(tmp_path).enterprises) == 3000


@pytest.mark.parametrize("key", ["min_inspecto\u202ers_per_task", "\ufeffrule", "o\ufffdp_x"])
def test_policy_messages_show_invisible_characters_escaped(tmp_path, bench, key):
    text = bench.texts["policy"].replace("  min_inspectors_per_task: 2",
                                         f"  min_inspectors_per_task: 2\n  {key}: 1")
    path = tmp_path / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    message = str(info.value)
    assert not _INVISIBLE.search(message), ascii(message)
    escaped = _INVISIBLE.sub(lambda m: f"\\u{ord(m.group()):04X}", key)
    assert message.startswith(f"{path}: unknown key 'staffing.{escaped}' (allowed: ")


@pytest.mark.parametrize("written", ["010", "0x1F", "1_000", "1:30", "+5"])
def test_yaml_integers_not_in_decimal_digits_are_refused(tmp_path, bench, written):
    """YAML 1.1 reads 010 as 8: ``authority: 010`` became the text '8', ``yearly_cap: 010``
    the number 8."""
    path = tmp_path / "policy.yaml"
    for old, key in (("authority: 安新县生态环境局", "units[3].authority"),
                     ("yearly_cap: 2", "draw.yearly_cap")):
        path.write_text(bench.texts["policy"].replace(old, old.split(":")[0] + ": " + written),
                        encoding="utf-8")
        with pytest.raises(PolicyError) as info:
            load_policy(path)
        assert re.fullmatch(
            rf"{re.escape(str(path))}: key '{re.escape(key)}': line \d+, column \d+: the number "
            rf"'{re.escape(written)}' is not written in decimal digits \(YAML reads 017 as 15, "
            r"0x1F as 31, 1_000 as 1000, 1:30 as 90\): write the number in digits, or in "
            r"quotes if it is text", str(info.value)), str(info.value)
    path.write_text(bench.texts["policy"].replace("yearly_cap: 2", "yearly_cap: '2'"),
                    encoding="utf-8")
    with pytest.raises(PolicyError, match="key 'draw.yearly_cap': expected a number, got '2'"):
        load_policy(path)


def test_messages_escape_exactly_the_characters_registers_refuse():
    every = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000)
    assert set(_INVISIBLE.findall(every)) == set(FORBIDDEN_PATTERN.findall(every))
    assert set(fuzz.INVISIBLE.findall(every)) == set(FORBIDDEN_PATTERN.findall(every))
    assert clip("a\u202eb") == "a\\u202Eb"
    assert {unicodedata.category(c) for c in fuzz.SPACES} == {"Zs"}


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
@pytest.mark.parametrize("title", [False, True])
def test_a_zero_width_no_break_space_first_in_the_first_row_is_not_dropped(tmp_path, bench,
                                                                           encoding, title):
    """pyarrow drops a byte-order mark at the start of its input, which is where the first
    data row begins: U+FEFF before the first item id vanished silently."""
    lines = bench.texts["items"].split("\n")
    lines[1] = "\ufeff" + lines[1]
    if title:
        lines.insert(0, "随机抽查事项清单")
    path = tmp_path / "items.csv"
    path.write_bytes("\n".join(lines).encode(encoding))
    row = 3 if title else 2
    assert _register_problems(tmp_path, "items") == [
        f"{path}:{row}:item_id: zero-width character U+FEFF ZERO WIDTH NO-BREAK SPACE at "
        "position 1 of '\\uFEFFXA-SX-001': retype the value without it"]
