"""The announcement of a commitment (抽取公告): issued by the bureau of the units it covers,
dated by the commitment's date (``dsr commit --date``, recorded in the ledger), "—" for a
credit class a stratum does not have, and written in every form before the commitment
stands (a commitment without its announcement cannot be drawn under). Real ``dsr`` commands
on a county bureau's own registers (``tests/bureau.py``)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from dsr_analysis.categories import classify
from dsr_analysis.cli import main
from dsr_analysis.draw.ledger import append, entries
from dsr_analysis.policy import load_policy
from dsr_analysis.registers import load_registers

SOURCE = "中国福利彩票双色球第2023010期开奖号码（2023年1月20日开奖）"
AREA = "河北雄安新区管理委员会生态环境局"


def commit(registers: Path, ledger: Path, outputs: Path, *extra: str) -> int:
    return main(["commit", "--registers", str(registers), "--quarter", "2023Q1",
                 "--seed-source", SOURCE, "--seed-form", "numbers", "--ledger", str(ledger),
                 "--outputs", str(outputs), *extra])


def draw(registers: Path, ledger: Path, outputs: Path, *extra: str) -> int:
    return main(["draw", "--registers", str(registers), "--quarter", "2023Q1",
                 "--seed-material", "03 09 12 18 25 31 / 07", "--ledger", str(ledger),
                 "--outputs", str(outputs), *extra])


def docx_text(path: Path) -> tuple[str, list[list[str]]]:
    from docx import Document

    d = Document(path)
    return ("\n".join(p.text for p in d.paragraphs),
            [[c.text for c in r.cells] for t in d.tables for r in t.rows])


def pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout


def error_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def county(bureau_quarter, tmp_path_factory):
    """雄县 commits 2023Q1 alone, dated 13 January 2023, on its own registers."""
    root = tmp_path_factory.mktemp("county")
    ledger, outputs = root / "ledger.sqlite", root / "out"
    assert commit(bureau_quarter.registers, ledger, outputs, "--units", "xiongxian",
                  "--date", "2023-01-13") == 0
    folder = outputs / "draws" / "2023Q1" / "xiongxian" / "public"
    return ledger, outputs, folder


def test_a_county_commitment_is_issued_by_the_county_and_dated_by_its_date(county):
    ledger, _outputs, folder = county
    (c,) = entries(ledger)
    assert c.record["date"] == "2023-01-13" and c.record["issuer"] == "雄县生态环境局"
    assert not c.created_at.startswith("2023")  # appended today: the machine clock is not the date
    page = (folder / "announcement-1.html").read_text(encoding="utf-8")
    word, _tables = docx_text(folder / "announcement-1.docx")
    pdf = pdf_text(folder / "announcement-1.pdf")
    today = dt.date.today()
    for text in (page, word, pdf):
        assert "雄县生态环境局2023年第一季度" in text.replace("\n", "").replace(" ", "")
        assert "2023年1月13日" in text
        assert AREA not in text
        assert f"{today.year}年{today.month}月{today.day}日" not in text
    # the signature block: issuer, then the date, last in the document
    assert word.rstrip().endswith("雄县生态环境局\n2023年1月13日")


def test_an_empty_credit_class_shows_a_dash_in_every_form(county, bureau_quarter):
    ledger, _outputs, folder = county
    (c,) = entries(ledger)
    policy = load_policy()
    firms = classify(load_registers(bureau_quarter.registers, units=policy.unit_names)
                     .enterprises, policy)
    # an independent count: 雄县's key objects by credit class, from the register itself
    key = firms[(firms["unit"] == "xiongxian") & (firms["category"] == "key")]
    empty = sorted(set("ABCD") - set(key["credit_class"]))
    assert empty, "the bureau's register should lack a credit class among its key objects"
    row = next(r for r in c.record["quotas"] if r["stratum"] == "key/all")
    assert {k for k, v in row["population_by_class"].items() if v == 0} == set(empty)
    _word, tables = docx_text(folder / "announcement-1.docx")
    header = tables[0]
    key_row = next(r for r in tables if r[1] == "重点监管对象")
    for cls in empty:
        assert key_row[header.index(f"{cls}类入样概率")] == "—"
    for cls in sorted(set("ABCD") - set(empty)):
        assert key_row[header.index(f"{cls}类入样概率")].endswith("%")
    page = (folder / "announcement-1.html").read_text(encoding="utf-8")
    html_row = page[page.index("<td>重点监管对象</td>"):].split("</tr>")[0]
    assert html_row.count("<td class='n'>—</td>") == len(empty) and "0.0%" not in html_row
    pdf_row = next(line for line in pdf_text(folder / "announcement-1.pdf").splitlines()
                   if "重点监管对象" in line)
    assert pdf_row.count("—") == len(empty) and "0.0%" not in pdf_row


@pytest.mark.parametrize("units, issuer", [("rongcheng,anxin", AREA), ("", AREA),
                                           ("anxin", "安新县生态环境局")])
def test_the_issuer_is_the_bureau_of_the_units(tmp_path, units, issuer):
    """One county: its bureau; several counties, or the area level with them: the new-area
    bureau, which organises a draw across bureaus."""
    extra = ("--units", units) if units else ()
    ledger, outputs = tmp_path / "ledger.sqlite", tmp_path / "out"
    sample = Path(load_registers(None).sources["enterprises"]).parent
    assert commit(sample, ledger, outputs, *extra) == 0
    (c,) = entries(ledger)
    assert c.record["issuer"] == issuer and c.record["date"] == dt.date.today().isoformat()
    page = next(outputs.rglob("announcement-1.html")).read_text(encoding="utf-8")
    assert page.count(issuer) == 3  # <title>, heading, signature


def test_a_commitment_date_is_checked(tmp_path, bureau_quarter, capsys):
    ledger, outputs = tmp_path / "ledger.sqlite", tmp_path / "out"
    regs = bureau_quarter.registers
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    assert commit(regs, ledger, outputs, "--units", "xiongxian", "--date", tomorrow) == 2
    err = capsys.readouterr().err
    assert error_lines(err) == [f"error: --date {tomorrow} is after today "
                                f"({dt.date.today().isoformat()}): a commitment is dated the "
                                "day its announcement is published"]
    assert commit(regs, ledger, outputs, "--units", "xiongxian", "--date", "13/01/2023") == 2
    assert "not a date; write YYYY-MM-DD" in capsys.readouterr().err
    assert not ledger.exists() and not outputs.exists()
    assert commit(regs, ledger, outputs, "--units", "xiongxian", "--date", "2023-01-13") == 0
    capsys.readouterr()
    assert commit(regs, ledger, outputs, "--units", "xiongxian", "--date", "2023-01-12") == 2
    assert "precedes the date of commitment #1 (2023-01-13)" in capsys.readouterr().err
    assert len(entries(ledger)) == 1


def test_a_failed_commit_leaves_no_commitment_a_draw_can_use(tmp_path, bureau_quarter, capsys):
    ledger, regular_file = tmp_path / "ledger.sqlite", tmp_path / "outputs"
    regular_file.write_text("not a folder\n", encoding="utf-8")
    regs = bureau_quarter.registers
    assert commit(regs, ledger, regular_file, "--units", "xiongxian") == 3
    err = error_lines(capsys.readouterr().err)
    assert len(err) == 1 and err[0].startswith(f"error: {regular_file}")
    assert "nothing was committed" in err[0]
    assert not ledger.exists() or not [e for e in entries(ledger) if e.is_commitment]
    assert regular_file.read_text(encoding="utf-8") == "not a folder\n"
    outputs = tmp_path / "out"
    assert draw(regs, ledger, outputs, "--units", "xiongxian") == 2
    assert "no commitment for 2023Q1" in capsys.readouterr().err


@pytest.fixture
def small_disk(tmp_path):
    """A 160 KiB tmpfs: the announcement's HTML and DOCX fit, its PDF (fonts embedded) does
    not. Skipped where tmpfs cannot be mounted (not root, no CAP_SYS_ADMIN)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=160k", "tmpfs", str(mount)],
                          capture_output=True)
    if done.returncode:
        pytest.skip(f"cannot mount a tmpfs: {done.stderr.decode(errors='replace').strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_commit_on_a_full_disk_leaves_no_commitment(tmp_path, small_disk, bureau_quarter,
                                                      capsys):
    ledger, outputs = tmp_path / "ledger.sqlite", small_disk / "out"
    regs = bureau_quarter.registers
    assert commit(regs, ledger, outputs, "--units", "xiongxian") == 3
    err = error_lines(capsys.readouterr().err)
    assert len(err) == 1 and err[0].startswith("error: ") and "No space left" in err[0], err
    assert "Traceback" not in "\n".join(err)
    assert not ledger.exists() or not entries(ledger)
    left = [p for p in small_disk.rglob("*") if p.is_file()]
    assert left == [], left  # nothing staged or half-written stays behind
    assert draw(regs, ledger, outputs, "--units", "xiongxian") == 2
    assert "no commitment for 2023Q1" in capsys.readouterr().err


