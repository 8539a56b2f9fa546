"""Report figures (R8-R10): statistics table against direct counts, notices never print a
confidential result, each evaluation indicator on hand-made cases (met, missed, borderline)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pandas as pd
import pytest

from dsr_analysis import reports
from dsr_analysis.categories import classify
from dsr_analysis.periods import Quarter
from dsr_analysis.workcalendar import WorkCalendar

D = dt.date
cal = WorkCalendar()


@pytest.fixture(scope="module")
def inputs():
    return reports.load_report_inputs("2023Q2")


# --------------------------------------------------------------------------------------
# Statistics table
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("unit", ["xiongxian", "anxin", "xiongan"])
def test_statistics_equal_direct_counts(inputs, unit):
    reg, pol = inputs.registers, inputs.policy
    row = reports.statistics_table(inputs, [unit]).iloc[0]
    ent = classify(reg.enterprises, pol)
    if pol.unit(unit).level == "county":
        ent = ent[ent["unit"] == unit]
    assert row["objects_total"] == len(ent)
    for cat in ("special", "key", "general"):
        assert row[f"objects_{cat}"] == (ent["category"] == cat).sum()
    # the plan's positive-list column: general objects on the list (not special/key ones)
    assert row["objects_positive_list"] == (ent["positive_list"]
                                            & (ent["category"] == "general")).sum()
    insp = reg.inspectors
    assert row["inspectors"] == ((insp["unit"] == unit) & insp["active"] & insp["certified"]).sum()

    tasks = inputs.tasks[(inputs.tasks["unit"] == unit) & (inputs.tasks["quarter"] == "2023Q2")]
    res = inputs.results.set_index("task_id")
    done = tasks[tasks["task_id"].isin(res.index)]
    r = res.loc[done["task_id"]]
    assert row["tasks_drawn"] == len(tasks)
    assert row["checks_total"] == len(done) == len(tasks) - row["tasks_unchecked"]
    for cat in ("special", "key", "general"):
        assert row[f"checks_{cat}"] == (done["category"] == cat).sum()
    assert row["checks_onsite"] == (done["method"] == "onsite").sum()
    assert row["checks_offsite"] == (done["method"] == "offsite").sum()
    assert row["checks_internal_joint"] == (done["joint_type"] == "internal").sum()
    assert row["checks_inter_departmental"] == (done["joint_type"] == "inter_departmental").sum()
    # Random draws: every stratum except the full off-site coverage of the positive list.
    random = done[done["stratum"] != "general/positive_list"]
    assert row["checks_random"] == len(random)
    weighted = {(r.level, f"{r.category}/{r.subset}") for r in pol.quotas.rules
                if r.credit_weighted and r.method == "random"}
    assert row["checks_credit"] == sum((lv, st) in weighted for lv, st in
                                       zip(random["level"], random["stratum"], strict=True))
    assert row["results_published"] == r["date_published"].notna().sum()
    assert row["results_withheld"] == r["confidential"].sum()
    assert row["violations"] == (r["outcome"] == "violation").sum()
    assert row["problems_found"] == r["outcome"].isin(["corrected", "pending_follow_up"]).sum()
    assert row["problems_corrected"] == (r["outcome"] == "corrected").sum()
    assert row["obstructed"] == (r["outcome"] == "obstructed").sum()
    assert row["checks_not_operating"] == r["outcome"].isin(
        ["no_activity", "closed", "unreachable", "moved_or_deregistered"]).sum()
    assert row["handed_over"] == r["follow_up"].isin(["hand_over", "transfer"]).sum()
    assert row["judicial_referrals"] == (r["follow_up"] == "judicial_referral").sum()
    assert row["penalties"] == (r["follow_up"] == "penalty").sum()
    orders = (r["follow_up"] == "rectification_order") | (
        (r["follow_up"] == "penalty") & r["rectification_deadline"].notna())
    assert row["rectification_orders"] == orders.sum()
    assert row["rectified"] == (orders & r["date_follow_up_closed"].notna()).sum()
    fined = r[(r["follow_up"] == "penalty") & r["date_follow_up_closed"].notna()]
    assert row["penalty_amount"] == pytest.approx(fined["penalty_amount"].fillna(0).sum())
    assert row["checks_total"] > 0


def test_statistics_total_row_counts_objects_once_and_sums_checks(inputs):
    table = reports.statistics_table(inputs, total=True)
    total, units = table.loc[reports.TOTAL_LABEL], table.drop(index=reports.TOTAL_LABEL)
    assert list(table.index)[-1] == reports.TOTAL_LABEL
    # The new-area level draws from every object: the area's objects are its row, once.
    for col in ("objects_total", "objects_special", "objects_key", "objects_general",
                "objects_positive_list"):
        assert total[col] == units.loc["新区本级", col]
    assert total["objects_total"] == len(inputs.registers.enterprises)
    for col in ("inspectors", "tasks_drawn", "checks_total", "checks_onsite", "checks_random",
                "checks_credit", "violations", "results_published", "results_withheld"):
        assert total[col] == units[col].sum()
    assert total["credit_share"] == pytest.approx(
        units["checks_credit"].sum() / units["checks_random"].sum())
    assert reports.TOTAL_LABEL not in reports.statistics_table(inputs).index


def test_statistics_table_has_official_two_row_header(inputs):
    zh = reports.statistics_table_zh(reports.statistics_table(inputs))
    assert zh.columns.nlevels == 2
    assert ("检查对象（户）", "合计") in zh.columns
    assert list(zh.index) == ["新区本级", "雄县", "容城县", "安新县"]
    share = zh[("信用风险分类结合", "占比")]
    assert share.dtype.kind == "f" and share.between(0, 1).all()  # a number, formatted later


# --------------------------------------------------------------------------------------
# Results notice
# --------------------------------------------------------------------------------------
def test_confidential_result_never_in_a_notice_even_with_a_publication_date(inputs):
    # A confidential result that (wrongly) carries a publication date - the validator rejects
    # such a file, and the notice must not print it either.
    res = inputs.results.copy()
    ids = inputs.tasks.loc[inputs.tasks["unit"] == "xiongxian", "task_id"]
    pick = res.index[res["task_id"].isin(ids) & res["date_published"].notna()][:3]
    res.loc[pick, "confidential"] = True
    leaked = dataclasses.replace(inputs, results=res)
    months = {(d.year, d.month) for d in res.loc[pick, "date_published"]}
    secret = set(res.loc[pick, "task_id"])
    confidential_total = res.loc[res["task_id"].isin(ids) & res["confidential"]]
    checked_months = {(d.year, d.month) for d in confidential_total["date_checked"]}
    withheld = 0
    for year, month in sorted(months | checked_months):
        notice = reports.results_notice(leaked, "xiongxian", year, month)
        assert not secret & set(notice.table["任务编号"])
        withheld += notice.withheld
    # every confidential result is counted as withheld once, in the month of its check
    assert withheld == len(confidential_total) >= len(pick)


def test_notice_lists_what_was_published_that_month(inputs):
    notice = reports.results_notice(inputs, "anxin", 2023, 5)
    res = inputs.results.merge(inputs.tasks[["task_id", "unit"]], on="task_id")
    expected = res[(res["unit"] == "anxin") & ~res["confidential"]
                   & res["date_published"].map(lambda d: d is not None and (d.year, d.month) == (2023, 5))]
    assert sorted(notice.table["任务编号"]) == sorted(expected["task_id"])
    assert list(notice.table.columns) == ["序号", "任务编号", "抽查事项", "检查对象", "统一社会信用代码",
                                          "检查日期", "检查结果", "后续处置", "公示日期"]


# --------------------------------------------------------------------------------------
# Evaluation indicators on hand-made cases
# --------------------------------------------------------------------------------------
def progress(rows):
    return pd.DataFrame(rows, columns=["category", "subset", "quota", "done", "met"])


def test_quotas_indicator():
    met = reports.indicator_quotas(progress([("key", "all", 4, 5, True), ("special", "all", 2, 2, True)]))
    assert met.met and met.value == 1.0
    border = reports.indicator_quotas(progress([("key", "all", 4, 4, True), ("special", "all", 0, 0, True)]))
    assert border.met and border.value == 1.0          # exactly the quota; empty stratum ignored
    missed = reports.indicator_quotas(progress([("key", "all", 4, 3, False), ("special", "all", 2, 2, True)]))
    assert not missed.met and missed.value == 0.5 and missed.attainment == 0.5
    assert "重点监管对象（全部）完成3次、最低4次" in missed.detail


def joint_checks(types):
    return pd.DataFrame({"joint_type": types})


@pytest.mark.parametrize("internal,total,met", [(5, 10, True), (3, 10, True), (2, 10, False)])
def test_internal_joint_indicator(policy, internal, total, met):
    ind = reports.indicator_internal_joint(
        joint_checks(["internal"] * internal + ["none"] * (total - internal)), policy)
    assert policy.joint.internal_min_share == 0.30
    assert ind.met is met
    assert ind.value == pytest.approx(internal / total)


@pytest.mark.parametrize("count,met", [(2, True), (1, True), (0, False)])
def test_inter_departmental_indicator(policy, count, met):
    ind = reports.indicator_inter_departmental(
        joint_checks(["inter_departmental"] * count + ["internal"] * 3), policy)
    assert ind.met is met and ind.value == count
    assert ind.attainment == min(count / policy.joint.inter_departmental_per_quarter, 1.0)


@pytest.mark.parametrize("used,met", [(10, True), (8, True), (7, False)])
def test_credit_indicator(policy, used, met):
    frame = pd.DataFrame({"random_draw": [True] * 10 + [False] * 50,
                          "credit_used": [True] * used + [False] * (10 - used) + [False] * 50})
    ind = reports.indicator_credit(frame, policy)
    assert ind.met is met
    assert ind.value == pytest.approx(used / 10)   # full-coverage checks are not counted


def result_rows(rows):
    return pd.DataFrame(rows, columns=["date_checked", "date_published", "confidential"])


def test_results_on_time_indicator(policy):
    checked = D(2023, 9, 28)                   # due 20 working days later, across National Day
    due = cal.add_working_days(checked, 20)
    assert due == D(2023, 11, 1)   # 10/7, 10/8, 10/9-13, 10/16-20, 10/23-27, 10/30, 10/31, 11/1
    after = cal.add_working_days(due, 1)
    as_of = D(2023, 12, 1)
    border = reports.indicator_results_on_time(result_rows([(checked, due, False)]), policy, as_of, cal)
    assert border.met and border.value == 1.0
    late = reports.indicator_results_on_time(
        result_rows([(checked, due, False), (checked, after, False)]), policy, as_of, cal)
    assert not late.met and late.value == 0.5
    # Unpublished: counted as missed once due, not before; confidential results not counted.
    pending = reports.indicator_results_on_time(
        result_rows([(checked, None, False), (checked, None, True)]), policy, D(2023, 10, 20), cal)
    assert pending.met and pending.detail.startswith("按时公开0条，应公开0条")
    overdue = reports.indicator_results_on_time(
        result_rows([(checked, None, False)]), policy, as_of, cal)
    assert not overdue.met and overdue.value == 0.0


def test_reports_on_time_indicator(policy):
    q = Quarter.parse("2023Q3")     # summary due 9/28, statistics due 10/9 (R9 calendar)

    def dlv(summary, statistics):
        rows = [("summary", summary), ("statistics", statistics)]
        return pd.DataFrame([{"report": r, "date_delivered": d} for r, d in rows if d is not None])

    border = reports.indicator_reports_on_time(dlv(D(2023, 9, 28), D(2023, 10, 9)), q, policy, cal)
    assert border.met and border.value == 1.0
    late = reports.indicator_reports_on_time(dlv(D(2023, 9, 28), D(2023, 10, 10)), q, policy, cal)
    assert not late.met and late.value == 0.5 and "统计表10月10日报送（时限10月9日），逾期" in late.detail
    missing = reports.indicator_reports_on_time(dlv(None, D(2023, 10, 7)), q, policy, cal)
    assert not missing.met and missing.value == 0.5 and "工作总结未报送" in missing.detail


@pytest.mark.parametrize("closed,met", [(5, True), (4, True), (3, False)])
def test_follow_up_indicator(policy, closed, met):
    as_of = D(2023, 12, 31)
    frame = pd.DataFrame({
        "follow_up": ["penalty"] * 5 + ["none"] * 5,
        "date_follow_up_closed": [D(2023, 11, 1)] * closed + [None] * (5 - closed) + [None] * 5,
    })
    ind = reports.indicator_follow_up(frame, policy, as_of)
    assert policy.evaluation.follow_up_closed_min_share == 0.8
    assert ind.met is met and ind.value == pytest.approx(closed / 5)


def test_score_and_ranking():
    ev = pd.DataFrame({
        "unit": ["a", "a", "b", "b", "c", "c"], "unit_name": ["甲", "甲", "乙", "乙", "丙", "丙"],
        "score": [30.0, 10.0, 30.0, 10.0, 15.0, 10.0], "met": [True, True, True, True, False, True],
    })
    ranks = reports.ranking(ev)
    assert ranks["unit"].tolist() == ["a", "b", "c"]
    assert ranks["rank"].tolist() == [1, 1, 3]      # equal scores share a rank
    assert ranks["score"].tolist() == [40.0, 40.0, 25.0]


def test_evaluate_scores_are_weight_times_attainment(inputs):
    ev = reports.evaluate(inputs)
    assert set(ev["unit"]) == {"xiongxian", "rongcheng", "anxin"}
    weights = inputs.policy.evaluation.weights
    assert set(ev["indicator"]) == set(weights)
    expected = [round(weights[i] * a, 2) for i, a in zip(ev["indicator"], ev["attainment"], strict=True)]
    assert ev["score"].tolist() == expected
    assert (ev.loc[ev["met"], "score"] == ev.loc[ev["met"], "weight"]).all()


def test_evaluation_needs_the_policy_section(inputs):
    from dsr_analysis.errors import ParameterError

    bare = dataclasses.replace(inputs, policy=dataclasses.replace(inputs.policy, evaluation=None))
    with pytest.raises(ParameterError, match="has no 'evaluation' section"):
        reports.evaluate(bare)


def test_ledger_requires_results(tmp_path):
    from dsr_analysis.errors import ParameterError

    (tmp_path / "ledger.sqlite").write_bytes(b"")
    with pytest.raises(ParameterError, match="the results register is required"):
        reports.load_report_inputs("2023Q1", ledger=str(tmp_path / "ledger.sqlite"))


def test_annual_quotas_sum_the_quarters(inputs):
    plan = reports.annual_quotas(inputs, "rongcheng")
    quarters = ["第一季度", "第二季度", "第三季度", "第四季度"]
    assert (plan[quarters].sum(axis=1) == plan["全年合计"]).all()
    from dsr_analysis.quotas import quarterly_quotas
    q1 = quarterly_quotas(inputs.classified, inputs.policy, "2023Q1", inputs.registers.inspectors,
                          units=["rongcheng"])
    assert plan["第一季度"].sum() == q1["quota"].sum()


def test_a_unit_without_tasks_gives_a_row_of_zeros(inputs):
    """A unit that drew nothing in the quarter (e.g. its draw is still to come) renders."""
    empty = inputs.tasks.iloc[0:0]
    row = reports.statistics_row(inputs.classified, inputs.registers.inspectors, empty,
                                 inputs.results, inputs.policy)
    assert row["tasks_drawn"] == row["checks_total"] == row["checks_credit"] == 0
    assert row["objects_total"] == len(inputs.classified) > 0


def test_dates_are_written_without_zero_padding(inputs):
    from dsr_analysis.periods import date_zh
    import datetime as dt

    assert date_zh(dt.date(2023, 4, 6)) == "2023年4月6日"
    assert date_zh(dt.date(2023, 10, 9), year=False) == "10月9日"
    cal = reports.reporting_calendar(inputs.policy, inputs.calendar)
    text = " ".join(cal.astype(str).to_numpy().ravel())
    assert "2023年10月9日" in text  # 2023Q3's statistics due date (R9)
    assert "月0" not in text and "年0" not in text
