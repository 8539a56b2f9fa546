"""The public draw protocol: commitments before the randomness, the ledger head, public and
internal parts, locking and crash safety (real SQLite files, real processes)."""

from __future__ import annotations

import hashlib
import json

import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from dsr_analysis.cli import main
from dsr_analysis.draw import canonical_seed_material
from dsr_analysis.draw.ledger import entries, head
from dsr_analysis.draw.outputs import check_outputs
from dsr_analysis.draw.protocol import ProtocolError
from dsr_analysis.draw.verify import verify_ledger

ROOT = Path(__file__).resolve().parents[1]


def _args(tmp_path, registers, quarter, *extra):
    return ["--registers", str(registers), "--quarter", quarter,
            "--ledger", str(tmp_path / "ledger.sqlite"), "--outputs", str(tmp_path / "out"),
            *extra]


def commit(tmp_path, registers, quarter, *extra, source="双色球第2023010期开奖号码"):
    return main(["commit", *_args(tmp_path, registers, quarter, *extra), "--seed-source", source])


def draw(tmp_path, registers, quarter, material, *extra):
    return main(["draw", *_args(tmp_path, registers, quarter, *extra),
                 "--seed-material", material])


@pytest.fixture
def drawn(tmp_path, sample_dir):
    """A commitment and a draw of 2023Q1, then of 2023Q2."""
    for q in ("2023Q1", "2023Q2"):
        assert commit(tmp_path, sample_dir, q) == 0
        assert draw(tmp_path, sample_dir, q, f"P-{q}") == 0
    return tmp_path / "ledger.sqlite"


# ------------------------------------------------------------------ commit before the randomness
def test_a_draw_without_a_commitment_is_refused(tmp_path, sample_dir, capsys):
    assert draw(tmp_path, sample_dir, "2023Q1", "x") == 2
    err = capsys.readouterr().err
    assert "no commitment for 2023Q1" in err and "dsr commit" in err
    assert not (tmp_path / "out").exists()


def test_a_commitment_for_other_units_does_not_count(tmp_path, sample_dir, capsys):
    assert commit(tmp_path, sample_dir, "2023Q1", "--units", "anxin") == 0
    assert draw(tmp_path, sample_dir, "2023Q1", "x") == 2
    assert "no commitment for 2023Q1" in capsys.readouterr().err
    assert draw(tmp_path, sample_dir, "2023Q1", "x", "--units", "anxin") == 0


@pytest.mark.parametrize("name", ["enterprises.csv", "inspectors.csv", "policy"])
def test_one_byte_changed_after_the_commitment_is_refused(tmp_path, sample_dir, capsys, name):
    policy = tmp_path / "policy.yaml"
    shutil.copy(ROOT / "parameters" / "policies" / "xiongan-2023.yaml", policy)
    assert commit(tmp_path, sample_dir, "2023Q1", "--policy", str(policy)) == 0
    target = policy if name == "policy" else sample_dir / name
    data = bytearray(target.read_bytes())
    if name == "policy":
        data += b"\n# \n"  # one comment line: the bytes differ, the rules do not
    else:  # the last row: complaints 0 -> 1 (enterprises), "true" -> "True" (inspectors)
        i = data.rindex(b"\n", 0, len(data) - 1) + 1
        row = bytes(data[i:])
        j = i + (row.rindex(b",0,") + 1 if name == "enterprises.csv" else row.index(b",true") + 1)
        data[j:j + 1] = b"1" if name == "enterprises.csv" else b"T"
    target.write_bytes(bytes(data))
    rc = draw(tmp_path, sample_dir, "2023Q1", "x", "--policy", str(policy))
    err = capsys.readouterr().err
    assert rc == 2 and "changed since commitment #1" in err, err
    what = {"enterprises.csv": "enterprise frame", "inspectors.csv": "register file "
            "inspectors", "policy": "policy file"}[name]
    assert what in err
    assert [e.is_commitment for e in entries(tmp_path / "ledger.sqlite")] == [True]


def test_a_commitment_is_used_once(drawn, tmp_path, sample_dir, capsys):
    assert draw(tmp_path, sample_dir, "2023Q2", "again", "--reason", "重新抽取") == 2
    assert "was used by draw #4" in capsys.readouterr().err
    assert commit(tmp_path, sample_dir, "2023Q2", "--reason", "重新抽取") == 0
    assert draw(tmp_path, sample_dir, "2023Q2", "again") == 2
    assert "needs --reason" in capsys.readouterr().err
    assert draw(tmp_path, sample_dir, "2023Q2", "again", "--reason", "重新抽取") == 0
    last = entries(drawn)[-1]
    assert last.redraw_of == 4 and last.record["inputs"]["reason"] == "重新抽取"
    assert verify_ledger(drawn) == []


