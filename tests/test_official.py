"""The official documents' content: the cut-off rule (数据截止日期), the positive-list column,
the notice of a month after the policy year, demo data marked, no developer artefacts in any
official text, and the render's prepared inputs."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

import pandas as pd
import pytest

from dsr_analysis import official, reports
from dsr_analysis.documents.model import Figure, Heading, Paragraph, Table
from dsr_analysis.errors import ParameterError
from dsr_analysis.workcalendar import statistics_due


@pytest.fixture(scope="module")
def q1():
    return reports.load_report_inputs("2023Q1")


@pytest.fixture(scope="module")
def january():
    return reports.load_report_inputs("2023Q1", month="2024-01")


def _count(inputs, unit, as_of, column):
    """Direct count from the registers of the unit's Q1 tasks known by ``as_of``."""
    tasks = inputs.tasks[(inputs.tasks["unit"] == unit) & (inputs.tasks["quarter"] == "2023Q1")]
    res = inputs.results[inputs.results["task_id"].isin(tasks["task_id"])]
    known = res[[d <= as_of for d in res["date_checked"]]]
    if column == "checks":
        return len(known)
    return sum(1 for d in known["date_published"] if d is not None and not pd.isna(d)
               and d <= as_of)


def test_statistics_count_only_what_was_known_by_the_deadline(q1):
    due = statistics_due(q1.quarter, q1.policy, q1.calendar)
    doc = official.statistics_document(q1, "xiongxian")
    assert doc.as_of == due
    row = doc.table.frame.iloc[0]
    published = row[("结果公开", "已公开")]
    assert published == _count(q1, "xiongxian", due, "published")
    everything = reports.statistics_table(q1, ["xiongxian"]).iloc[0]["results_published"]
    assert published < everything  # results published after the deadline are not counted
    assert not any("晚于报送时限" in n for n in doc.notes)


def test_a_later_cut_off_counts_more_and_says_so(q1):
    later = dt.date(2023, 6, 30)
    doc = official.statistics_document(q1, "xiongxian", as_of=later)
    row = doc.table.frame.iloc[0]
    assert row[("结果公开", "已公开")] == _count(q1, "xiongxian", later, "published")
    assert row[("完成抽查（次）", "合计")] == _count(q1, "xiongxian", later, "checks")
    assert any("晚于报送时限" in n for n in doc.notes)
    assert doc.as_of == later


def test_positive_list_column_counts_general_objects_on_the_list(q1):
    ent = q1.classified[q1.classified["unit"] == "rongcheng"]
    row = reports.statistics_table(q1, ["rongcheng"]).iloc[0]
    general_on_list = int((ent["positive_list"] & (ent["category"] == "general")).sum())
    assert row["objects_positive_list"] == general_on_list
    assert row["objects_positive_list"] <= row["objects_general"]


def test_january_notice_carries_decembers_checks(january):
    assert january.quarter.label == "2023Q4"  # the policy year's tasks up to its end
    doc = official.notice_document(january, "xiongxian", 2024, 1)
    table = doc.table.frame
    tasks = january.tasks[january.tasks["unit"] == "xiongxian"]
    res = january.results[january.results["task_id"].isin(tasks["task_id"])]
    expected = sum(1 for d, c in zip(res["date_published"], res["confidential"], strict=True)
                   if d is not None and not pd.isna(d) and (d.year, d.month) == (2024, 1)
                   and not c)
    assert len(table) == expected > 0
    assert all(d.year == 2023 for d in table["检查日期"])
    assert doc.title.startswith("雄县2024年1月")
    assert doc.public and not doc.signatures


def test_a_month_before_the_policy_year_is_refused():
    with pytest.raises(ParameterError, match="precedes the policy year"):
        reports.load_report_inputs("2023Q1", month="2022-12")


# --------------------------------------------------------------------------------------
# Official text only
# --------------------------------------------------------------------------------------
ARTEFACTS = re.compile(r"\bR\d+\b|\.sqlite|\.csv|\.ipynb|\bdsr |Unnamed|level_\d|\bindex\b|"
                       r"\bNaN\b|\bnan\b|\bNone\b|\bTrue\b|\bFalse\b|_zh\b|[A-Za-z]+_[A-Za-z]+")


def _texts(doc):
    """Every string a reader sees in a document."""
    out = [doc.title]
    for name in ("issuer", "recipient", "number", "unit", "period"):
        out.append(str(getattr(doc, name, "") or ""))
    out += list(getattr(doc, "notes", ()))
    blocks = list(getattr(doc, "blocks", ())) + [getattr(doc, "table", None)]
    for b in blocks:
        if isinstance(b, (Heading, Paragraph)):
            out.append(b.text)
        elif isinstance(b, Figure):
            out.append(b.caption)
        elif isinstance(b, Table):
            out += [b.title, b.note]
            out += [" ".join(map(str, c)) if isinstance(c, tuple) else str(c)
                    for c in b.frame.columns]
            out += [str(v) for v in b.frame.to_numpy().ravel() if isinstance(v, str)]
    return out