def test_a_draw_refuses_a_commitment_whose_announcement_is_missing(tmp_path, bureau_quarter,
                                                                    capsys):
    ledger, outputs = tmp_path / "ledger.sqlite", tmp_path / "out"
    regs = bureau_quarter.registers
    assert commit(regs, ledger, outputs, "--units", "xiongxian", "--date", "2023-01-13") == 0
    folder = outputs / "draws" / "2023Q1" / "xiongxian" / "public"
    pdf = folder / "announcement-1.pdf"
    original = pdf.read_bytes()
    docx = (folder / "announcement-1.docx").read_bytes()
    pdf.unlink()
    capsys.readouterr()
    assert draw(regs, ledger, outputs, "--units", "xiongxian") == 2
    err = error_lines(capsys.readouterr().err)
    assert len(err) == 1 and f"has no announcement {pdf}" in err[0] and "dsr export" in err[0]
    assert [e.is_commitment for e in entries(ledger)] == [True]
    # published and lost since: dsr export writes it again from the ledger, same date/issuer
    assert main(["export", "--ledger", str(ledger), "--outputs", str(outputs)]) == 0
    assert pdf.is_file() and "2023年1月13日" in pdf_text(pdf) and len(pdf.read_bytes()) > 0
    assert pdf_text(pdf) == pdf_text_of(original, tmp_path)
    assert (folder / "announcement-1.docx").read_bytes() == docx  # the published one stays
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]
    assert draw(regs, ledger, outputs, "--units", "xiongxian") == 0
    assert main(["verify", "--ledger", str(ledger), "--outputs", str(outputs)]) == 0


