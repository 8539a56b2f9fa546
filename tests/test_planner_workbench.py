"""The planner as a workbench (issue 13): what a saved draft keeps, what to change when a plan
is infeasible, two plans side by side and their export, another jurisdiction's rules on the
register's units, and the first screen's tables (escaped, Chinese)."""

from __future__ import annotations

import dataclasses
import shutil
import zipfile
from pathlib import Path

import pytest
import yaml
from bureau import make_bureau_registers

from dsr_analysis import planner
from dsr_analysis.errors import ParameterError, PolicyError, RegisterError
from dsr_analysis.paths import POLICIES_DIR
from dsr_analysis.planner.app import build_planner
from dsr_analysis.planner.fragments import coverage_summary_html, minimums_matrix_html, verdict_html, workload_summary_html
from dsr_analysis.policy import PlannerInputs, load_policy

RULE = "county-general-other"


@pytest.fixture(scope="module")
def base():
    return load_policy("xiongan-2023")


@pytest.fixture(scope="module")
def controls(base):
    return dict(base_policy=base, **planner.plan_from_policy(base), seed=1, registers=None,
                **planner.plan_inputs(base))


def _with(controls: dict, ratio: float | None = None, **changes) -> dict:
    out = dict(controls, **changes)
    if ratio is not None:
        out["ratios"] = {**controls["ratios"], RULE: ratio}
    return out


@pytest.fixture(scope="module")
def infeasible(controls):
    """8 % of the general objects off the positive list: 雄县 lacks inspector-days."""
    return planner.plan_outcome(**_with(controls, 0.08))


# --------------------------------------------------------------------------------------
# What a draft keeps: the planner section of the policy
# --------------------------------------------------------------------------------------
def test_a_saved_draft_keeps_its_inspectors_and_assumptions(base, tmp_path: Path):
    inspectors = {"xiongan": 40, "xiongxian": 36, "rongcheng": 28, "anxin": 30}
    assumptions = dict(planner.default_assumptions(), onsite_inspector_days=2.5)
    plan = planner.build_policy(base, {RULE: 0.04}, base.credit_risk.weights, "rotation", 2, 0.35,
                                year=2024, inspectors_available=inspectors,
                                assumptions=assumptions)
    path = planner.save_policy(plan, "xiongan-2024", tmp_path)
    loaded = load_policy(path)
    assert loaded.planner == dataclasses.replace(plan.planner)
    assert loaded.planner.inspectors == inspectors and loaded.planner.based_on == "xiongan-2023"
    assert loaded.planner.onsite_inspector_days == 2.5
    text = path.read_text(encoding="utf-8")
    assert "planner:" in text and "xiongxian: 36" in text
    inputs = planner.plan_inputs(loaded)
    assert inputs == dict(inspectors_available=inspectors, assumptions=assumptions)
    # Planning with what it saved gives what was shown before saving.
    args = dict(**planner.plan_from_policy(loaded), seed=1)
    before = planner.plan_outcome(plan, **args, inspectors_available=inspectors,
                                  assumptions=assumptions)
    after = planner.plan_outcome(loaded, **args, **inputs)
    assert planner.headline(after).splitlines()[1:] == planner.headline(before).splitlines()[1:]


def test_policies_without_a_planner_section_still_load_and_the_section_is_strict(tmp_path: Path):
    for name in planner.base_policy_names():
        assert load_policy(name).planner is None
    data = yaml.safe_load((POLICIES_DIR / "xiongan-2023.yaml").read_text(encoding="utf-8"))
    data["planner"] = dict(based_on="xiongan-2023", inspectors={"xiongan": 3},
                           days_per_inspector_per_quarter=8, onsite_inspector_days=2,
                           offsite_inspector_days=0.5, joint_extra_inspector_days=1,
                           inspector=4)
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(PolicyError, match=r"bad.yaml: unknown key 'planner.inspector'"):
        load_policy(bad)
    del data["planner"]["inspector"]
    data["planner"]["inspectors"]["xiongan"] = -1
    bad.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(PolicyError, match=r"key 'planner.inspectors.xiongan': -1 is out of range"):
        load_policy(bad)


