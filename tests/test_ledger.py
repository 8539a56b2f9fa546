"""The hash-chained SQLite ledger: append, re-draws, verification, tampering (real files)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
import sqlite3

import pandas as pd
import pytest

from dsr_analysis.cli import main
from dsr_analysis.draw import TASK_COLUMNS, record_bytes
from dsr_analysis.draw.ledger import GENESIS, entries, entry_hash, load_draw_tasks
from dsr_analysis.draw.verify import check_ledger, verify_ledger
from dsr_analysis.errors import LedgerError


def draw(tmp_path, registers, quarter, material, *extra):
    """Commit (the seed source), then draw - the protocol's two steps."""
    common = ["--registers", str(registers), "--quarter", quarter,
              "--ledger", str(tmp_path / "ledger.sqlite"), "--outputs", str(tmp_path / "out"),
              *extra]
    rc = main(["commit", *common, "--seed-source", f"test text {material}"])
    if rc:
        return rc
    return main(["draw", *common, "--seed-material", material])


def draws(ledger):
    return [e for e in entries(ledger) if not e.is_commitment]


@pytest.fixture
def ledger(tmp_path, sample_dir):
    assert draw(tmp_path, sample_dir, "2023Q1", "L-2023Q1") == 0
    assert draw(tmp_path, sample_dir, "2023Q2", "L-2023Q2") == 0
    return tmp_path / "ledger.sqlite"


def test_chain_links_and_verifies(ledger, tmp_path):
    all_es = entries(ledger)
    assert [e.seq for e in all_es] == [1, 2, 3, 4]
    assert [e.is_commitment for e in all_es] == [True, False, True, False]
    assert all_es[0].prev_hash == GENESIS
    assert all(b.prev_hash == a.entry_hash for a, b in zip(all_es, all_es[1:], strict=False))
    es = draws(ledger)
    assert es[1].record["inputs"]["history"]["records"] == [es[0].record_sha256]
    assert es[0].record["inputs"]["commitment"] == {"seq": 1, "entry_hash": all_es[0].entry_hash}
    assert verify_ledger(ledger) == []
    assert check_ledger(ledger) == 4
    out = tmp_path / "out" / "draws" / "2023Q1"
    public = (out / "public" / "record.json").read_bytes()
    assert hashlib.sha256(public).hexdigest() == es[0].record_sha256
    csv = (out / "internal" / "tasks.csv").read_bytes()
    assert csv.startswith(b"\xef\xbb\xbf") and "任务编号" in csv.decode("utf-8-sig")
    # the printable task list is dsr tasks's (tests/test_fieldwork.py), not the draw's
    assert not (out / "internal" / "tasks.xlsx").exists()
    assert (out / "public" / "announcement-1.html").is_file()


def test_redraw_is_visible_and_supersedes(ledger, tmp_path, sample_dir, capsys):
    assert draw(tmp_path, sample_dir, "2023Q1", "L-2023Q1-again") == 2
    assert "a re-draw needs --reason" in capsys.readouterr().err
    assert draw(tmp_path, sample_dir, "2023Q1", "L-2023Q1-again", "--reason",
                "登记信息错误，重新抽取") == 0
    assert "re-draw of #2" in capsys.readouterr().out
    es = draws(ledger)
    assert len(es) == 3 and es[2].redraw_of == 2 and es[2].seq == 7
    assert es[2].record["inputs"]["reason"] == "登记信息错误，重新抽取"
    tasks = load_draw_tasks(ledger, "2023Q1")
    assert set(tasks["ledger_seq"]) == {7}
    assert list(tasks.columns[: len(TASK_COLUMNS)]) == TASK_COLUMNS
    assert len(load_draw_tasks(ledger)) == len(tasks) + len(es[1].record["tasks"])
    assert verify_ledger(ledger) == []  # the re-draw of Q1 does not change Q2's history


def test_edited_record_is_caught(ledger, capsys):
    con = sqlite3.connect(ledger)
    text = con.execute("SELECT record_json FROM entries WHERE seq = 2").fetchone()[0]
    rec = json.loads(text)
    rec["tasks"][5]["team"][0][0] = "133100-999"
    con.execute("UPDATE entries SET record_json = ? WHERE seq = 2",
                (json.dumps(rec, ensure_ascii=False, sort_keys=True, indent=1) + "\n",))
    con.commit()
    con.close()
    findings = verify_ledger(ledger)
    fields = {(f.seq, f.field) for f in findings}
    assert (2, "record_sha256") in fields
    assert (2, "tasks[5].team[0][0]") in fields
    assert main(["verify", "--ledger", str(ledger), "--no-files"]) == 1
    err = capsys.readouterr().err
    assert "record #2 (2023Q1): field 'tasks[5].team[0][0]'" in err


