"""Bureaus with their own ledgers (``dsr import-draws``): 雄县 draws 2023Q1 into its own
ledger and publishes its public chain; the new-area level imports it against 雄县's published
head, so that its own draw of 2023Q1 avoids every firm 雄县 drew (``between_levels: avoid``).
Real ``dsr`` commands on the county bureau's own registers (``tests/bureau.py``) and real
SQLite ledgers; a tampered record, a wrong head and a unit of the ledger's own are refused
with nothing written."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from dsr_analysis.cli import main
from dsr_analysis.draw.imports import (IMPORT_FORMAT, ImportRefusedError, import_draws,
                                       read_published)
from dsr_analysis.draw.ledger import entries, head, history_before, load_draw_tasks
from dsr_analysis.draw.verify import verify_ledger
from dsr_analysis.paths import PROJECT_ROOT

SOURCE = "中国福利彩票双色球第2023010期开奖号码（2023年1月20日开奖）"
MATERIAL = "03 09 12 18 25 31 / 07"
COUNTY_ISSUER = "雄县生态环境局"


def commit(registers: Path, ledger: Path, outputs: Path, *extra: str) -> int:
    return main(["commit", "--registers", str(registers), "--quarter", "2023Q1",
                 "--seed-source", SOURCE, "--seed-form", "numbers", "--date", "2023-01-13",
                 "--ledger", str(ledger), "--outputs", str(outputs), *extra])


def draw(registers: Path, ledger: Path, outputs: Path, *extra: str) -> int:
    return main(["draw", "--registers", str(registers), "--quarter", "2023Q1",
                 "--seed-material", MATERIAL, "--ledger", str(ledger), "--outputs", str(outputs),
                 *extra])


def area_draw(registers: Path, root: Path) -> dict:
    """The new-area level commits and draws 2023Q1 for itself alone; its public record."""
    ledger, outputs = root / "ledger.sqlite", root / "out"
    assert commit(registers, ledger, outputs, "--units", "xiongan") == 0
    assert draw(registers, ledger, outputs, "--units", "xiongan") == 0
    return json.loads(next(outputs.glob("draws/2023Q1/*/public/record.json")).read_text())


def county_usccs(bureau_quarter) -> set[str]:
    return set(bureau_quarter.tasks["uscc"])


@pytest.fixture(scope="module")
def area(bureau_quarter, tmp_path_factory):
    """The area level's own ledger: 雄县's draws imported (at 雄县's head), then its draw."""
    root = tmp_path_factory.mktemp("area")
    county_head = head(bureau_quarter.ledger)
    assert main(["import-draws", "--from", str(bureau_quarter.outputs), "--head", county_head,
                 "--ledger", str(root / "ledger.sqlite")]) == 0
    record = area_draw(bureau_quarter.registers, root)
    return root, record, county_head


def test_dsr_import_draws_prints_what_it_checked_and_imported(bureau_quarter, tmp_path, capsys):
    n = head(bureau_quarter.ledger).split(":")[0]
    assert main(["import-draws", "--from", str(bureau_quarter.outputs), "--head",
                 head(bureau_quarter.ledger), "--ledger", str(tmp_path / "l.sqlite")]) == 0
    out = capsys.readouterr().out
    assert f"第 {n} 条的哈希值与公布的账本头一致" in out
    assert "1 次抽取：所依据的此前有效抽取记录和承诺一致" in out
    row = next(line for line in out.splitlines() if COUNTY_ISSUER in line)
    assert row.split() == ["1", COUNTY_ISSUER, "2023Q1", "雄县", n,
                           str(len(bureau_quarter.tasks))]


def test_the_county_publishes_its_public_chain(bureau_quarter):
    """A draw writes the ledger's public chain: every entry's chained fields, and the
    published part of each record under its digest."""
    chain = json.loads((bureau_quarter.outputs / "ledger-public" / "chain.json").read_text())
    all_entries = entries(bureau_quarter.ledger)
    assert chain["head"] == head(bureau_quarter.ledger)
    assert [c["entry_hash"] for c in chain["entries"]] == [e.entry_hash for e in all_entries]
    draw_entry = all_entries[-1]
    published = bureau_quarter.outputs / "ledger-public" / chain["entries"][-1]["record"]
    # the draw's published record is the public record of its draw folder, byte for byte
    folder_record = next(bureau_quarter.outputs.glob("draws/2023Q1/*/public/record.json"))
    assert published.read_bytes() == folder_record.read_bytes()
    assert "team" not in published.read_text()  # public part: no inspector team
    assert draw_entry.record_sha256 in published.name
    # no inspector of the bureau is named anywhere in the public chain
    from dsr_analysis.policy import load_policy
    from dsr_analysis.registers import load_registers

    inspectors = load_registers(bureau_quarter.registers,
                                units=load_policy().unit_names).inspectors
    secrets = set(inspectors["name"]) | set(inspectors["inspector_id"])
    for path in (bureau_quarter.outputs / "ledger-public").rglob("*.json"):
        text = path.read_text(encoding="utf-8")
        assert not [x for x in secrets if x in text], path


def test_without_the_import_the_area_level_draws_firms_the_county_drew(bureau_quarter, tmp_path):
    record = area_draw(bureau_quarter.registers, tmp_path)
    drawn = {t["uscc"] for t in record["tasks"]}
    # with this seed the area level's key and special strata meet 雄县's draw twice
    assert drawn & county_usccs(bureau_quarter)
    assert not any(x for s in record["strata"] for x in s["excluded"])


def test_after_the_import_the_area_level_avoids_every_firm_the_county_drew(bureau_quarter, area):
    root, record, county_head = area
    county = county_usccs(bureau_quarter)
    drawn = {t["uscc"] for t in record["tasks"]}
    assert drawn and not drawn & county
    # every county-drawn firm among a stratum's candidates is excluded, naming 雄县's task
    task_of = dict(zip(bureau_quarter.tasks["uscc"], bureau_quarter.tasks["task_id"], strict=True))
    for s in record["strata"]:
        candidates = {c for cls in s["candidates"].values() for c in cls}
        assert {x[0] for x in s["excluded"]} == candidates & county
        for uscc, reason in s["excluded"]:
            assert reason == f"between_levels: drawn this quarter by {task_of[uscc]}"
    # the draw's history is 雄县's record, by the digest 雄县's ledger lists for it
    county_draw = entries(bureau_quarter.ledger)[-1]
    assert record["inputs"]["history"]["records"] == [county_draw.record_sha256]
    # the commitment fixes 雄县's head the record was imported at
    commitment = next(e for e in entries(root / "ledger.sqlite") if e.is_commitment)
    ledger_id = entries(bureau_quarter.ledger)[0].entry_hash
    assert commitment.record["inputs"]["foreign_heads"] == {
        ledger_id: {"head": county_head, "issuer": COUNTY_ISSUER}}


def test_the_area_ledger_verifies_and_its_draw_replays(area, capsys):
    root, record, _head = area
    assert verify_ledger(root / "ledger.sqlite") == []
    assert main(["verify", "--ledger", str(root / "ledger.sqlite"),
                 "--outputs", str(root / "out")]) == 0
    out = capsys.readouterr().out
    assert "chain and replay of every record" in out
    assert "1 draw(s) imported from other bureaus' ledgers" in out
    assert "earlier format" not in out
    # the standard-library replay of the area's public record re-applies the avoidance
    import subprocess
    import sys

    path = next((root / "out").glob("draws/2023Q1/*/public/record.json"))
    done = subprocess.run([sys.executable, str(PROJECT_ROOT / "scripts" / "replay_draw.py"),
                           str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_imported_tasks_for_the_statistics(bureau_quarter, area):
    root, _record, _head = area
    ledger = root / "ledger.sqlite"
    own = load_draw_tasks(ledger)
    assert set(own["unit"]) == {"xiongan"}
    both = load_draw_tasks(ledger, imported=True)
    county = both[both["unit"] == "xiongxian"]
    assert sorted(county["task_id"]) == sorted(bureau_quarter.tasks["task_id"])
    assert set(county["draw_key"]) == {"import:untargeted"}
    assert set(county["inspector_ids"]) == {""}  # public records: no team


def test_import_entries_hold_the_foreign_record_and_head(bureau_quarter, area):
    root, _record, county_head = area
    imports = [e for e in entries(root / "ledger.sqlite") if e.is_import]
    assert len(imports) == 1
    rec = imports[0].record
    county_draw = entries(bureau_quarter.ledger)[-1]
    assert rec["format"] == IMPORT_FORMAT
    assert rec["source"]["head"] == county_head
    assert rec["source"]["issuer"] == COUNTY_ISSUER
    assert rec["entry"]["entry_hash"] == county_draw.entry_hash
    assert imports[0].units == ("xiongxian",) and imports[0].quarter == "2023Q1"


def test_importing_the_same_head_again_writes_nothing(bureau_quarter, area, capsys):
    root, _record, county_head = area
    ledger = root / "ledger.sqlite"
    before = head(ledger)
    assert main(["import-draws", "--from", str(bureau_quarter.outputs), "--head", county_head,
                 "--ledger", str(ledger)]) == 0
    assert "no new draws" in capsys.readouterr().out
    assert head(ledger) == before


def _rows(ledger: Path) -> list:
    if not ledger.exists():
        return []
    with sqlite3.connect(ledger) as con:
        return con.execute("SELECT * FROM entries").fetchall()


def test_a_tampered_draw_folder_record_is_refused(bureau_copy, tmp_path, capsys):
    path = next(bureau_copy.outputs.glob("draws/2023Q1/*/public/record.json"))
    data = bytearray(path.read_bytes())
    i = data.index(b'"ticket":"') + len(b'"ticket":"')
    data[i] = ord("0") if data[i] != ord("0") else ord("1")  # one byte of one ticket
    path.write_bytes(bytes(data))
    ledger = tmp_path / "area.sqlite"
    code = main(["import-draws", "--from", str(bureau_copy.outputs), "--head",
                 head(bureau_copy.ledger), "--ledger", str(ledger)])
    err = capsys.readouterr().err
    assert code == 2
    assert f"{path}: SHA-256" in err and "is not the digest of any record" in err
    assert err.rstrip().endswith(f"nothing was written to {ledger}")
    assert not ledger.exists()


def test_a_tampered_published_record_is_refused(bureau_copy, tmp_path):
    chain = json.loads((bureau_copy.outputs / "ledger-public" / "chain.json").read_text())
    path = bureau_copy.outputs / "ledger-public" / chain["entries"][-1]["record"]
    data = bytearray(path.read_bytes())
    i = data.index(b'"uscc":"') + len(b'"uscc":"') + 17  # the check character of a USCC
    data[i] = ord("X") if data[i] != ord("X") else ord("Y")
    path.write_bytes(bytes(data))
    ledger = tmp_path / "area.sqlite"
    with pytest.raises(ImportRefusedError, match=r"for entry #2 \(record changed\)"):
        import_draws(ledger, bureau_copy.outputs, head(bureau_copy.ledger))
    assert not ledger.exists()


def test_a_record_rewritten_with_its_chain_is_refused(bureau_copy, tmp_path):
    """A forger who edits a drawn task and re-hashes the record and the chain cannot reach
    the published head."""
    from dsr_analysis.draw.ledger import entry_hash
    from dsr_analysis.draw.record import record_bytes

    pub = bureau_copy.outputs / "ledger-public"
    chain = json.loads((pub / "chain.json").read_text())
    last = chain["entries"][-1]
    record = json.loads((pub / last["record"]).read_text())
    record["tasks"][0]["uscc"], record["tasks"][1]["uscc"] = (record["tasks"][1]["uscc"],
                                                              record["tasks"][0]["uscc"])
    data = record_bytes(record)
    import hashlib

    last["record_sha256"] = hashlib.sha256(data).hexdigest()
    last["record"] = f"records/{last['record_sha256']}.json"
    (pub / last["record"]).write_bytes(data)
    last["entry_hash"] = entry_hash(*(last[k] for k in (
        "seq", "created_at", "quarter", "draw_key", "units", "redraw_of", "record_sha256",
        "prev_hash")))
    (pub / "chain.json").write_text(json.dumps(chain))
    shutil.rmtree(bureau_copy.outputs / "draws")
    with pytest.raises(ImportRefusedError, match=r"entry #2 of the published chain .* has "
                                                 r"hash [0-9a-f]{64}, not [0-9a-f]{64}"):
        import_draws(tmp_path / "area.sqlite", bureau_copy.outputs, head(bureau_copy.ledger))
    # against the forged head the replay refuses it: the tasks are not the draw's
    with pytest.raises(ImportRefusedError, match=r"entry #2: the object draw does not replay"):
        import_draws(tmp_path / "area.sqlite", bureau_copy.outputs, f"2:{last['entry_hash']}")
    assert not (tmp_path / "area.sqlite").exists()


def test_a_wrong_head_is_refused(bureau_quarter, tmp_path):
    ledger = tmp_path / "area.sqlite"
    n, h = head(bureau_quarter.ledger).split(":")
    with pytest.raises(ImportRefusedError, match=rf"entry #{n} .* has hash {h}, not {'f' * 64}"):
        import_draws(ledger, bureau_quarter.outputs, f"{n}:{'f' * 64}")
    with pytest.raises(ImportRefusedError, match=r"has 2 entries; the head names entry #5"):
        import_draws(ledger, bureau_quarter.outputs, f"5:{h}")
    assert not ledger.exists()


def test_a_unit_of_the_ledger_s_own_is_refused(bureau_copy, bureau_quarter):
    """雄县's ledger importing 雄县's draws (its own chain, or a copy of it) is refused."""
    before = _rows(bureau_copy.ledger)
    with pytest.raises(ImportRefusedError, match="this is the chain of the ledger"):
        import_draws(bureau_copy.ledger, bureau_quarter.outputs, head(bureau_quarter.ledger))
    assert _rows(bureau_copy.ledger) == before


def test_a_unit_committed_here_is_refused(bureau_quarter, tmp_path):
    """A ledger that committed 雄县 itself does not import 雄县's draws from another one."""
    ledger, outputs = tmp_path / "ledger.sqlite", tmp_path / "out"
    assert commit(bureau_quarter.registers, ledger, outputs, "--units", "xiongxian") == 0
    # a commitment publishes the chain too: the head its announcement prints can be imported
    chain = json.loads((outputs / "ledger-public" / "chain.json").read_text())
    assert chain["head"] == head(ledger)
    before = _rows(ledger)
    with pytest.raises(ImportRefusedError, match=r"draws unit xiongxian, which this ledger "
                                                 r"draws itself \(entry #1\)"):
        import_draws(ledger, bureau_quarter.outputs, head(bureau_quarter.ledger))
    assert _rows(ledger) == before


def test_a_commitment_of_an_imported_unit_is_refused(bureau_quarter, tmp_path, capsys):
    ledger = tmp_path / "ledger.sqlite"
    import_draws(ledger, bureau_quarter.outputs, head(bureau_quarter.ledger))
    before = _rows(ledger)
    # every unit of the policy: 雄县 among them
    assert commit(bureau_quarter.registers, ledger, tmp_path / "out") == 2
    assert "unit xiongxian: its draws are imported" in capsys.readouterr().err
    assert _rows(ledger) == before


def test_a_longer_head_imports_only_the_new_draw(bureau_copy, tmp_path):
    """雄县 draws again (a re-draw with its reason); the area level imports the longer head:
    only the new draw, which supersedes the first in the history of the area's next draw."""
    area_ledger = tmp_path / "area.sqlite"
    first = import_draws(area_ledger, bureau_copy.outputs, head(bureau_copy.ledger))
    assert len(first.imported) == 1
    reg, led, out = bureau_copy.registers, bureau_copy.ledger, bureau_copy.outputs
    today = dt.date.today().isoformat()  # 雄县's first commitment is dated today
    assert commit(reg, led, out, "--units", "xiongxian", "--reason", "抽取时录入的开奖号码有误",
                  "--date", today) == 0
    assert main(["draw", "--registers", str(reg), "--quarter", "2023Q1", "--seed-material",
                 "05 11 14 20 27 33 / 09", "--ledger", str(led), "--outputs", str(out),
                 "--units", "xiongxian", "--reason", "抽取时录入的开奖号码有误"]) == 0
    second = import_draws(area_ledger, out, head(led))
    assert second.present == [2]
    assert [e.record["entry"]["seq"] for e in second.imported] == [4]
    assert second.imported[0].redraw_of == first.imported[0].seq
    history = history_before(entries(area_ledger), None, "2023Q1", "untargeted", ["xiongan"])
    assert [r["sha256"] for r in history] == [entries(led)[-1].record_sha256]
    assert verify_ledger(area_ledger) == []
    # the earlier head still imports nothing new
    assert import_draws(area_ledger, out, first.published.head).imported == []


def test_dsr_export_publishes_the_chain(bureau_copy, tmp_path):
    stale = bureau_copy.outputs / "ledger-public" / "records" / f"{'0' * 64}.json"
    stale.write_text("{}")  # a record of a ledger this one replaced
    assert main(["export", "--ledger", str(bureau_copy.ledger),
                 "--outputs", str(bureau_copy.outputs)]) == 0
    assert not stale.exists()
    shutil.rmtree(bureau_copy.outputs / "ledger-public")
    assert main(["export", "--ledger", str(bureau_copy.ledger),
                 "--outputs", str(bureau_copy.outputs)]) == 0
    published = read_published(bureau_copy.outputs, head(bureau_copy.ledger))
    assert [e.entry_hash for e in published.entries] == [
        e.entry_hash for e in entries(bureau_copy.ledger)]
    # the ledger-public folder alone is enough to import from
    alone = tmp_path / "handed-over"
    shutil.copytree(bureau_copy.outputs / "ledger-public", alone)
    assert len(import_draws(tmp_path / "a.sqlite", alone, head(bureau_copy.ledger)).imported) == 1


def test_verify_finds_an_edited_import_entry(bureau_quarter, area, tmp_path):
    root, _record, _head = area
    ledger = tmp_path / "ledger.sqlite"
    shutil.copy(root / "ledger.sqlite", ledger)
    with sqlite3.connect(ledger) as con:
        (text,) = con.execute("SELECT record_json FROM entries WHERE seq = 1").fetchone()
        con.execute("UPDATE entries SET record_json = ? WHERE seq = 1",
                    (text.replace('"credit_class": "B"', '"credit_class": "A"', 1),))
    findings = [str(f) for f in verify_ledger(ledger, replay=False)]
    assert any("record #1" in f and "record_sha256" in f for f in findings)


def test_the_announcement_names_the_imported_head(area):
    root, _record, county_head = area
    n, h = county_head.split(":")
    page = next((root / "out").glob("draws/2023Q1/*/public/announcement-2.html"))
    text = page.read_text(encoding="utf-8")
    assert f"其中包括导入的{COUNTY_ISSUER}抽取记录，截至其账本第{n}条（哈希值{h}）" in text


def test_the_area_level_statistics_count_the_imported_draws(bureau_quarter, area, tmp_path):
    """The quarter's statistics table of the area ledger: 雄县's tasks drawn (imported),
    beside the area level's own, read with the area level's results register."""
    from dsr_analysis import reports

    root, record, _head = area
    ledger = root / "ledger.sqlite"
    assert main(["results", "template", "--quarter", "2023Q1", "--ledger", str(ledger),
                 "--outputs", str(tmp_path)]) == 0
    template = next(tmp_path.glob("2023Q1/results-template-*.xlsx"))
    inputs = reports.load_report_inputs("2023Q1", ledger=str(ledger), results=str(template))
    table = reports.statistics_table(inputs, units=["xiongan", "xiongxian"])
    assert table.loc["雄县", "tasks_drawn"] == len(bureau_quarter.tasks)
    assert table.loc["新区本级", "tasks_drawn"] == len(record["tasks"])


def test_under_merge_the_area_level_joins_the_county_s_visit(bureau_quarter, tmp_path):
    """With ``between_levels: merge`` the area level's task of a firm 雄县 drew (imported)
    names 雄县's task as the one joint visit; every other area task names none."""
    from dsr_analysis.paths import DEFAULT_POLICY

    text = Path(DEFAULT_POLICY).read_text(encoding="utf-8")
    assert text.count("between_levels: avoid") == 1
    policy = tmp_path / "xiongan-2023-merge.yaml"
    policy.write_text(text.replace("between_levels: avoid", "between_levels: merge"),
                      encoding="utf-8")
    ledger, outputs = tmp_path / "ledger.sqlite", tmp_path / "out"
    import_draws(ledger, bureau_quarter.outputs, head(bureau_quarter.ledger))
    extra = ("--units", "xiongan", "--policy", str(policy))
    assert commit(bureau_quarter.registers, ledger, outputs, *extra) == 0
    assert draw(bureau_quarter.registers, ledger, outputs, *extra) == 0
    record = json.loads(next(outputs.glob("draws/2023Q1/*/public/record.json")).read_text())
    task_of = dict(zip(bureau_quarter.tasks["uscc"], bureau_quarter.tasks["task_id"], strict=True))
    merged = {t["uscc"]: t["merged_with"] for t in record["tasks"]}
    assert merged == {u: task_of.get(u, "") for u in merged}
    assert any(merged.values())  # this seed: the area level meets 雄县's draw
    assert verify_ledger(ledger) == []


def test_an_import_after_the_commitment_refuses_the_draw(bureau_quarter, tmp_path, capsys):
    """The commitment fixed a history without 雄县's draw: importing it afterwards changes the
    history, and the draw is refused until a new commitment is published."""
    ledger, outputs = tmp_path / "ledger.sqlite", tmp_path / "out"
    assert commit(bureau_quarter.registers, ledger, outputs, "--units", "xiongan") == 0
    import_draws(ledger, bureau_quarter.outputs, head(bureau_quarter.ledger))
    capsys.readouterr()
    assert draw(bureau_quarter.registers, ledger, outputs, "--units", "xiongan") == 2
    assert "the overlap history changed since commitment #1" in capsys.readouterr().err
    assert [e.is_import for e in entries(ledger)] == [False, True]


def test_verify_finds_an_imported_record_rewritten_with_the_chain(area, tmp_path):
    """A forger who changes the imported record and re-hashes this ledger's chain is caught:
    the record is not the one 雄县's (kept) chain lists."""
    import hashlib

    from dsr_analysis.draw.ledger import GENESIS, entry_hash
    from dsr_analysis.draw.record import record_bytes, record_sha256

    root, _record, _head = area
    ledger = tmp_path / "ledger.sqlite"
    shutil.copy(root / "ledger.sqlite", ledger)
    rows = entries(ledger)
    forged = rows[0].record
    forged["record"]["tasks"].pop()  # one task of 雄县's draw dropped
    prev = GENESIS
    with sqlite3.connect(ledger) as con:
        for e in rows:
            rec = forged if e.seq == 1 else e.record
            text = record_bytes(rec).decode() if e.seq == 1 else e.record_json
            sha = record_sha256(rec) if e.seq == 1 else e.record_sha256
            h = entry_hash(e.seq, e.created_at, e.quarter, e.draw_key, ",".join(e.units),
                           e.redraw_of, sha, prev)
            con.execute("UPDATE entries SET record_json = ?, record_sha256 = ?, prev_hash = ?, "
                        "entry_hash = ? WHERE seq = ?", (text, sha, prev, h, e.seq))
            prev = h
    findings = [str(f) for f in verify_ledger(ledger)]
    sha = hashlib.sha256(record_bytes(forged["record"])).hexdigest()
    assert f"record #1 (2023Q1): field 'record': the imported record hashes to {sha}" in \
        "\n".join(findings)