def test_a_saved_count_for_a_unit_the_plan_lacks_is_dropped(base):
    plan = dataclasses.replace(base, planner=PlannerInputs(
        based_on="x", inspectors={"xiongan": 9, "beijing": 5},
        **planner.default_assumptions()))
    inputs = planner.plan_inputs(plan)
    defaults = planner.default_inspectors(base, None)
    assert inputs["inspectors_available"] == {**defaults, "xiongan": 9}


@pytest.mark.parametrize("name, year, ok", [
    ("xiongan-2024", 2024, True), ("xiongan-2025", 2024, False), ("draft-a", 2024, True),
    ("xiongan-2024-b", 2024, True), ("plan-2023-2024", 2024, False), ("v10000", 2024, True),
])
def test_the_year_in_a_plan_name_must_be_the_plans_year(name, year, ok):
    if ok:
        assert planner.check_plan_name(name, year) == name
    else:
        with pytest.raises(ParameterError, match=f"与计划年度 {year} 不一致"):
            planner.check_plan_name(name, year)


def test_save_refuses_a_name_whose_year_differs(base, tmp_path: Path):
    plan = planner.build_policy(base, {}, base.credit_risk.weights, "independent", 2, 0.3,
                                year=2024)
    with pytest.raises(ParameterError, match="方案名称“xiongan-2025”中的年份 2025 与计划年度 2024 不一致"):
        planner.save_policy(plan, "xiongan-2025", tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_published_plan_is_never_overwritten(base, tmp_path: Path):
    shutil.copy(POLICIES_DIR / "xiongan-2023.yaml", tmp_path / "xiongan-2023.yaml")
    before = (tmp_path / "xiongan-2023.yaml").read_bytes()
    draft = planner.build_policy(base, {RULE: 0.05}, base.credit_risk.weights, "independent", 2,
                                 0.3, inspectors_available={u.id: 5 for u in base.units})
    with pytest.raises(planner.PlanExistsError, match="方案“xiongan-2023”是已发布的方案（不是本编制器保存的草稿），不能覆盖"):
        planner.save_policy(draft, "xiongan-2023", tmp_path, overwrite=True, ledgers=[])
    assert (tmp_path / "xiongan-2023.yaml").read_bytes() == before
    # A draft the planner saved may be replaced when told to.
    planner.save_policy(draft, "xiongan-2023-draft", tmp_path)
    later = planner.build_policy(base, {RULE: 0.06}, base.credit_risk.weights, "independent", 2,
                                 0.3, inspectors_available={u.id: 6 for u in base.units})
    path = planner.save_policy(later, "xiongan-2023-draft", tmp_path, overwrite=True,
                               ledgers=[])
    assert load_policy(path).planner.inspectors["anxin"] == 6


def test_the_cost_of_a_check_drives_the_inspector_days(controls):
    out = planner.plan_outcome(**controls)
    heavier = planner.plan_outcome(**_with(controls, assumptions=dict(
        controls["assumptions"], onsite_inspector_days=4.0)))
    onsite = out.workload["onsite"].to_numpy()
    assert (heavier.workload["days_needed"] - out.workload["days_needed"]).to_numpy() == \
        pytest.approx(2.0 * onsite)
    fewer = planner.plan_outcome(**_with(controls, assumptions=dict(
        controls["assumptions"], days_per_inspector_per_quarter=4.0)))
    assert (fewer.workload["days_available"] * 2).tolist() == out.workload["days_available"].tolist()


# --------------------------------------------------------------------------------------
# What to change
# --------------------------------------------------------------------------------------
def test_a_feasible_plan_needs_no_change(controls):
    assert planner.suggest_changes(planner.plan_outcome(**controls)) == ()


def test_inspectors_needed_at_todays_ratios(controls, infeasible):
    assert not infeasible.feasible and "雄县" in infeasible.warning
    found = [s for s in planner.suggest_changes(infeasible) if s.kind == "inspectors"]
    assert len(found) == 1
    s = found[0]
    n = s.inspectors["xiongxian"]
    assert s.fixes == ("xiongxian",) and s.feasible
    assert f"雄县执法人员增至 {n} 人（现有 34 人，增加 {n - 34} 人）" == s.message
    counts = dict(infeasible.inspectors)
    assert planner.plan_outcome(**_with(controls, 0.08, inspectors_available={
        **counts, "xiongxian": n})).feasible
    assert not planner.plan_outcome(**_with(controls, 0.08, inspectors_available={
        **counts, "xiongxian": n - 1})).feasible                   # the fewest


def test_the_largest_ratio_that_fits_todays_inspectors(controls, infeasible):
    found = [s for s in planner.suggest_changes(infeasible) if s.kind == "ratio"]
    assert found and found[0].rule == RULE and not found[0].below_minimum   # the 2023 minimum holds
    s = found[0]
    assert s.current == pytest.approx(0.08) and s.ratio < 0.08
    assert planner.plan_outcome(**_with(controls, s.ratio)).feasible
    assert not planner.plan_outcome(**_with(controls, round(s.ratio + 0.01, 2))).feasible
    assert "“县级·一般(除正面清单外)”的比例由 8% 降至" in s.message
    # A cut below the 2023 minimum is flagged as such.
    below = [x for x in found if x.below_minimum]
    for x in below:
        assert "低于2023年方案要求的" in x.message and "该项最低要求将不达标" in x.message


def test_several_infeasible_units_get_one_change_for_all(controls):
    out = planner.plan_outcome(**_with(controls, 0.3))
    bad = set(out.workload.loc[~out.workload["feasible"], "unit"])
    assert {"xiongxian", "rongcheng", "anxin"} <= bad
    together = [s for s in planner.suggest_changes(out)
                if s.kind == "inspectors" and len(s.inspectors) > 1]
    assert len(together) == 1 and together[0].feasible
    counts = {**out.inspectors, **together[0].inspectors}
    assert planner.plan_outcome(**_with(controls, 0.3, inspectors_available=counts)).feasible
    assert together[0].message.startswith("执法人员同时增至：")


def test_applying_a_suggestion_on_the_page_makes_the_plan_feasible(tmp_path: Path):
    app = build_planner(save_dir=str(tmp_path))
    app.ratios[RULE].value = 0.08
    assert not app.outcome.feasible and "调整建议" in app.suggestion_box.children[0].children[0].value
    ratio = next(s for s in app.suggestions if s.kind == "ratio")
    app.apply(ratio)
    assert app.outcome.feasible and app.ratios[RULE].value == pytest.approx(ratio.ratio)
    assert app.suggestion_box.layout.display == "none"
    app.ratios[RULE].value = 0.08
    staff = next(s for s in app.suggestions if s.kind == "inspectors")
    app.apply(staff)
    assert app.outcome.feasible and app.inspectors["xiongxian"].value == staff.inspectors["xiongxian"]
    app.reset.click()
    assert app.ratios[RULE].value == pytest.approx(0.03) and app.inspectors["xiongxian"].value == 34


# --------------------------------------------------------------------------------------
# Plans side by side
# --------------------------------------------------------------------------------------
def test_a_plan_compared_with_itself_has_no_difference(controls):
    out = planner.plan_outcome(**controls)
    cmp = planner.compare_outcomes(out, out, ("本方案", "xiongan-2023"))
    for name, frame in planner.comparison_tables(cmp).items():
        assert not frame["changed"].any(), name
    assert planner.comparison_summary(cmp).startswith("与“xiongan-2023”相比：每季度抽查数 0 处不同")


def test_comparison_flags_exactly_what_changed(controls):
    old = planner.plan_outcome(**controls)
    new = planner.plan_outcome(**_with(controls, 0.05))
    cmp = planner.compare_outcomes(new, old, ("本方案", "xiongan-2023"))
    q = cmp.quotas
    changed = q[q["changed"]]
    assert set(changed["unit"]) == {"xiongxian", "rongcheng", "anxin"}
    assert set(changed["subset"]) == {"not_positive_list"}
    assert (changed["change"] > 0).all()
    xiong = changed[changed["unit"] == "xiongxian"].iloc[0]
    assert (xiong["quota_other"], xiong["quota_current"]) == (24, 39)     # ceil(3 %, 5 % x 767)
    controls_changed = cmp.controls[cmp.controls["changed"]]
    assert list(zip(controls_changed["kind"], controls_changed["key"], strict=True)) == [("ratio", RULE)]
    assert list(controls_changed["current"]) == [0.05] and list(controls_changed["other"]) == [0.03]
    shown = planner.comparison_tables(cmp)["方案参数"]
    shown = shown[shown["changed"]]
    assert list(shown["参数"]) == ["每季度抽查比例：县级·一般(除正面清单外)"]
    assert list(shown["本方案"]) == ["5%"] and list(shown["xiongan-2023"]) == ["3%"]
    totals = cmp.totals.set_index("indicator")
    assert totals.loc["coverage", "changed"] and not totals.loc["days_available", "changed"]
    assert "每季度抽查数 3 处不同" in planner.comparison_summary(cmp) and "需要人·日 +" in planner.comparison_summary(cmp)


def test_comparison_workbook_marks_differences_and_never_holds_a_formula(controls, tmp_path):
    old = planner.plan_outcome(**controls)
    new = planner.plan_outcome(**_with(controls, 0.05))
    cmp = planner.compare_outcomes(new, old, ("=HYPERLINK(\"http://x\")", "+cmd|' /C calc'!A0"))
    path = planner.write_comparison_xlsx(cmp, tmp_path / "cmp.xlsx")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cmp.xlsx"]       # no temporary file
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in z.read(name), name                      # no formula anywhere
    from openpyxl import load_workbook

    book = load_workbook(path)
    assert book.sheetnames == ["对比摘要", "抽查任务", "执法力量", "覆盖率与违法率", "最低要求",
                               "方案参数"]
    ws = book["抽查任务"]
    header = [c.value for c in ws[4]]
    assert header[5].startswith("每季度抽查数（+cmd") and header[5].endswith("）")
    rows = {(r[0].value, r[2].value): r for r in ws.iter_rows(min_row=5)}
    changed = rows[("雄县", "除正面清单外")]
    assert [c.value for c in changed[4:9]] == [767, 24, 767, 39, 15]
    assert changed[5].fill.start_color.rgb.endswith("FFF2CC")
    assert rows[("雄县", "全部")][5].fill.fill_type is None                  # special, unchanged
    summary = book["对比摘要"]
    cov = next(r for r in summary.iter_rows(min_row=5) if r[0].value == "年度覆盖率")
    assert cov[1].number_format == "0.0%" and isinstance(cov[1].value, float)


def test_the_page_compares_with_the_base_plan_and_highlights_the_change(tmp_path: Path):
    app = build_planner(save_dir=str(tmp_path))
    app.compare.value = "base"
    assert app.comparison is not None and app.comparison.changed_quotas == 0
    assert app.comparison_box.layout.display is None
    app.ratios[RULE].value = 0.05
    assert app.comparison.changed_quotas == 3
    assert "dsr-changed" in app.comparison_html.value
    assert "与“起始方案”相比：每季度抽查数 3 处不同" in app.verdict.value
    assert "dsr-changed" in app.minimums_summary.value          # the 3 % cells now read 5 %
    app.compare.value = ""
    assert app.comparison is None and app.comparison_box.layout.display == "none"


# --------------------------------------------------------------------------------------
# Other jurisdictions
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["chizhou-2019", "guangzhou"])
def test_another_jurisdictions_rules_map_onto_the_registers_units(base, name):
    source = load_policy(name)
    mapped = planner.map_onto_units(source, base)
    assert mapped.units == base.units and mapped.quotas == source.quotas
    assert mapped.credit_risk == source.credit_risk and mapped.draw == source.draw
    assert mapped.name.startswith("河北雄安新区管理委员会生态环境局") and "参照" in mapped.name
    out = planner.plan_outcome(mapped, **planner.plan_from_policy(mapped), seed=1,
                               **planner.plan_inputs(mapped))
    area = out.quotas[out.quotas["unit"] == "xiongan"]
    assert set(area["quota_rule"]) == {r.id for r in source.quotas.rules if r.level == "area"}
    assert planner.map_onto_units(base, base) is base


