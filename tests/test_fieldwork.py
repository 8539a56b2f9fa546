"""Field work after the draw (``dsr tasks``): the teams' task sheets (DOCX, PDF) and the
printable task list (XLSX, PDF), on a county bureau's own registers (tests/bureau.py) drawn
into a real ledger; the optional register columns 详细地址 / 联系电话 / 法定代表人 never enter
the canonical frame."""

from __future__ import annotations

import re
import subprocess

import docx
import pandas as pd
import pytest
from openpyxl import load_workbook

from dsr_analysis.cli import main
from dsr_analysis.documents.xlsx import fit_to_width_scale
from dsr_analysis.draw.record import canonical_frame_bytes
from dsr_analysis.schema import CONTACT_COLUMNS, FRAME_COLUMNS, SCHEMAS

SIGN_OFF = ("检查人员（签字）", "被检查单位意见及负责人（签字）", "日期")


def _docx_text(path) -> str:
    d = docx.Document(str(path))
    parts = [p.text for p in d.paragraphs]
    for table in d.tables:
        parts += [c.text for row in table.rows for c in row.cells]
    return "\n".join(parts)


def _folder(quarter_, out):
    return out / "draws" / quarter_.quarter / quarter_.unit / "internal" / "task-sheets" / \
        quarter_.unit


@pytest.fixture(scope="module")
def written(bureau_quarter, tmp_path_factory):
    out = tmp_path_factory.mktemp("fieldwork")
    rc = main(["tasks", "--quarter", bureau_quarter.quarter, "--ledger",
               str(bureau_quarter.ledger), "--outputs", str(out)])
    return rc, _folder(bureau_quarter, out)


def test_task_sheets_carry_contacts_legal_basis_and_sign_off(bureau_quarter, written):
    rc, folder = written
    assert rc == 0
    tasks = bureau_quarter.tasks
    firms = pd.read_excel(bureau_quarter.registers / "enterprises.xlsx", header=1, dtype=str)
    first = firms.set_index("统一社会信用代码").loc[tasks["uscc"].iloc[0]]
    text = _docx_text(folder / "task-sheets.docx")
    for label in SIGN_OFF:
        assert label in text
    assert text.count(SIGN_OFF[1]) == len(tasks)  # every task signed on its own
    assert first["详细地址"] in text and first["联系电话"] in text and first["法定代表人"] in text
    assert "《中华人民共和国大气污染防治法》" in text  # the items' legal basis
    assert "内部联合抽查" in text and ("现场检查" in text)
    header = docx.Document(str(folder / "task-sheets.docx")).sections[0].header
    assert "内部资料 注意保密" in "".join(p.text for p in header.paragraphs)
    pdf = subprocess.run(["pdftotext", "-layout", str(folder / "task-sheets.pdf"), "-"],
                         capture_output=True, text=True, check=True).stdout
    for label in SIGN_OFF:
        assert label in pdf
    assert pdf.count(SIGN_OFF[1]) == len(tasks)
    assert pdf.count("内部资料 注意保密") >= len(tasks)  # on every page
    assert first["联系电话"] in pdf and first["法定代表人"] in pdf
    assert first["详细地址"][:10] in pdf  # (a long address may wrap)
    # English values, codes of the regime and tickets never reach the sheets
    for bad in ("onsite", "key/all", "internal joint", "general_enforcement", "routine"):
        assert bad not in text and bad not in pdf


def test_one_section_per_team_each_task_on_its_own_page(bureau_quarter, written):
    _, folder = written
    tasks = bureau_quarter.tasks
    teams = {tuple(sorted(s.split(";"))) for s in tasks["inspector_ids"]}
    text = _docx_text(folder / "task-sheets.docx")
    headings = re.findall(r"第(\d+)组　检查任务(\d+)/(\d+)", text)
    assert len(headings) == len(tasks)
    assert {int(n) for n, _, _ in headings} == set(range(1, len(teams) + 1))
    d = docx.Document(str(folder / "task-sheets.docx"))
    w = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
    breaks = sum(1 for p in d.paragraphs for r in p.runs for br in r._r.findall(f"{w}br")
                 if br.get(f"{w}type") == "page")  # page breaks (a title's line breaks aside)
    assert breaks == len(tasks)
    pages = subprocess.run(["pdfinfo", str(folder / "task-sheets.pdf")], capture_output=True,
                           text=True, check=True).stdout
    assert int(re.search(r"Pages:\s+(\d+)", pages).group(1)) > len(tasks)