@pytest.mark.parametrize("report", ["statistics", "summary", "evaluation", "annual_plan",
                                    "notice"])
def test_no_developer_artefacts_in_official_text(q1, report):
    unit = "xiongan" if report == "evaluation" else "xiongxian"
    if report == "notice":
        doc = official.notice_document(q1, unit, 2023, 2)
    else:
        doc = getattr(official, f"{report}_document")(q1, unit)
    texts = _texts(doc)
    bad = [t for t in texts if ARTEFACTS.search(t)]
    assert not bad, bad[:5]
    assert not [t for t in texts if re.search(r"\d{4}年0\d月|月0\d日", t)]  # no zero padding
    assert doc.demo  # built from the demo data: every page says so


def test_rule_ids_live_in_the_appendix_only(q1):
    doc = official.summary_document(q1, "xiongxian")
    appendix = " ".join(_texts(dataclasses.replace(doc, blocks=doc.appendix)))
    assert "分类确定抽查频次" in appendix
    assert "分类确定抽查频次" not in " ".join(_texts(dataclasses.replace(doc, appendix=())))


def test_a_sentence_whose_count_is_zero_is_left_out(q1):
    quiet = dataclasses.replace(q1, results=q1.results.assign(confidential=False))
    doc = official.notice_document(quiet, "xiongxian", 2023, 2)
    assert not any("不予公开" in n for n in doc.notes)
    loud = official.notice_document(q1, "xiongxian", 2023, 3)
    withheld = reports.results_notice(q1, "xiongxian", 2023, 3).withheld
    assert any(f"{withheld}条" in n for n in loud.notes) == (withheld > 0)


def test_documents_from_a_ledger_are_not_marked_demo(q1):
    real = dataclasses.replace(q1, ledger_head="3:" + "a" * 64)
    assert not official.statistics_document(real, "xiongxian").demo
    assert not official.summary_document(real, "xiongxian").demo


# --------------------------------------------------------------------------------------
# Prepared inputs (read and validated once per render)
# --------------------------------------------------------------------------------------
def test_prepared_inputs_round_trip_and_refuse_other_arguments(tmp_path):
    path = tmp_path / "inputs.pkl"
    made = reports.prepare_report_inputs(path, "2023Q2")
    loaded = reports.load_report_inputs("2023Q2", prepared=str(path))
    pd.testing.assert_frame_equal(loaded.tasks, made.tasks)
    pd.testing.assert_frame_equal(loaded.results, made.results)
    assert loaded.quarter == made.quarter
    with pytest.raises(ParameterError, match="made for other arguments"):
        reports.load_report_inputs("2023Q3", prepared=str(path))
    with pytest.raises(ParameterError, match="cannot be read"):
        reports.load_report_inputs("2023Q2", prepared=str(tmp_path / "missing.pkl"))


def test_no_developer_artefacts_in_the_written_files(q1, tmp_path):
    """The DOCX, PDF and XLSX files themselves (what a bureau sends) carry no rule id, file
    name, code or pandas artefact, and no zero-padded date."""
    import subprocess

    from docx import Document
    from openpyxl import load_workbook

    from dsr_analysis.documents import write_forms

    docs = {"summary": official.summary_document(q1, "xiongxian"),
            "evaluation": official.evaluation_document(q1, "xiongan"),
            "annual_plan": official.annual_plan_document(q1, "anxin"),
            "statistics": official.statistics_document(q1, "xiongan"),
            "notice": official.notice_document(q1, "rongcheng", 2023, 3)}
    for name, doc in docs.items():
        for path in write_forms(doc, tmp_path / name):
            if path.suffix == ".docx":
                d = Document(path)
                text = "\n".join([p.text for p in d.paragraphs]
                                 + [c.text for t in d.tables for r in t.rows for c in r.cells])
                body = text.split("各项内容依据的实施方案条款")[0]  # the appendix may cite clauses
            elif path.suffix == ".pdf":
                text = subprocess.run(["pdftotext", "-layout", str(path), "-"],
                                      capture_output=True, text=True, check=True).stdout
                body = text
            else:
                ws = load_workbook(path).active
                text = "\n".join(str(c.value) for row in ws.iter_rows() for c in row
                                 if c.value is not None)
                body = text
            assert "演示数据" in text, path.name
            bad = ARTEFACTS.findall(body)
            assert not bad, (path.name, bad[:5])
            assert not re.search(r"\d{4}年0\d月|月0\d日", text), path.name