def test_rules_that_cannot_map_are_explained_in_chinese(base, tmp_path: Path):
    data = yaml.safe_load((POLICIES_DIR / "chizhou-2019.yaml").read_text(encoding="utf-8"))
    data["categories"]["conditions"].append(dict(
        id="guichi", category="special", field="unit", op="eq", value="guichi", rule="local",
        label="贵池区的企业"))
    path = tmp_path / "chizhou-units.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ParameterError, match="的抽查规则不能用于本登记册：分类条件“贵池区的企业”按所属单位划分"):
        planner.map_onto_units(load_policy(path), base)
    counties_only = dataclasses.replace(base, units=tuple(u for u in base.units
                                                          if u.level == "county"))
    with pytest.raises(ParameterError, match="针对新区本级单位，而本登记册的单位（雄县、容城县、安新县）中没有"):
        planner.map_onto_units(load_policy("chizhou-2019"), counties_only)
    # On the page: the error is shown and the plan in use stays.
    app = build_planner(save_dir=str(tmp_path))
    app.base.value = str(path)
    assert "无法使用所选方案" in app.verdict.value and "不能用于本登记册" in app.verdict.value
    assert app.base.value == "xiongan-2023" and app.outcome is not None


# --------------------------------------------------------------------------------------
# The first screen's tables
# --------------------------------------------------------------------------------------
def test_first_screen_tables_say_it_in_chinese(controls, infeasible):
    out = planner.plan_outcome(**controls)
    below = planner.planner_settings().coverage_warning_below
    html = (verdict_html(out) + minimums_matrix_html(out) + workload_summary_html(out)
            + coverage_summary_html(out, below))
    assert "✔ 方案可行" in html and "2023年方案最低要求（20/20 项达标）" in html
    assert "依据：二、重点工作任务（四）分类确定抽查频次" in html
    for developer_word in ("R3", "R4", "R5", "parameters/", ".yaml", "dsr_analysis"):
        assert developer_word not in html, developer_word
    # The new-area level's general objects: 0.0 %, red.
    assert '<td class="dsr-bad" title="新区本级一般监管对象 303 家：一年内至少抽查一次的比例 0.0%">0.0%</td>' in html
    bad = verdict_html(infeasible)
    assert "✘ 方案不可行" in bad and "雄县: 需要" in bad