def test_task_list_prints_legibly_with_chinese_values_only(bureau_quarter, written):
    _, folder = written
    ws = load_workbook(folder / "task-list.xlsx").active
    setup = ws.page_setup
    assert setup.orientation == "landscape" and int(setup.paperSize) == 9  # A4
    assert setup.fitToWidth == 1
    # the scale Excel computes from the column widths for one page wide, and the one written
    assert fit_to_width_scale(ws) >= 70 and int(setup.scale) == fit_to_width_scale(ws)
    values = [v for row in ws.iter_rows(values_only=True) for v in row if v is not None]
    texts = [str(v) for v in values]
    header = next(r for r in ws.iter_rows(values_only=True) if r[0] == "序号")
    assert "检查组" in header and "任务编号" in header and "检查人员" in header
    assert not [t for t in texts if re.fullmatch(r"[0-9a-f]{64}", t)]  # no tickets
    assert not [v for v in values if isinstance(v, float)]  # no raw probabilities
    assert not [t for t in texts if re.search(r"0\.\d{4,}", t)]
    for bad in ("onsite", "offsite", "technology", "key/all", "internal", "routine", "county",
                "untargeted"):
        assert not [t for t in texts if bad in t], bad
    tasks = bureau_quarter.tasks
    assert set(tasks["task_id"]) <= set(texts)
    groups = [r[1] for r in ws.iter_rows(values_only=True) if isinstance(r[0], int)]
    assert len(groups) == len(tasks) and groups == sorted(groups, key=lambda g: int(g[1:-1]))
    assert any("编制人" in t for t in texts) and any("审核人" in t for t in texts)
    pdf = subprocess.run(["pdftotext", "-layout", str(folder / "task-list.pdf"), "-"],
                         capture_output=True, text=True, check=True).stdout
    assert "抽查任务清单" in pdf and "编制人" in pdf
    assert ws.oddHeader.left.text == "内部资料 注意保密"  # on every printed page
    assert pdf.count("内部资料 注意保密") >= 2


def test_contact_columns_are_optional_and_outside_the_canonical_frame(bureau_quarter,
                                                                      tmp_path):
    """A register without 详细地址 / 联系电话 / 法定代表人 gives sheets without them (and says
    so), and the frame hashed into every draw is the same with or without them."""
    import sys

    sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))
    from bureau import QUARTER, SEED_MATERIAL, SEED_SOURCE, UNIT, bureau_enterprises, \
        make_bureau_registers, write_enterprises_xlsx

    from dsr_analysis.draw import commit_quarter, draw_and_record
    from dsr_analysis.fieldwork import build_fieldwork
    from dsr_analysis.policy import load_policy
    from dsr_analysis.registers import load_registers

    assert not set(CONTACT_COLUMNS) & set(FRAME_COLUMNS)
    assert set(FRAME_COLUMNS) | set(CONTACT_COLUMNS) == set(SCHEMAS["enterprises"])
    registers = make_bureau_registers(tmp_path / "registers")
    write_enterprises_xlsx(bureau_enterprises().drop(columns=["详细地址", "联系电话", "法定代表人"]),
                           registers / "enterprises.xlsx")
    policy = load_policy()
    plain = load_registers(registers, units=policy.unit_names)
    full = load_registers(bureau_quarter.registers, units=policy.unit_names)
    assert (full.enterprises["address"] != "").all() and (plain.enterprises["address"] == "").all()
    assert canonical_frame_bytes(plain.enterprises) == canonical_frame_bytes(full.enterprises)
    out = tmp_path / "out"
    ledger = out / "ledger.sqlite"
    commit_quarter(policy, plain, QUARTER, SEED_SOURCE, ledger, out, units=[UNIT],
                   seed_form="numbers")
    draw_and_record(policy, plain, QUARTER, SEED_MATERIAL, ledger, out, units=[UNIT],
                    registers_dir=registers)
    (work,) = build_fieldwork(ledger, QUARTER, policy, out, unit=UNIT)
    assert work.contacts == ()
    from dsr_analysis.documents import write_docx

    text = _docx_text(write_docx(work.sheets, tmp_path / "sheets.docx"))
    assert "未登记详细地址、联系电话、法定代表人" in text
    assert "0312-56" not in text and "详细地址" not in text.replace("未登记详细地址", "")
    for label in SIGN_OFF:
        assert label in text


