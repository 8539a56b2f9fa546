"""Quarterly quotas (R3, R4) worked out by hand from the rules."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from dsr_analysis.categories import classify
from dsr_analysis.errors import QuarterError
from dsr_analysis.policy import load_policy
from dsr_analysis.quotas import allocate, credit_share, quarterly_quotas, quota_checks


def _firms(unit: str, n: int, start: int = 0, credit: str | list = "A", **facts) -> list[dict]:
    credits = credit if isinstance(credit, list) else [credit] * n
    rows = []
    for i in range(n):
        row = dict(uscc=f"{unit}-{start + i}", unit=unit, permit_class="registration",
                   key_polluter=False, positive_list=False, offsite_capable=False,
                   credit_class=credits[i], penalised_last_year=False,
                   supervision_order_last_year=False, complaints_last_year=0,
                   emergency_risk="none")
        row.update(facts)
        rows.append(row)
    return rows


def _inspectors(unit: str, n: int, inactive: int = 0) -> pd.DataFrame:
    return pd.DataFrame({"inspector_id": [f"{unit}-{i}" for i in range(n + inactive)],
                         "unit": unit, "active": [True] * n + [False] * inactive,
                         "certified": True})


def _total(table: pd.DataFrame, unit: str, category: str, subset: str = "all") -> int:
    sel = table[(table.unit == unit) & (table.category == category) & (table.subset == subset)]
    return int(sel["quota"].sum())


def _population(table, unit, category, subset="all") -> int:
    sel = table[(table.unit == unit) & (table.category == category) & (table.subset == subset)]
    return int(sel["population"].sum())


@pytest.fixture
def small(policy):
    rows = (_firms("xiongxian", 7, credit=["A", "A", "A", "B", "B", "C", "C"], key_polluter=True)
            + _firms("xiongxian", 3, 100, penalised_last_year=True)
            + _firms("xiongxian", 34, 200)
            + _firms("xiongxian", 5, 300, positive_list=True, offsite_capable=True)
            + _firms("xiongan", 4, 400, key_polluter=True)
            + _firms("rongcheng", 1, 500, supervision_order_last_year=True))
    return classify(pd.DataFrame(rows), policy)


def test_county_quotas_round_up(small, policy):
    t = quarterly_quotas(small, policy, "2023Q1")
    assert _total(t, "xiongxian", "key") == 2  # 25 % of 7 = 1.75 -> 2
    assert _total(t, "xiongxian", "special") == 2  # 50 % of 3 = 1.5 -> 2
    assert _total(t, "xiongxian", "general", "not_positive_list") == 2  # 3 % of 34 = 1.02 -> 2
    assert _total(t, "rongcheng", "special") == 1  # 50 % of 1 -> 1
    assert _total(t, "anxin", "key") == 0  # empty stratum: 0, not an error


def test_positive_list_fully_covered_off_site(small, policy):
    t = quarterly_quotas(small, policy, "2023Q1")
    row = t[(t.unit == "xiongxian") & (t.subset == "positive_list")].iloc[0]
    assert (row.population, row.quota, row.method, row.credit_class) == (5, 5, "offsite_full", "all")


def test_new_area_draws_from_the_whole_area_and_counties_from_their_own(small, policy):
    t = quarterly_quotas(small, policy, "2023Q1")
    assert _population(t, "xiongan", "key") == 7 + 4  # xiongxian's key objects + its own
    assert _population(t, "xiongxian", "key") == 7
    assert _population(t, "xiongan", "special") == 3 + 1
    assert _total(t, "xiongan", "key") == math.ceil(0.10 * 11)
    # The new-area level has no general-object minimum in the plan.
    assert t[(t.unit == "xiongan") & (t.category == "general")].empty


def test_exact_multiples_do_not_round_up(policy):
    frame = classify(pd.DataFrame(_firms("anxin", 100)), policy)
    t = quarterly_quotas(frame, policy, "2023Q2")
    assert _total(t, "anxin", "general", "not_positive_list") == 3  # 3 % of 100 is 3, not 4


def test_credit_weights_share_the_minimum(policy):
    credits = ["A"] * 40 + ["B"] * 40 + ["C"] * 20
    frame = classify(pd.DataFrame(_firms("anxin", 100, credit=credits, key_polluter=True)), policy)
    t = quarterly_quotas(frame, policy, "2023Q1")
    key = t[(t.unit == "anxin") & (t.category == "key")].set_index("credit_class")
    assert key["quota"].sum() == 25
    w = policy.credit_risk.weights
    ideal = {c: 25 * n * w[c] / (40 * w["A"] + 40 * w["B"] + 20 * w["C"])
             for c, n in (("A", 40), ("B", 40), ("C", 20))}
    for c, x in ideal.items():
        assert abs(key.loc[c, "quota"] - x) < 1
    assert key.loc["A", "ratio"] < key.loc["B", "ratio"] < key.loc["C", "ratio"]
    assert key.loc["D", "population"] == 0 and key.loc["D", "quota"] == 0


def test_allocate_properties():
    rng = np.random.default_rng(7)
    for _ in range(200):
        pops = rng.integers(0, 30, size=4)
        total = int(rng.integers(0, pops.sum() + 1))
        shares = allocate(total, pops, [0.5, 1.0, 1.5, 2.0])
        assert shares.sum() == total
        assert (shares <= pops).all() and (shares >= 0).all()


def test_allocate_caps_and_redistributes():
    # ideal shares 10 x (2, 100, 0, 30) / 132 = (0.15, 7.58, 0, 2.27): largest remainder -> B
    assert allocate(10, [2, 100, 0, 3], [1, 1, 5, 10]).tolist() == [0, 8, 0, 2]
    # D's ideal share 10 x 300 / 402 = 7.5 exceeds its 3 objects: capped, the rest flows on
    assert allocate(10, [2, 100, 0, 3], [1, 1, 5, 100]).tolist() == [0, 7, 0, 3]


def test_allocate_refuses_more_than_population():
    with pytest.raises(ValueError, match="cannot allocate 5 draws over 4 objects"):
        allocate(5, [1, 1, 1, 1], [1, 1, 1, 1])


def test_bad_quarter(policy, small):
    with pytest.raises(QuarterError, match="'2023Q5' is not a quarter"):
        quarterly_quotas(small, policy, "2023Q5")


def test_chizhou_quotas():
    p = load_policy("chizhou-2019")
    rows = (_firms("guichi", 10, key_polluter=True) + _firms("guichi", 7, 100, penalised_last_year=True)
            + _firms("guichi", 41, 200) + _firms("chizhou", 9, 300, key_polluter=True))
    frame = classify(pd.DataFrame(rows), p)
    t = quarterly_quotas(frame, p, "2019Q3", _inspectors("guichi", 4))
    assert _total(t, "guichi", "key") == 3  # 25 % of 10 = 2.5 -> 3
    assert _total(t, "guichi", "special") == 2  # 15 % of 7 = 1.05 -> 2
    assert _total(t, "guichi", "general") == 3  # 5 % of 41 = 2.05 -> 3
    assert _population(t, "chizhou", "key") == 9  # the city level draws its own objects
    assert _total(t, "chizhou", "key") == 3  # 25 % of 9 = 2.25 -> 3
    checks = {c.check: c for c in quota_checks(t, p, _inspectors("guichi", 4))}
    work = checks["guichi: yearly draws vs inspectors"]
    assert (work.value, work.target, work.met) == (4 * (3 + 2 + 3), 4 * 5, True)


def test_guangzhou_staff_ratio_for_general_objects():
    p = load_policy("guangzhou")
    rows = (_firms("tianhe", 30) + _firms("tianhe", 8, 100, key_polluter=True)
            + _firms("yuexiu", 4, 200))
    frame = classify(pd.DataFrame(rows), p)
    inspectors = pd.concat([_inspectors("tianhe", 9, inactive=3), _inspectors("yuexiu", 9)])
    t = quarterly_quotas(frame, p, "2023Q1", inspectors)
    # 9 active inspectors x 2.5 objects a year / 4 quarters = 5.625 -> 6, not a share of objects
    assert _total(t, "tianhe", "general") == 6
    assert _total(t, "tianhe", "key") == 1  # 12.5 % of 8
    # More than the population: capped and flagged
    yuexiu = t[(t.unit == "yuexiu") & (t.category == "general")]
    assert yuexiu["quota"].sum() == 4
    assert yuexiu["flag"].iloc[0] == "capped: minimum 6 exceeds the population of 4"


def test_guangzhou_needs_the_inspector_register():
    p = load_policy("guangzhou")
    frame = classify(pd.DataFrame(_firms("tianhe", 3)), p)
    with pytest.raises(ValueError, match="needs the inspector register"):
        quarterly_quotas(frame, p, "2023Q1")


def test_credit_share_of_sample_meets_r3(policy):
    from dsr_analysis.registers import load_registers

    reg = load_registers(units=policy.unit_names)
    t = quarterly_quotas(classify(reg.enterprises, policy), policy, "2023Q1", reg.inspectors)
    assert credit_share(t, policy) >= policy.credit_risk.min_share
    uniform = t.copy()
    uniform.loc[uniform["category"] == "key", "credit_class"] = "all"
    assert credit_share(uniform, policy) < credit_share(t, policy)