def test_every_value_reaching_the_page_is_escaped(controls):
    out = planner.plan_outcome(**controls)
    evil = "<img src=x onerror=alert(1)>"
    units = tuple(dataclasses.replace(u, name=evil + u.name) for u in out.policy.units)
    policy = dataclasses.replace(out.policy, units=units)
    hostile = dataclasses.replace(
        out, policy=policy, warning=evil,
        workload=out.workload.assign(unit_name=evil, reason=evil),
        minimums=out.minimums.assign(unit=evil, plan=evil, check=evil))
    below = planner.planner_settings().coverage_warning_below
    for html in (verdict_html(hostile, evil), minimums_matrix_html(hostile),
                 workload_summary_html(hostile), coverage_summary_html(hostile, below)):
        assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


def test_comparison_as_an_official_document(controls, tmp_path: Path):
    """The comparison in the document forms of the reports: a GB/T 9704 document, as PDF."""
    import shutil as sh
    import subprocess

    from dsr_analysis.documents import Heading, Table, write_pdf

    old = planner.plan_outcome(**controls)
    new = planner.plan_outcome(**_with(controls, 0.05))
    cmp = planner.compare_outcomes(new, old, ("本方案", "xiongan-2023"))
    doc = planner.comparison_document(cmp, demo=True)
    assert doc.title == "2023年“双随机、一公开”抽查计划方案对比说明"
    assert doc.issuer == "河北雄安新区管理委员会生态环境局" and doc.demo
    headings = [b.text for b in doc.blocks if isinstance(b, Heading)]
    assert headings[:2] == ["一、总体情况", "二、每季度抽查任务"]
    tables = [b for b in doc.blocks if isinstance(b, Table)]
    quotas = tables[1].frame
    assert list(quotas.loc[quotas["不同"] == "是", "单位"]) == ["雄县", "容城县", "安新县"]
    controls_table = tables[-1].frame
    assert list(controls_table["参数"]) == ["每季度抽查比例：县级·一般(除正面清单外)"]
    if sh.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is missing: run `sudo make sysdeps`")
    path = write_pdf(doc, tmp_path / "cmp.pdf")
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    flat = text.replace("\n", "")
    assert "抽查计划方案对比说明" in flat and "每季度抽查任务" in flat and "演示数据" in flat