def pdf_text_of(data: bytes, tmp_path: Path) -> str:
    path = tmp_path / "original.pdf"
    path.write_bytes(data)
    return pdf_text(path)


def test_a_format_1_commitment_still_verifies_and_is_dated_by_its_entry(tmp_path,
                                                                         bureau_quarter):
    """A commitment made before the date was recorded (format 1): verify accepts it, its
    announcement (written again by dsr export) is dated by the day it was appended and issued
    by the new-area bureau as before, and a draw can use it."""
    ledger, outputs = tmp_path / "ledger.sqlite", tmp_path / "out"
    regs = bureau_quarter.registers
    assert commit(regs, ledger, outputs, "--units", "xiongxian") == 0
    record = entries(ledger)[0].record
    shutil.rmtree(outputs)
    ledger.unlink()
    for field in ("date", "issuer", "unit_names"):
        del record[field]
    for row in record["quotas"]:
        del row["population_by_class"]
    record["format"] = "dsr-commitment/1"
    old = append(ledger, record, created_at="2023-01-12T02:00:00+00:00")
    from dsr_analysis.draw.ledger import put_blob
    from dsr_analysis.paths import DEFAULT_POLICY

    put_blob(ledger, DEFAULT_POLICY.read_bytes())
    assert main(["verify", "--ledger", str(ledger), "--outputs", str(outputs)]) == 0
    assert draw(regs, ledger, outputs, "--units", "xiongxian") == 2  # no announcement yet
    assert main(["export", "--ledger", str(ledger), "--outputs", str(outputs)]) == 0
    page = (outputs / "draws" / "2023Q1" / "xiongxian" / "public" /
            f"announcement-{old.seq}.html").read_text(encoding="utf-8")
    assert "2023年1月12日" in page and AREA in page and "雄县" in page
    assert "0.0%" in page or "—" not in page.split("<table>")[1]  # no class counts recorded
    assert draw(regs, ledger, outputs, "--units", "xiongxian") == 0
    assert main(["verify", "--ledger", str(ledger), "--outputs", str(outputs)]) == 0
    assert json.loads(entries(ledger)[1].record_json)["inputs"]["commitment"]["seq"] == 1


def test_an_announcement_that_cannot_be_moved_after_the_append_is_recovered(tmp_path,
                                                                           bureau_quarter,
                                                                           capsys):
    """The entry is appended, then its staged announcement cannot be moved into place (a
    file stands where its folder belongs): exit 3, the files stay staged, no draw runs until
    the next command has moved them - then the draw runs under the commitment."""
    ledger, outputs = tmp_path / "ledger.sqlite", tmp_path / "out"
    regs = bureau_quarter.registers
    blocker = outputs / "draws" / "2023Q1" / "xiongxian" / "public"
    blocker.parent.mkdir(parents=True)
    blocker.write_text("in the way\n", encoding="utf-8")
    assert commit(regs, ledger, outputs, "--units", "xiongxian", "--date", "2023-01-13") == 3
    err = error_lines(capsys.readouterr().err)
    assert len(err) == 1 and err[0].startswith("error: ") and "staged" in err[0], err
    assert [e.is_commitment for e in entries(ledger)] == [True]
    staged = sorted(p.name for p in (outputs / "draws" / ".staging").rglob("announcement-1.*"))
    assert staged == ["announcement-1.docx", "announcement-1.html", "announcement-1.pdf"]
    assert draw(regs, ledger, outputs, "--units", "xiongxian") == 3  # still in the way
    assert len(error_lines(capsys.readouterr().err)) == 1
    assert len(entries(ledger)) == 1
    blocker.unlink()
    assert draw(regs, ledger, outputs, "--units", "xiongxian") == 0
    assert "2023年1月13日" in pdf_text(blocker / "announcement-1.pdf")
    assert not (outputs / "draws" / ".staging").exists()
    assert main(["verify", "--ledger", str(ledger), "--outputs", str(outputs)]) == 0