def test_tasks_refuses_unknown_quarter_unit_and_changed_registers(bureau_copy, tmp_path,
                                                                  capsys):
    base = ["tasks", "--ledger", str(bureau_copy.ledger), "--outputs", str(tmp_path / "o")]
    assert main([*base, "--quarter", "2023Q3"]) == 2
    err = capsys.readouterr().err
    assert "no draw of 2023Q3" in err and "2023Q1" in err
    assert main([*base, "--quarter", "2023Q1", "--unit", "rongcheng"]) == 2
    err = capsys.readouterr().err
    assert "unit 'rongcheng' has no task" in err and "xiongxian" in err
    assert main([*base, "--quarter", "2023-1"]) == 2
    assert main(["tasks", "--quarter", "2023Q1", "--ledger", str(tmp_path / "none.sqlite")]) == 2
    assert main([*base, "--quarter", "2023Q1", "--registers", str(tmp_path / "none")]) == 2
    assert main([*base, "--quarter", "2023Q1", "--registers",
                 str(bureau_copy.registers / "items.csv")]) == 3
    capsys.readouterr()
    # the copy's registers are not where the ledger recorded them: by the recorded directory
    # (the shared fixture's, unchanged) it works; a changed file given is refused naming it
    firms = bureau_copy.registers / "enterprises.xlsx"
    wb = load_workbook(firms)
    wb.active["B3"] = "改名后的企业有限公司"
    wb.save(firms)
    assert main([*base, "--quarter", "2023Q1", "--registers", str(bureau_copy.registers)]) == 1
    err = capsys.readouterr().err
    assert "enterprises.xlsx" in err and "SHA-256" in err and "#2" in err
    assert not (tmp_path / "o").exists()


def test_the_draw_writes_no_xlsx_and_an_old_one_does_not_fail_verify(bureau_copy, capsys):
    folder = bureau_copy.outputs / "draws" / "2023Q1" / "xiongxian" / "internal"
    assert (folder / "tasks.csv").is_file() and not (folder / "tasks.xlsx").exists()
    (folder / "tasks.xlsx").write_bytes(b"an XLSX written by an earlier version")
    assert main(["verify", "--ledger", str(bureau_copy.ledger), "--no-replay"]) == 0
    assert main(["export", "--ledger", str(bureau_copy.ledger)]) == 0
    assert not (folder / "tasks.xlsx").exists()  # superseded: removed with the draw's files
    assert main(["verify", "--ledger", str(bureau_copy.ledger), "--no-replay"]) == 0


def test_a_second_header_of_a_contact_column_is_kept_not_refused(tmp_path):
    """An export with both 法定代表人 and 负责人, or 详细地址 and 注册地址: the first alias is
    read, the other kept as an extra column (no "duplicates" error for an optional column)."""
    from dsr_analysis.paths import SAMPLE_REGISTERS
    from dsr_analysis.registers import read_register

    firms = pd.read_csv(SAMPLE_REGISTERS / "enterprises.csv", dtype=str,
                        keep_default_na=False).head(3)
    firms["负责人"] = ["环保负责人甲", "环保负责人乙", "环保负责人丙"]
    firms["法定代表人"] = ["张一", "张二", "张三"]
    firms["注册地址"] = ["注册地"] * 3
    firms["详细地址"] = ["生产地"] * 3
    firms.to_csv(tmp_path / "enterprises.csv", index=False)
    frame, problems = read_register(tmp_path / "enterprises.csv", "enterprises")
    assert problems == []
    assert list(frame["legal_representative"]) == ["张一", "张二", "张三"]
    assert list(frame["address"]) == ["生产地"] * 3
    assert list(frame["负责人"]) == ["环保负责人甲", "环保负责人乙", "环保负责人丙"]


def test_task_list_prints_at_70_percent_even_with_every_column_at_its_widest(tmp_path):
    """Long names, items, partners and five-person teams with an expert: the columns wrap,
    the sheet still prints one page wide at >= 70 %."""
    from dsr_analysis.documents import write_xlsx
    from dsr_analysis.draw.ledger import Entry
    from dsr_analysis.fieldwork import Team, task_list

    long = "河北雄安新区某某某某某某某某某某某某某某某某有限责任公司"
    tasks = pd.DataFrame([{
        "task_id": f"2023Q1-xiongxian-T-{i:04d}", "enterprise_name": long,
        "uscc": "91130638MA0DDDDDDM", "method": "onsite", "method_detail": "onsite",
        "item_name": "；".join(["建设项目环境影响评价制度执行情况的检查"] * 3),
        "joint_type": "inter_departmental", "partner_department": "雄安新区综合执法局自然资源和规划局",
        "expert_name": "欧阳某某某"} for i in range(30)])
    team = Team(1, tuple((f"130638-{k:03d}", "欧阳某某", "综合执法") for k in range(5)),
                tuple(tasks["task_id"]))
    entry = Entry(2, "2023-01-20T02:00:00+00:00", "2023Q1", "untargeted", ("xiongxian",),
                  None, "0" * 64, "{}", "0" * 64, "1" * 64)
    ws = load_workbook(write_xlsx(task_list(tasks, [team], entry, "雄县生态环境局", "雄县"),
                                  tmp_path / "list.xlsx")).active
    assert fit_to_width_scale(ws) >= 70 and int(ws.page_setup.scale) >= 70