def test_rehashed_entry_breaks_the_chain(ledger):
    """A forger who fixes the record hash and the entry hash still breaks the next link."""
    con = sqlite3.connect(ledger)
    row = con.execute("SELECT seq, created_at, quarter, draw_key, units, redraw_of, "
                      "record_json, prev_hash FROM entries WHERE seq = 2").fetchone()
    rec = json.loads(row[6])
    rec["inputs"]["seed_material"] = "forged"
    text = json.dumps(rec, ensure_ascii=False, sort_keys=True, indent=1) + "\n"
    from dsr_analysis.draw import record_sha256

    sha = record_sha256(rec)
    h = entry_hash(row[0], row[1], row[2], row[3], row[4], row[5], sha, row[7])
    con.execute("UPDATE entries SET record_json = ?, record_sha256 = ?, entry_hash = ? "
                "WHERE seq = 2", (text, sha, h))
    con.commit()
    con.close()
    fields = {(f.seq, f.field) for f in verify_ledger(ledger)}
    assert (3, "prev_hash") in fields
    assert (2, "inputs.seed") in fields


def test_edited_register_is_caught(ledger, sample_dir):
    path = sample_dir / "enterprises.csv"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace(",A,false,false,0,", ",B,false,false,0,", 1), encoding="utf-8")
    findings = verify_ledger(ledger)
    assert {(f.seq, f.field) for f in findings} == {
        (2, "inputs.registers.files.enterprises.sha256"),
        (4, "inputs.registers.files.enterprises.sha256")}
    with pytest.raises(LedgerError, match=r"record #2 \(2023Q1\): field "
                                          r"'inputs.registers.files.enterprises.sha256'"):
        check_ledger(ledger)


def test_infeasible_draw_writes_nothing(tmp_path, sample_dir, capsys):
    frame = pd.read_csv(sample_dir / "inspectors.csv", dtype=str, keep_default_na=False)
    frame["active"] = "false"
    frame.to_csv(sample_dir / "inspectors.csv", index=False)
    assert draw(tmp_path, sample_dir, "2023Q1", "x") == 2
    assert "constraint" in capsys.readouterr().err
    assert [e.is_commitment for e in entries(tmp_path / "ledger.sqlite")] == [True]
    files = sorted(p.relative_to(tmp_path / "out").as_posix()
                   for p in (tmp_path / "out").rglob("*") if p.is_file())
    commitment = entries(tmp_path / "ledger.sqlite")[0]
    assert files == ["draws/2023Q1/public/announcement-1.docx",
                     "draws/2023Q1/public/announcement-1.html",
                     "draws/2023Q1/public/announcement-1.pdf",
                     "ledger-public/chain.json",  # the public chain, with the commitment
                     f"ledger-public/records/{commitment.record_sha256}.json"]


def test_missing_ledger_is_an_error(tmp_path):
    with pytest.raises(LedgerError, match="ledger not found"):
        verify_ledger(tmp_path / "none.sqlite")


def test_a_format_1_ledger_still_verifies_and_says_so(tmp_path, capsys):
    """A ledger drawn before the sampling-design change (dsr-draw-record/1) verifies with the
    algorithm it was drawn with, and `dsr verify` names the format; an edited old record is
    still caught."""
    import shutil
    import sqlite3
    from contextlib import closing

    from dsr_analysis.cli import main

    source = Path(__file__).parent / "data" / "ledger-v1" / "ledger.sqlite"
    assert verify_ledger(source) == []
    assert main(["verify", "--ledger", str(source)]) == 0
    out = capsys.readouterr().out
    assert "dsr-draw-record/1: 2" in out and "replay_draw_v1.py" in out
    copy = tmp_path / "ledger.sqlite"
    shutil.copy(source, copy)
    with closing(sqlite3.connect(copy)) as con:
        text = con.execute("SELECT record_json FROM entries WHERE seq = 2").fetchone()[0]
        rec = json.loads(text)
        rec["inputs"]["seed_material"] = "chosen later"
        new = record_bytes(rec).decode()
        sha = hashlib.sha256(new.encode()).hexdigest()
        con.execute("UPDATE entries SET record_json = ?, record_sha256 = ? WHERE seq = 2",
                    (new, sha))
        con.commit()
    fields = {f.field for f in verify_ledger(copy)}
    assert "entry_hash" in fields and "(replay of dsr-draw-record/1)" in fields