def test_a_draw_under_a_commitment_made_before_the_history_changed_is_refused(
        tmp_path, sample_dir, capsys):
    """Q2 committed before Q1 was drawn: Q1's draw changes Q2's overlap history."""
    assert commit(tmp_path, sample_dir, "2023Q1") == 0
    assert commit(tmp_path, sample_dir, "2023Q2") == 0
    assert draw(tmp_path, sample_dir, "2023Q1", "a") == 0
    assert draw(tmp_path, sample_dir, "2023Q2", "b") == 2
    assert "the overlap history changed since commitment #2" in capsys.readouterr().err


def test_seed_material_has_one_canonical_form():
    assert canonical_seed_material("  demo\u3000 2023Q1 ") == "demo 2023Q1"
    assert canonical_seed_material("ＤＥＭＯ－１") == "DEMO-1"
    assert canonical_seed_material("07 12 3 / 5,9", "numbers") == "3.7.12./5.9./"
    assert canonical_seed_material("3,7,12;9 5", "numbers") == "3.7.12./5.9./"
    assert canonical_seed_material("０７、１２、３", "numbers") == "3.7.12./"
    with pytest.raises(ProtocolError, match="U\\+200B at position 3"):
        canonical_seed_material("ab\u200bc")
    with pytest.raises(ProtocolError, match="numbers only"):
        canonical_seed_material("3 7 x", "numbers")
    with pytest.raises(ProtocolError, match="empty"):
        canonical_seed_material(" \u3000 ")


def test_typing_the_numbers_differently_gives_the_same_draw(tmp_path, sample_dir):
    a, b = tmp_path / "a", tmp_path / "b"
    for d, material in ((a, "07 12 03 / 5"), (b, "3,7,12;05")):
        assert commit(d, sample_dir, "2023Q1", "--units", "anxin", "--seed-form",
                      "numbers") == 0
        assert draw(d, sample_dir, "2023Q1", material, "--units", "anxin") == 0
    ra, rb = (entries(d / "ledger.sqlite")[-1].record for d in (a, b))
    assert ra["inputs"]["seed_material"] == rb["inputs"]["seed_material"] == "3.7.12./5./"
    assert ra["tasks"] == rb["tasks"]


def test_a_targeted_draw_matching_nothing_writes_nothing(tmp_path, sample_dir, capsys):
    assert commit(tmp_path, sample_dir, "2023Q1", "--target", "industry=不存在的行业") == 2
    assert "no object matches industry = 不存在的行业" in capsys.readouterr().err
    assert not (tmp_path / "ledger.sqlite").exists() or not entries(tmp_path / "ledger.sqlite")


# ------------------------------------------------------------------ the published head
def _copy(ledger: Path, tmp_path: Path, name: str) -> Path:
    out = tmp_path / name
    shutil.copy(ledger, out)
    return out


def test_verify_head_catches_truncation_reordering_and_rebuilding(drawn, tmp_path, sample_dir,
                                                                   capsys):
    published = head(drawn)
    assert published.startswith("4:")
    assert verify_ledger(drawn, head=published) == []
    assert main(["verify", "--ledger", str(drawn), "--outputs", str(tmp_path / "out"),
                 "--head", published]) == 0
    assert "extends the published head" in capsys.readouterr().out
    # truncated: the last entry deleted - the chain alone still verifies
    cut = _copy(drawn, tmp_path, "cut.sqlite")
    with sqlite3.connect(cut) as con:
        con.execute("DELETE FROM entries WHERE seq = 4")
    assert verify_ledger(cut) == []
    assert [f.field for f in verify_ledger(cut, head=published)] == ["head"]
    assert main(["verify", "--ledger", str(cut), "--no-files", "--head", published]) == 1
    assert "truncated" in capsys.readouterr().err
    # rebuilt as a whole from other seed material: internally consistent, not the published one
    other = tmp_path / "rebuilt"
    for q in ("2023Q1", "2023Q2"):
        assert commit(other, sample_dir, q) == 0
        assert draw(other, sample_dir, q, f"other-{q}") == 0
    assert verify_ledger(other / "ledger.sqlite") == []
    assert [f.field for f in verify_ledger(other / "ledger.sqlite", head=published)] == ["head"]
    # reordered: the two quarters' entries swapped (and re-linked)
    swapped = _copy(drawn, tmp_path, "swapped.sqlite")
    with sqlite3.connect(swapped) as con:
        rows = con.execute("SELECT * FROM entries ORDER BY seq").fetchall()
        con.execute("DELETE FROM entries")
        for seq, row in zip((3, 4, 1, 2), rows, strict=True):
            con.execute("INSERT INTO entries VALUES (?,?,?,?,?,?,?,?,?,?)", (seq, *row[1:]))
    assert any(f.field == "head" for f in verify_ledger(swapped, replay=False, head=published))
    # without a head, verify says what it cannot know
    assert main(["verify", "--ledger", str(drawn), "--outputs", str(tmp_path / "out")]) == 0
    assert "no published head given" in capsys.readouterr().out
    assert main(["verify", "--ledger", str(drawn), "--head", "4:xyz"]) == 2
    assert "expected N:HASH" in capsys.readouterr().err