def test_every_method_reason_of_the_draw_has_its_chinese_text():
    """Each branch of the draw's method rule (R6) gives a reason the task sheets can print:
    a reason the sheets do not know would silently drop the line 检查方式依据."""
    from dsr_analysis.draw.staffing import _method
    from dsr_analysis.fieldwork import method_reason_zh

    params = {"onsite_triggers": ["complaint"], "count_offsite": False, "offsite_first": True}
    cases = [
        ({"origin": "follow_up", "kind": "random"}, {"offsite_capable": True}, "none"),
        ({"origin": "complaint", "kind": "random"}, {"offsite_capable": True}, "none"),
        ({"origin": "routine", "kind": "random"}, {"offsite_capable": True}, "inter_departmental"),
        ({"origin": "routine", "kind": "random", "merged_with": "2023Q1-xiongan-0001"},
         {"offsite_capable": True}, "none"),
        ({"origin": "routine", "kind": "random"}, {"offsite_capable": True}, "internal"),
        ({"origin": "routine", "kind": "offsite_full"}, {"offsite_capable": True}, "none"),
        ({"origin": "routine", "kind": "offsite_full"}, {"offsite_capable": False}, "none"),
        ({"origin": "routine", "kind": "random"}, {"offsite_capable": True}, "none"),
        ({"origin": "routine", "kind": "random"}, {"offsite_capable": False}, "none"),
    ]
    reasons = {_method(task, obj, joint, params)[2] for task, obj, joint in cases}
    assert len(reasons) == len(cases)                        # every branch reached once
    untranslated = [r for r in reasons if not method_reason_zh(r)]
    assert not untranslated, untranslated
    texts = [method_reason_zh(r) for r in reasons]
    assert len(set(texts)) == len(texts)                     # no two branches read alike


def test_each_team_is_handed_its_own_tasks_only(bureau_quarter, written):
    """One 检查任务单 per team (DOCX and PDF): its members, then its tasks, each signed; no
    other team's object in it (the drawn list is confidential until the visits)."""
    _, folder = written
    tasks = bureau_quarter.tasks
    teams = sorted((folder / "teams").glob("team-*.docx"))
    team_of = {}                                    # the team of each task by its inspectors
    for row in tasks.itertuples():
        team_of.setdefault(tuple(sorted(row.inspector_ids.split(";"))), []).append(row)
    assert len(teams) == len(team_of) > 1
    assert sorted(p.stem for p in (folder / "teams").glob("team-*.pdf")) == [p.stem for p in teams]
    seen = []
    for path in teams:
        text = _docx_text(path)
        mine = [t for t in tasks.itertuples() if t.task_id in text]
        assert mine and len({tuple(sorted(t.inspector_ids.split(";"))) for t in mine}) == 1
        members = team_of[tuple(sorted(mine[0].inspector_ids.split(";")))]
        assert {t.task_id for t in mine} == {t.task_id for t in members}   # all of its own
        assert all(t.enterprise_name in text for t in mine)
        others = tasks[~tasks["task_id"].isin([t.task_id for t in mine])]
        assert not [n for n in others["enterprise_name"] if n in text]      # nobody else's
        assert text.count(SIGN_OFF[1]) == len(mine)
        assert all(name in text for name in mine[0].inspector_names.split(";"))
        seen += [t.task_id for t in mine]
    assert sorted(seen) == sorted(tasks["task_id"])    # every task handed to exactly one team
    pdf = subprocess.run(["pdftotext", "-layout", str(folder / "teams" / "team-01.pdf"), "-"],
                         capture_output=True, text=True, check=True).stdout
    assert "检查组成员" in pdf and SIGN_OFF[0] in pdf and "内部资料 注意保密" in pdf
