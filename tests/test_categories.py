"""Categories (R2): conditions, the conflict rule and the recorded reason."""

from __future__ import annotations

import pandas as pd
import pytest

from dsr_analysis.categories import classify


def _firm(**facts) -> dict:
    base = dict(uscc="x", unit="xiongxian", permit_class="registration", key_polluter=False,
                positive_list=False, offsite_capable=False, credit_class="A",
                penalised_last_year=False, supervision_order_last_year=False,
                complaints_last_year=0, emergency_risk="none")
    base.update(facts)
    return base


@pytest.mark.parametrize(
    "facts, category, reason_start",
    [
        ({}, "general", "general: no designating condition met (default, R2)"),
        ({"key_polluter": True}, "key", "key: 列入重点排污单位名录 (key_polluter, R2)"),
        ({"permit_class": "key"}, "key", "key: 排污许可重点管理 (permit_key, R2)"),
        ({"emergency_risk": "larger"}, "key", "key: 突发环境事件风险等级为较大"),
        ({"penalised_last_year": True}, "special", "special: 上年度受到行政处罚 (penalised, R2)"),
        ({"complaints_last_year": 3}, "special", "special: 上年度有效投诉举报3次及以上"),
        ({"complaints_last_year": 2}, "general", "general: no designating"),
        ({"credit_class": "D"}, "special", "special: 信用风险分类为D类"),
        ({"positive_list": True}, "general", "general: 纳入生态环境监督执法正面清单"),
    ],
)
def test_single_conditions(policy, facts, category, reason_start):
    out = classify(pd.DataFrame([_firm(**facts)]), policy)
    assert out.loc[0, "category"] == category
    assert out.loc[0, "category_reason"].startswith(reason_start)


def test_key_polluter_on_positive_list_is_general(policy):
    """R2/R4: the general designation wins over key, and the reason says what it overrode."""
    out = classify(pd.DataFrame([_firm(key_polluter=True, positive_list=True,
                                       permit_class="key")]), policy)
    assert out.loc[0, "category"] == "general"
    reason = out.loc[0, "category_reason"]
    assert reason.startswith("general: 纳入生态环境监督执法正面清单 (positive_list, R2)")
    assert "overrides key: 列入重点排污单位名录 (key_polluter, R2) [R2 conflict rule]" in reason


def test_special_wins_over_key(policy):
    out = classify(pd.DataFrame([_firm(key_polluter=True, supervision_order_last_year=True)]),
                   policy)
    assert out.loc[0, "category"] == "special"
    assert "overrides key" in out.loc[0, "category_reason"]


def test_first_condition_in_file_order_is_named(policy):
    out = classify(pd.DataFrame([_firm(penalised_last_year=True, complaints_last_year=5)]),
                   policy)
    assert "(penalised, R2)" in out.loc[0, "category_reason"]
    assert "complaints" not in out.loc[0, "category_reason"]


def test_precedence_is_policy_data(policy):
    import dataclasses

    flipped = dataclasses.replace(
        policy, categories=dataclasses.replace(policy.categories,
                                               precedence=("key", "special", "general")))
    frame = pd.DataFrame([_firm(key_polluter=True, positive_list=True)])
    assert classify(frame, flipped).loc[0, "category"] == "key"
    assert classify(frame, policy).loc[0, "category"] == "general"


def test_sample_every_firm_has_a_reason(policy):
    from dsr_analysis.registers import load_registers

    out = classify(load_registers(units=policy.unit_names).enterprises, policy)
    assert set(out["category"]) == {"special", "key", "general"}
    assert (out["category_reason"].str.len() > 0).all()
    assert (out.loc[out["penalised_last_year"], "category"] == "special").all()