def test_the_announcement_prints_the_commitment_and_the_head(drawn, tmp_path):
    page = (tmp_path / "out" / "draws" / "2023Q2" / "public" / "announcement-3.html").read_text(
        encoding="utf-8")
    c = entries(drawn)[2]
    assert c.is_commitment
    assert c.record["inputs"]["frame_sha256"] in page
    assert c.record["inputs"]["history_sha256"] in page
    assert "双色球第2023010期开奖号码" in page and "抽取公告" in page
    assert "共 3 条" in page and c.entry_hash in page
    assert "R4" not in page and ".sqlite" not in page and ".yaml" not in page
    assert "第二季度" in page and "重点监管对象" in page and "一般监管对象（正面清单）" in page
    assert "key/all" not in page and "positive_list" not in page
    # the same announcement as an official document: DOCX and PDF
    from docx import Document

    folder = tmp_path / "out" / "draws" / "2023Q2" / "public"
    word = "\n".join(p.text for p in Document(folder / "announcement-3.docx").paragraphs)
    pdf = _public_text(folder / "announcement-3.pdf")
    for text in (word, pdf):
        assert "抽取公告" in text and "双色球第2023010期开奖号码" in text
        assert c.record["inputs"]["frame_sha256"] in text.replace("\n", "")
        assert "R4" not in text and ".sqlite" not in text
    assert "河北雄安新区管理委员会生态环境局" in word


def _public_text(path):
    """The text a reader sees in a public file (PDF through pdftotext, DOCX through
    python-docx, anything else as UTF-8)."""
    import subprocess

    if path.suffix == ".pdf":
        return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                              check=True).stdout
    if path.suffix in (".docx", ".xlsx"):
        if path.suffix == ".docx":
            from docx import Document

            d = Document(path)
            return "\n".join([p.text for p in d.paragraphs]
                             + [c.text for t in d.tables for r in t.rows for c in r.cells])
        from openpyxl import load_workbook

        return "\n".join(str(c.value) for row in load_workbook(path).active.iter_rows()
                         for c in row if c.value is not None)
    return path.read_text(encoding="utf-8")


# ------------------------------------------------------------------ public and internal
def test_no_inspector_name_or_team_in_any_public_file(drawn, tmp_path, registers):
    inspectors = registers.inspectors
    secrets = set(inspectors["name"]) | set(inspectors["inspector_id"])
    public = [p for p in (tmp_path / "out").rglob("*") if p.is_file() and "public" in p.parts]
    assert len(public) >= 8  # two records, two announcements (HTML, DOCX, PDF)
    for p in public:
        text = _public_text(p)
        leaked = sorted(s for s in secrets if s in text)
        assert not leaked, (p, leaked[:5])
        if p.suffix == ".json":
            rec = json.loads(text)
            assert all("team" not in t and "expert_id" not in t for t in rec["tasks"])
            assert "inspectors" not in rec["inputs"] and "experts" not in rec["inputs"]
    internal = tmp_path / "out" / "draws" / "2023Q1" / "internal"
    tasks = pd.read_csv(internal / "tasks.csv", encoding="utf-8-sig")
    assert tasks["执法人员"].str.len().min() > 0


