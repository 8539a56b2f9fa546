"""Amended plans (R8): an amendment refused for a drawn quarter, accepted for a later one,
published with its changes, and the next commitment using it (and refusing the old plan)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import sqlite3
from pathlib import Path

import docx
import pytest

from dsr_analysis.amendments import (PlanError, amend_plan, plan_in_force, policy_changes,
                                     publish_plan, publish_plan_documents, record_amendment,
                                     record_plan, revision_stem)
from dsr_analysis.cli import main
from dsr_analysis.draw import commit_quarter, draw_and_record
from dsr_analysis.draw.ledger import entries
from dsr_analysis.draw.protocol import ProtocolError
from dsr_analysis.draw.verify import verify_ledger
from dsr_analysis.itemlist import DocumentDateError
from dsr_analysis.paths import PROJECT_ROOT
from dsr_analysis.policy import load_policy
from dsr_analysis.registers import load_registers

from bureau import QUARTER, SEED_MATERIAL, SEED_SOURCE, UNIT

AMENDED = PROJECT_ROOT / "parameters" / "amendments" / "xiongan-2023-r1.yaml"
REASON = "根据上级部门要求，提高县级重点监管对象的季度抽查比例"


def _amended(tmp_path: Path, old: str, new: str) -> Path:
    """A copy of the 2023 plan with one text replaced (a real policy file)."""
    text = Path(load_policy().path).read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "amended.yaml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def _docx_text(path: Path) -> str:
    d = docx.Document(str(path))
    cells = [c.text for t in d.tables for row in t.rows for c in row.cells]
    return "\n".join([p.text for p in d.paragraphs] + cells)


def test_the_changes_are_listed_in_chinese_by_rule(tmp_path):
    old = load_policy()
    new = load_policy(_amended(tmp_path, "internal_min_share: 0.30", "internal_min_share: 0.35"))
    changes = policy_changes(old, load_policy(AMENDED))
    assert [c["part"] for c in changes] == ["quota"]
    assert changes[0]["subject"] == "县级重点监管对象（全部）最低抽查频次"
    assert "不低于25%" in changes[0]["before"] and "不低于30%" in changes[0]["after"]
    assert policy_changes(old, new) == [{
        "part": "joint", "subject": "内部联合抽查最低占比", "before": "30%", "after": "35%",
        "text": "内部联合抽查最低占比由30%调整为35%"}]


def test_an_amendment_is_refused_for_a_drawn_quarter_and_accepted_for_a_later_one(
        bureau_copy):
    ledger = bureau_copy.ledger
    before = entries(ledger)
    amended = load_policy(AMENDED)
    with pytest.raises(PlanError, match=r"2023Q1 was already committed .*entry #1.*"
                                        r"starts 2023-04-01. Nothing was written"):
        amend_plan(amended, ledger, REASON, "2023-03-15", "2023-03-01")
    assert entries(ledger) == before  # nothing written
    rev = amend_plan(amended, ledger, REASON, "2023-04-03", "2023-03-31")
    assert (rev.revision, rev.effective_quarter.label, rev.date) == (1, "2023Q2",
                                                                     dt.date(2023, 3, 31))
    assert rev.previous_sha256 == load_policy().sha256
    assert rev.policy_sha256 == amended.sha256
    entry = entries(ledger)[-1]
    assert (entry.draw_key, entry.quarter, entry.is_draw) == ("amendment:1", "2023Q2", False)
    assert entry.record["reason"] == REASON
    assert plan_in_force(ledger, "2023Q1").revision.revision == 0
    in_force = plan_in_force(ledger, dt.date(2023, 5, 1))
    assert in_force.sha256 == amended.sha256 and in_force.policy().id == amended.id
    # the next commitment: the old plan refused, naming the plan in force
    registers = load_registers(bureau_copy.registers, units=amended.unit_names)
    with pytest.raises(ProtocolError, match=r"not the plan in force for 2023Q2: that is "
                                            r"第1次调整 \(ledger entry #3"):
        commit_quarter(load_policy(), registers, "2023Q2", SEED_SOURCE, ledger,
                       bureau_copy.outputs, units=[UNIT], seed_form="numbers")
    record, _e, _p = commit_quarter(amended, registers, "2023Q2", SEED_SOURCE, ledger,
                                    bureau_copy.outputs, units=[UNIT], seed_form="numbers")
    assert record["inputs"]["policy_sha256"] == amended.sha256
    key = [r for r in record["quotas"] if r["stratum"] == "key/all"][0]
    assert key["quota"] == -(-key["population"] * 30 // 100)  # 30 %, rounded up
    result, drawn, _paths = draw_and_record(amended, registers, "2023Q2", SEED_MATERIAL, ledger,
                                            bureau_copy.outputs, units=[UNIT],
                                            registers_dir=bureau_copy.registers)
    assert drawn.record["inputs"]["policy_sha256"] == amended.sha256
    assert not verify_ledger(ledger)
    # a second amendment for the quarter just drawn is refused as well
    with pytest.raises(PlanError, match="2023Q2 was already committed"):
        amend_plan(load_policy(), ledger, "撤销调整", "2023-06-01", "2023-05-31")


def test_refusals_write_nothing(bureau_copy, tmp_path):
    ledger = bureau_copy.ledger
    before = entries(ledger)
    policy = load_policy()
    with pytest.raises(PlanError, match="nothing changed"):
        amend_plan(policy, ledger, REASON, "2023-07-03", "2023-06-30")
    with pytest.raises(PlanError, match="takes effect within its year"):
        amend_plan(load_policy(AMENDED), ledger, REASON, "2024-01-02", "2023-06-30")
    with pytest.raises(PlanError, match="never applies retroactively"):
        amend_plan(load_policy(AMENDED), ledger, REASON, "2023-07-03", "2023-07-04")
    with pytest.raises(PlanError, match="--reason is empty"):
        amend_plan(load_policy(AMENDED), ledger, "  ", "2023-07-03", "2023-06-30")
    with pytest.raises(DocumentDateError, match="2023-06-22 is not a working day"):
        amend_plan(load_policy(AMENDED), ledger, REASON, "2023-07-03", "2023-06-22")  # 端午节
    with pytest.raises(PlanError, match="no 2023 plan is recorded or committed"):
        amend_plan(load_policy(AMENDED), tmp_path / "empty.sqlite", REASON, "2023-07-03",
                   "2023-06-30")
    assert entries(ledger) == before


def test_the_plan_and_its_amendment_are_published_side_by_side(tmp_path, registers):
    ledger = tmp_path / "out" / "ledger.sqlite"
    out = tmp_path / "out"
    with pytest.raises(DocumentDateError, match="2023-01-02 is not a working day"):
        publish_plan(load_policy(), ledger, "2023-01-02")  # 元旦 (observed)
    rev0, files0 = record_plan(load_policy(), ledger, out, "2023-01-03", items=registers.items)
    with pytest.raises(PlanError, match="already recorded"):
        publish_plan(load_policy(), ledger, "2023-01-04")
    rev1, files1 = record_amendment(load_policy(AMENDED), ledger, out, REASON, "2023-07-01",
                                    "2023-06-20", items=registers.items)
    folder = out / "plan" / "2023"
    original = folder / f"{revision_stem(2023, 0)}.docx"
    amendment = folder / f"{revision_stem(2023, 1)}.docx"
    assert original in files0 and amendment in files1 and original not in files1
    text0 = _docx_text(original)
    assert "2023年度“双随机、一公开”抽查计划" in text0 and "2023年1月3日" in text0
    assert "附件：随机抽查事项清单" in text0 and "XA-SX-002" in text0  # a 附件 of the plan
    text1 = _docx_text(amendment)
    for expected in ("（第1次调整）", "一、调整说明", REASON, "2023年6月20日", "2023年7月1日",
                     "2023年第三季度", "县级重点监管对象（全部）最低抽查频次", "每季度随机抽取不低于30%"):
        assert expected in text1, expected
    listing = json.loads((folder / "revisions.json").read_text(encoding="utf-8"))
    assert [(r["revision"], r["date"]) for r in listing["revisions"]] == [
        (0, "2023-01-03"), (1, "2023-06-20")]
    # published documents are never written again (never re-dated)
    stamp = original.stat().st_mtime_ns, amendment.stat().st_mtime_ns
    assert publish_plan_documents(ledger, out, 2023) == [folder / "revisions.json"]
    assert (original.stat().st_mtime_ns, amendment.stat().st_mtime_ns) == stamp
    assert not verify_ledger(ledger)


def test_verify_finds_a_changed_plan_blob(tmp_path):
    ledger = tmp_path / "ledger.sqlite"
    publish_plan(load_policy(), ledger, "2023-01-03")
    amend_plan(load_policy(AMENDED), ledger, REASON, "2023-07-03", "2023-06-30")
    with sqlite3.connect(ledger) as con:
        con.execute("UPDATE blobs SET bytes = ? WHERE sha256 = ?",
                    (AMENDED.read_bytes() + b"\n# edited\n", load_policy(AMENDED).sha256))
    findings = [str(f) for f in verify_ledger(ledger)]
    assert any("record #2 (2023Q3): field 'policy_sha256'" in f and "blob missing or altered"
               in f for f in findings), findings


def test_dsr_plan_amend_on_the_command_line(tmp_path, capsys):
    ledger = tmp_path / "ledger.sqlite"
    assert main(["plan", "publish", "--date", "2023-01-03", "--ledger", str(ledger)]) == 0
    assert main(["plan", "amend", "--policy", str(AMENDED), "--reason", REASON,
                 "--effective", "2023-07-01", "--date", "2023-06-20",
                 "--ledger", str(ledger)]) == 0
    out = capsys.readouterr().out
    assert "第1次调整: ledger entry #2" in out and "change: 县级重点监管对象" in out
    assert (tmp_path / "plan" / "2023" / "annual_plan-2023-r1.pdf").is_file()
    assert main(["plan", "amend", "--policy", str(AMENDED), "--reason", REASON,
                 "--effective", "2023-07-01", "--date", "2023-06-21",
                 "--ledger", str(ledger)]) == 2
    assert "nothing changed" in capsys.readouterr().err
    assert main(["plan", "show", "--year", "2023", "--ledger", str(ledger)]) == 0
    shown = capsys.readouterr().out
    assert "原计划" in shown and "第1次调整" in shown and "2023Q3" in shown and REASON in shown


def test_the_bureau_quarter_was_drawn_under_its_first_commitments_plan(bureau_quarter):
    rev = plan_in_force(bureau_quarter.ledger, QUARTER).revision
    assert (rev.revision, rev.recorded, rev.date) == (0, False, None)
    assert rev.policy_sha256 == load_policy().sha256


def test_the_rendered_annual_plan_is_the_revision_in_force_and_keeps_its_date(tmp_path):
    from dsr_analysis.amendments import annual_plan_edition
    from dsr_analysis.documents import to_html
    from dsr_analysis.periods import Quarter
    from dsr_analysis.reports import load_report_inputs

    ledger = tmp_path / "ledger.sqlite"
    inputs = load_report_inputs("2023Q1")  # the demo draws: no ledger of their own
    before = annual_plan_edition(inputs, UNIT, ledger)  # nothing recorded yet
    assert before.date == dt.date(2023, 1, 3)  # the first working day, never 1 January
    publish_plan(load_policy(), ledger, "2023-01-04")
    amend_plan(load_policy(AMENDED), ledger, REASON, "2023-07-01", "2023-06-20")
    q3 = dataclasses.replace(inputs, quarter=Quarter.parse("2023Q3"))
    first, third = annual_plan_edition(inputs, UNIT, ledger), annual_plan_edition(q3, UNIT, ledger)
    assert (first.date, first.title[-4:]) == (dt.date(2023, 1, 4), "抽查计划")
    assert (third.date, third.title[-7:]) == (dt.date(2023, 6, 20), "（第1次调整）")
    html3 = to_html(third)
    assert f"调整说明：{REASON}" in html3 and "账本第2条" in html3
    table = [b for b in third.blocks if getattr(b, "title", "") == "表1 各季度最低抽查数量"][0]
    assert sorted(set(table.frame["最低比例"])) == [0.03, 0.3, 0.5, 1.0]  # county key: 30 %
    assert "账本第1条" in to_html(first)
    # a later amendment (effective 2023Q4) leaves the 2023Q3 edition as it was
    amend_plan(load_policy(_amended(tmp_path, "internal_min_share: 0.30",
                                     "internal_min_share: 0.35")),
               ledger, "内部联合抽查比例提高", "2023-10-09", "2023-09-28")
    assert to_html(annual_plan_edition(q3, UNIT, ledger)) == html3


def test_verify_finds_an_amendment_of_a_quarter_already_drawn(bureau_copy):
    from dsr_analysis.draw.ledger import append, put_blob

    ledger = bureau_copy.ledger
    amend_plan(load_policy(AMENDED), ledger, REASON, "2023-04-03", "2023-03-31")
    forged = dict(entries(ledger)[-1].record)  # the same amendment, back-dated into 2023Q1
    forged.update(effective="2023-02-01", quarter="2023Q1", draw_key="amendment:2",
                  revision=2, previous_sha256=forged["policy_sha256"])
    forged["ledger_head"] = f"{len(entries(ledger))}:{entries(ledger)[-1].entry_hash}"
    put_blob(ledger, AMENDED.read_bytes())
    append(ledger, forged)
    findings = [str(f) for f in verify_ledger(ledger, replay=True)]
    assert any("field 'effective': 2023Q1 was committed or drawn (entry #1)" in f
               for f in findings), findings
    assert any("field 'changes'" in f for f in findings), findings  # nothing changed r1 -> r2
