"""Quarterly quotas (R3, R4) worked out by hand from the rules."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from dsr_analysis.categories import classify
from dsr_analysis.errors import QuarterError
from dsr_analysis.policy import load_policy
from dsr_analysis.quotas import (class_table, credit_share, inclusion_probabilities, pareto_keys,
                                 quarterly_quotas, quota_checks, ticket_uniform, ticket_uniforms)


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
    assert (row.population, row.quota, row.method, row.credit_weighted) == (5, 5, "offsite_full",
                                                                          False)
    assert row.stratum == "general/positive_list"


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


def test_one_stratum_per_unit_and_rule_with_class_probabilities(policy):
    credits = ["A"] * 40 + ["B"] * 40 + ["C"] * 20
    frame = classify(pd.DataFrame(_firms("anxin", 100, credit=credits, key_polluter=True)), policy)
    t = quarterly_quotas(frame, policy, "2023Q1")
    key = t[(t.unit == "anxin") & (t.category == "key")]
    assert len(key) == 1
    row = key.iloc[0]
    assert row.quota == 25 and row.stratum == "key/all" and row.credit_weighted
    w = policy.credit_risk.weights
    mass = 40 * w["A"] + 40 * w["B"] + 20 * w["C"]
    for c, n in (("A", 40), ("B", 40), ("C", 20)):
        assert row[f"population_{c}"] == n
        assert row[f"probability_{c}"] == pytest.approx(25 * w[c] / mass)
        assert row[f"expected_{c}"] == pytest.approx(n * 25 * w[c] / mass)
    assert row.population_D == 0 and row.probability_D == 0
    assert sum(row[f"expected_{c}"] for c in "ABCD") == pytest.approx(25)
    long = class_table(key)
    assert list(long["credit_class"]) == ["A", "B", "C", "D"]
    assert long["expected"].sum() == pytest.approx(25)


def test_small_classes_keep_a_positive_probability(policy):
    # 7 key objects, 3 of them A-class: the old per-class rounding gave A a quota of 0.
    frame = classify(pd.DataFrame(_firms("xiongxian", 7, credit=["A", "A", "A", "B", "B", "C", "C"],
                                         key_polluter=True)), policy)
    t = quarterly_quotas(frame, policy, "2023Q1")
    row = t[(t.unit == "xiongxian") & (t.category == "key")].iloc[0]
    assert row.quota == 2
    assert all(row[f"probability_{c}"] > 0 for c in "ABC")
    assert row.probability_A < row.probability_B < row.probability_C


def test_inclusion_probabilities_properties():
    rng = np.random.default_rng(7)
    bases = [0.5, 1.0, 1.5, 2.0]
    for _ in range(300):
        counts = rng.integers(0, 30, size=4)
        quota = int(rng.integers(0, counts.sum() + 3))
        lam = inclusion_probabilities(counts, quota, bases)
        assert (counts * lam).sum() == pytest.approx(min(quota, counts.sum()))
        assert (lam <= 1.0).all()
        if 0 < quota:
            present = counts > 0
            assert (lam[present] > 0).all()
            # proportional to the bases among the classes not taken with certainty
            free = present & (lam < 1)
            ratio = lam[free] / np.asarray(bases)[free]
            assert np.allclose(ratio, ratio[0]) if free.any() else True


def test_inclusion_probabilities_cap_at_certainty():
    # D's share 10 x 100 x 3 / (2 + 100 + 300) = 7.5 exceeds its 3 objects: certain, the rest
    # rescaled: 7 over A and B in proportion 1:1 -> 7/102 each.
    lam = inclusion_probabilities(np.array([2, 100, 0, 3]), 10, [1, 1, 5, 100])
    assert lam[3] == 1.0 and lam[2] == 0.0
    assert lam[0] == lam[1] == pytest.approx(7 / 102)
    # Vectorised over strata: the same numbers, bit for bit.
    many = inclusion_probabilities(np.array([[2, 100, 0, 3], [3, 65, 23, 7]]),
                                   np.array([10, 19]), [1, 1, 5, 100])
    assert many[0].tolist() == lam.tolist()
    assert many[1].tolist() == inclusion_probabilities(np.array([3, 65, 23, 7]), 19,
                                                       [1, 1, 5, 100]).tolist()


def test_per_class_target_ratios(policy, tmp_path):
    """Hejian 2022: A 5 %, B 20 %, C and D 30 % as target ratios, raised to the minimum."""
    import dataclasses

    cr = dataclasses.replace(policy.credit_risk, ratios={"A": 0.05, "B": 0.20, "C": 0.30,
                                                         "D": 0.30})
    pol = dataclasses.replace(policy, credit_risk=cr)
    credits = ["A"] * 40 + ["B"] * 40 + ["C"] * 20
    frame = classify(pd.DataFrame(_firms("anxin", 100, credit=credits)), pol)
    t = quarterly_quotas(frame, pol, "2023Q1")
    general = t[(t.unit == "anxin") & (t.subset == "not_positive_list")].iloc[0]
    wanted = 40 * 0.05 + 40 * 0.20 + 20 * 0.30        # 16 > the 3 % minimum of 3
    assert general.quota == math.ceil(wanted)
    assert general.probability_A == pytest.approx(0.05)
    assert general.probability_C == pytest.approx(0.30)
    frame = classify(pd.DataFrame(_firms("anxin", 100, credit=credits, key_polluter=True)), pol)
    key = quarterly_quotas(frame, pol, "2023Q1").query("unit == 'anxin' and category == 'key'")
    row = key.iloc[0]
    assert row.quota == 25                                # the 25 % minimum needs more than 16
    assert row.probability_A / row.probability_B == pytest.approx(0.05 / 0.20)
    assert row.expected_A + row.expected_B + row.expected_C == pytest.approx(25)


def test_ticket_uniform_is_exact_and_vectorised():
    import hashlib

    digests = [hashlib.sha256(str(i).encode()).digest() for i in range(1000)]
    u = ticket_uniforms(digests)
    assert [ticket_uniform(d.hex()) for d in digests] == u.tolist()
    assert (u > 0).all() and (u < 1).all()
    assert ticket_uniform("0" * 64) == 1 / 2**53
    assert ticket_uniform("f" * 64) == (2**53 - 1) / 2**53
    keys = pareto_keys(u, np.full(len(u), 0.25))
    assert keys.tolist() == [(x / (1 - x)) / (0.25 / 0.75) for x in u.tolist()]
    assert pareto_keys(0.3, 1.0) == 0.0


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
    uniform.loc[uniform["category"] == "key", "credit_weighted"] = False
    assert credit_share(uniform, policy) < credit_share(t, policy)


def test_inclusion_probabilities_of_expected_counts():
    """The planner passes expected (fractional) eligible counts, the optimiser a fractional
    quota: the same capping, homogeneous in counts and quota."""
    counts = np.array([2.5, 60.25, 11.0, 0.75])
    lam = inclusion_probabilities(counts, 9.5, [0.5, 1.0, 1.5, 20.0])
    assert (counts * lam).sum() == pytest.approx(9.5)
    assert lam[3] == 1.0
    scaled = inclusion_probabilities(counts * 8, 9.5 * 8, [0.5, 1.0, 1.5, 20.0])
    assert np.allclose(scaled, lam, rtol=0, atol=1e-12)