def test_the_stdlib_replay_checks_the_public_part_alone_and_the_whole(drawn, tmp_path):
    out = tmp_path / "out" / "draws" / "2023Q2"
    digest = entries(drawn)[3].record_sha256
    script = str(ROOT / "scripts" / "replay_draw.py")
    pub = subprocess.run([sys.executable, "-I", script, str(out / "public" / "record.json"),
                          "--ledger-digest", digest], capture_output=True, text=True)
    assert pub.returncode == 0, pub.stderr
    assert "object draw (public part" in pub.stdout and "published ledger lists" in pub.stdout
    full = subprocess.run([sys.executable, "-I", script, str(out / "public" / "record.json"),
                           "--internal", str(out / "internal" / "internal.json")],
                          capture_output=True, text=True)
    assert full.returncode == 0, full.stderr
    assert "items, methods and teams" in full.stdout
    # an internal part that is not the one the public record names
    internal = json.loads((out / "internal" / "internal.json").read_text(encoding="utf-8"))
    internal["tasks"][0]["team"] = internal["tasks"][1]["team"]
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(internal, ensure_ascii=False), encoding="utf-8")
    bad = subprocess.run([sys.executable, "-I", script, str(out / "public" / "record.json"),
                          "--internal", str(forged)], capture_output=True, text=True)
    assert bad.returncode == 1 and "internal_sha256" in bad.stderr


def test_a_changed_policy_file_is_reported_and_replayed_from_the_ledger(drawn, tmp_path,
                                                                         sample_dir, capsys):
    policy = tmp_path / "policy.yaml"
    shutil.copy(ROOT / "parameters" / "policies" / "xiongan-2023.yaml", policy)
    led = tmp_path / "p"
    assert commit(led, sample_dir, "2023Q1", "--policy", str(policy)) == 0
    assert draw(led, sample_dir, "2023Q1", "x", "--policy", str(policy)) == 0
    policy.write_text(policy.read_text(encoding="utf-8").replace("yearly_cap: 2",
                                                                 "yearly_cap: 3"),
                      encoding="utf-8")
    assert verify_ledger(led / "ledger.sqlite") == []
    assert main(["verify", "--ledger", str(led / "ledger.sqlite"), "--outputs",
                 str(led / "out")]) == 0
    assert "has changed" in capsys.readouterr().out


# ------------------------------------------------------------------ files, crashes, concurrency
def test_export_rebuilds_missing_files_and_verify_reports_them(drawn, tmp_path, capsys):
    out = tmp_path / "out"
    (out / "draws" / "2023Q1" / "internal" / "tasks.csv").unlink()
    (out / "draws" / "2023Q2" / "public" / "record.json").write_text("{}", encoding="utf-8")
    problems = check_outputs(drawn, out)
    assert len(problems) == 2 and "missing" in problems[0] and "differs" in problems[1]
    assert main(["verify", "--ledger", str(drawn), "--outputs", str(out)]) == 1
    capsys.readouterr()
    assert main(["export", "--ledger", str(drawn), "--outputs", str(out)]) == 0
    assert check_outputs(drawn, out) == []


def _dsr(*args) -> list[str]:
    return [sys.executable, "-m", "dsr_analysis.cli", *args]


def _files_match(ledger: Path, out: Path) -> list[str]:
    return check_outputs(ledger, out) if ledger.exists() else []


@pytest.mark.slow
def test_kill_9_never_leaves_a_committed_draw_without_its_files(tmp_path, sample_dir):
    """20 draws killed at random moments: after the next run's recovery, every committed
    draw has its files and the ledger verifies."""
    rng = random.Random(20231)
    led, out = tmp_path / "ledger.sqlite", tmp_path / "out"
    base = ["--registers", str(sample_dir), "--ledger", str(led), "--outputs", str(out),
            "--units", "anxin"]
    assert main(["commit", *base, "--quarter", "2023Q1", "--seed-source", "s"]) == 0
    start = time.monotonic()
    assert main(["draw", *base, "--quarter", "2023Q1", "--seed-material", "m0"]) == 0
    duration = max(time.monotonic() - start, 0.5) + 1.5  # + the interpreter's start-up
    outcomes = {"killed before the commit": 0, "killed after the commit": 0, "finished": 0}
    for trial in range(20):
        reason = ["--reason", f"trial {trial}"]
        assert main(["commit", *base, "--quarter", "2023Q1", "--seed-source", "s",
                     *reason]) == 0
        n = len(entries(led))
        proc = subprocess.Popen(_dsr("draw", *base, "--quarter", "2023Q1", "--seed-material",
                                     f"m{trial + 1}", *reason),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.2, duration))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        committed = len(entries(led)) > n
        if proc.returncode == 0:
            outcomes["finished"] += 1
        else:
            outcomes["killed after the commit" if committed else "killed before the commit"] += 1
        check = subprocess.run(_dsr("verify", "--ledger", str(led), "--outputs", str(out),
                                    "--no-replay"), capture_output=True, text=True)
        assert check.returncode == 0, (trial, check.stderr)
        assert not (out / "draws" / ".staging").exists()
        latest = entries(led)[-1]
        if not latest.is_commitment:
            public = out / "draws" / "2023Q1" / "anxin" / "public" / "record.json"
            assert hashlib.sha256(public.read_bytes()).hexdigest() == latest.record_sha256
    assert verify_ledger(led) == []
    assert outcomes["killed before the commit"] > 0, outcomes