def test_the_export_buttons_offer_the_workbook_and_the_pdf(tmp_path: Path, monkeypatch):
    import base64

    import dsr_analysis.planner.app as ui

    monkeypatch.setattr(ui, "OUTPUTS_DIR", tmp_path / "outputs")
    app = build_planner(save_dir=str(tmp_path / "plans"))
    app.export.click()                                   # nothing compared: nothing written
    assert app.export_message.value == "" and not (tmp_path / "outputs").exists()
    app.compare.value = "base"
    app.ratios[RULE].value = 0.05
    app.export.click()
    xlsx = tmp_path / "outputs" / "planner" / "comparison-draft-vs-xiongan-2023.xlsx"
    assert xlsx.exists() and 'download="comparison-draft-vs-xiongan-2023.xlsx"' in app.export_message.value
    data = app.export_message.value.split("base64,", 1)[1].split('"', 1)[0]
    assert base64.b64decode(data) == xlsx.read_bytes()
    app.export_pdf.click()
    pdf = xlsx.with_suffix(".pdf")
    assert pdf.read_bytes().startswith(b"%PDF") and "application/pdf" in app.export_message.value


# --------------------------------------------------------------------------------------
# The bureau's own register
# --------------------------------------------------------------------------------------
def test_the_page_loads_the_bureaus_register_and_the_demo_banner_goes(tmp_path: Path):
    from dsr_analysis.registers import load_registers

    app = build_planner(save_dir=str(tmp_path / "plans"))
    assert "演示数据" in app.demo_banner.value and app.demo_banner.layout.display is None
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "enterprises.csv").write_text("uscc,name\nX,Y\n", encoding="utf-8")
    with pytest.raises(RegisterError) as caught:          # what `dsr validate` reports
        load_registers(str(broken), units=app.jurisdiction.unit_names)
    assert not app.load_register(str(broken))
    assert "未载入" in app.registers_message.value and app.registers is None
    first = caught.value.problems[0]
    assert str(first).replace('"', "&quot;").replace("'", "&#x27;") in app.registers_message.value
    assert not app.load_register(str(tmp_path / "nowhere"))
    assert "不是文件夹" in app.registers_message.value and "演示数据" in app.demo_banner.value

    registers = make_bureau_registers(tmp_path / "registers")
    assert app.load_register(str(registers))
    assert app.demo_banner.value == "" and app.demo_banner.layout.display == "none"
    assert "已载入：检查对象 111 家" in app.registers_message.value
    assert "名录库：registers</small>" in app.title.value
    assert app.outcome.coverage["objects"].sum() == 111       # counted on the bureau's firms
    assert planner.headline(app.outcome) == planner.headline(
        planner.plan_outcome(**app.arguments()))
    assert app.load_register("")                          # back to the sample
    assert "演示数据" in app.demo_banner.value and app.registers is None


def test_every_model_figure_says_what_it_rests_on(tmp_path: Path):
    app = build_planner(save_dir=str(tmp_path / "plans"))
    settings = planner.planner_settings()
    note = app.model_note.value
    assert "年度覆盖率" in note and "估算" in note
    assert "预计违法企业比例" in note and settings.scenario_name in note
    assert f"{settings.deterrence.detection_onsite:.0%}" in note
    page = app.title.value + app.model_note.value + app.demo_banner.value
    for developer_word in ("dsr_analysis", "Voilà", "make planner", "parameters/", ".yaml"):
        assert developer_word not in page, developer_word