@pytest.mark.slow
def test_concurrent_draws_serialise_and_leave_a_ledger_that_verifies(tmp_path, sample_dir):
    """20 pairs of draws started at the same time - 10 pairs for two quarters, 10 for the
    same quarter: each run succeeds or is refused with a clear message; the ledger verifies
    and the files on disk are those of its latest entries."""
    led, out = tmp_path / "ledger.sqlite", tmp_path / "out"
    base = ["--registers", str(sample_dir), "--ledger", str(led), "--outputs", str(out),
            "--units", "anxin"]
    refusals = []
    for pair in range(20):
        quarters = ("2023Q1", "2023Q2") if pair < 10 else ("2023Q3", "2023Q3")
        reason = ["--reason", f"pair {pair}"]
        for q in dict.fromkeys(quarters):
            assert main(["commit", *base, "--quarter", q, "--seed-source", "s", *reason]) == 0
        procs = [subprocess.Popen(_dsr("draw", *base, "--quarter", q, "--seed-material",
                                       f"c{pair}-{i}", *reason),
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for i, q in enumerate(quarters)]
        for p in procs:
            _out, err = p.communicate()
            assert p.returncode in (0, 2), err
            if p.returncode == 2:
                assert err.startswith("error: ") and "Traceback" not in err
                refusals.append(err)
    assert verify_ledger(led) == []
    assert check_outputs(led, out) == []
    # The two-quarter pairs: Q2's commitment fixed a history without Q1's new draw, so when
    # Q1 is drawn first, Q2 is refused; the same-quarter pairs: the commitment is used once.
    assert refusals and all("changed since commitment" in r or "was used by draw" in r
                            for r in refusals)


def test_reports_list_the_redraws_with_their_reasons(drawn, tmp_path, sample_dir):
    from dsr_analysis import reports
    from dsr_analysis.periods import Quarter

    assert reports.ledger_redraws(drawn, Quarter.parse("2023Q4")).empty
    assert commit(tmp_path, sample_dir, "2023Q1", "--units", "anxin") == 0
    assert draw(tmp_path, sample_dir, "2023Q1", "again", "--units", "anxin", "--reason",
                "名录库登记错误，重新抽取") == 0
    r = reports.ledger_redraws(drawn, Quarter.parse("2023Q2"))
    assert r.to_dict("records") == [{"quarter": "2023Q1", "unit": "anxin", "seq": 6,
                                     "redraw_of": 2, "reason": "名录库登记错误，重新抽取"}]
    assert head(drawn).startswith("6:")


def test_a_redraw_reason_reaches_the_reports_escaped(drawn, tmp_path, sample_dir):
    import dataclasses

    from dsr_analysis import reports
    from dsr_analysis.periods import Quarter

    assert commit(tmp_path, sample_dir, "2023Q2", "--reason", "x") == 0
    assert draw(tmp_path, sample_dir, "2023Q2", "again", "--reason",
                "<img src=x onerror=alert(1)>登记错误") == 0
    inputs = dataclasses.replace(reports.load_report_inputs("2023Q2"),
                                 redraws=reports.ledger_redraws(drawn, Quarter.parse("2023Q2")))
    lines = inputs.redraw_lines("anxin")
    assert len(lines) == 1 and "<img" not in lines[0]
    assert "&lt;img src=x onerror=alert(1)&gt;登记错误" in lines[0]
    assert "重新抽取（抽取记录第 6 条，取代第 4 条）" in lines[0]
