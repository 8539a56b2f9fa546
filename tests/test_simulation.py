"""Coverage engine: selection, quotas, closed forms (R3, R4), determinism."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from dsr_analysis.categories import classify
from dsr_analysis.deterrence import yearly_coverage
from dsr_analysis.quotas import allocate, quarterly_quotas
from dsr_analysis.sample import synthetic_enterprises
from dsr_analysis.simulation import (
    Budget,
    allocate_many,
    build_strata,
    closed_form_check,
    coverage_summary,
    dynamic_quotas,
    select_by_stratum,
    simulate_coverage,
    smallest_k,
    static_quotas,
)


def _with_draw(policy, **changes):
    return dataclasses.replace(policy, draw=dataclasses.replace(policy.draw, **changes))


# ------------------------------------------------------------------ building blocks
def test_allocate_many_equals_allocate_row_by_row():
    rng = np.random.default_rng(1)
    pops = rng.integers(0, 12, size=(3000, 4))
    pops[rng.random(3000) < 0.1, 0] = 0
    totals = np.array([rng.integers(0, p.sum() + 1) for p in pops])
    for weights in ([0.5, 1.0, 1.5, 2.0], [1, 1, 1, 1], [0, 0, 3, 0], [0, 0, 0, 0]):
        got = allocate_many(totals, pops, weights)
        want = np.array([allocate(int(t), p, weights) for t, p in zip(totals, pops, strict=True)])
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("sparse", [True, False])
def test_smallest_k_picks_the_k_smallest_with_priorities(sparse):
    rng = np.random.default_rng(2)
    R, n = 40, 3000
    keys = rng.random((R, n))
    seen = rng.random((R, n)) < 0.4
    out = rng.random((R, n)) < 0.05
    keys = keys + seen
    keys[out] = np.inf
    n2 = (seen & ~out).sum(axis=1)
    n1 = (~seen & ~out).sum(axis=1)
    k = rng.integers(1, 40 if sparse else 2500, size=R)
    k[0] = 0
    k[1] = n1[1] + n2[1] + 5  # more than selectable: all selectable come back
    rows, cols = smallest_k(keys, k, n1, n2)
    for r in range(R):
        chosen = np.sort(cols[rows == r])
        finite = np.flatnonzero(np.isfinite(keys[r]))
        want = np.sort(finite[np.argsort(keys[r, finite])][:k[r]])
        np.testing.assert_array_equal(chosen, want)


def test_select_by_stratum_matches_brute_force():
    rng = np.random.default_rng(3)
    R, N, S = 12, 500, 7
    stratum = rng.integers(-1, S, size=(R, N))
    keys = rng.random((R, N)) + (rng.random((R, N)) < 0.3)
    keys[rng.random((R, N)) < 0.05] = np.inf
    quota = rng.integers(0, 60, size=(R, S))
    sel = select_by_stratum(keys, stratum, quota)
    for r in range(R):
        for s in range(S):
            members = np.flatnonzero((stratum[r] == s) & np.isfinite(keys[r]))
            want = members[np.argsort(keys[r, members])][:quota[r, s]]
            np.testing.assert_array_equal(np.flatnonzero(sel[r] & (stratum[r] == s)),
                                          np.sort(want))
    assert not sel[stratum < 0].any()


@pytest.mark.parametrize("n", [None, 20_000])
def test_dynamic_quotas_equal_quarterly_quotas(policy, classified, registers, n):
    frame = classified if n is None else classify(synthetic_enterprises(n, 5), policy)
    strata = build_strata(policy)
    want = static_quotas(frame, policy, strata, registers.inspectors)
    from dsr_analysis.deterrence import group_strata

    groups, sids = group_strata(frame, policy, strata)
    pop = np.zeros(strata.n)
    for p in range(sids.shape[1]):
        ok = sids[:, p] >= 0
        np.add.at(pop, sids[ok, p], groups["objects"].to_numpy()[ok])
    got = dynamic_quotas(strata, pop[None, :], policy)
    np.testing.assert_array_equal(got[0], want)
    assert want.sum() == quarterly_quotas(frame, policy, "2023Q1")["quota"].sum()


# ------------------------------------------------------------------ closed forms
def test_independent_coverage_matches_closed_form(policy, classified):
    """R4 strata drawn independently each quarter: 1-(1-n/N)^4 within sampling error."""
    merge = _with_draw(policy, overlap="independent", between_levels="merge")
    reps = 300
    res = simulate_coverage(classified, merge, replicates=reps, seed=11)
    quotas = quarterly_quotas(classified, merge, "2023Q1")
    cov = res.coverage
    checked = 0
    # County general objects off the positive list: only the county draw reaches them.
    for _, q in quotas[(quotas["quota_rule"] == "county-general-other")
                       & (quotas["population"] > 0)].iterrows():
        sub = cov[(cov["unit"] == q["unit"]) & (cov["category"] == "general")
                  & ~cov["positive_list"] & (cov["credit_class"] == q["credit_class"])]
        sim = sub["covered"].sum() / sub["objects"].sum()
        p = float(yearly_coverage(q["quota"], q["population"]))
        se = np.sqrt(p * (1 - p) / (q["population"] * reps))
        assert abs(sim - p) < 4 * se + 1e-9, (q["unit"], q["credit_class"], sim, p)
        checked += 1
    # County key objects: the area draw and the county draw, independent.
    area = quotas[quotas["quota_rule"] == "area-key"].set_index("credit_class")
    for _, q in quotas[(quotas["quota_rule"] == "county-key") & (quotas["population"] > 0)
                       ].iterrows():
        a = area.loc[q["credit_class"]]
        miss = (1 - q["quota"] / q["population"]) * (1 - a["quota"] / a["population"])
        p = 1 - miss ** 4
        sub = cov[(cov["unit"] == q["unit"]) & (cov["category"] == "key")
                  & (cov["credit_class"] == q["credit_class"])]
        sim = sub["covered"].sum() / sub["objects"].sum()
        se = np.sqrt(max(p * (1 - p), 1e-4) / (sub["objects"].iloc[0] * reps))
        assert abs(sim - p) < 4 * se + 1e-9, (q["unit"], q["credit_class"], sim, p)
        checked += 1
    assert checked >= 15
    # Every random quota drawn in full in every replicate and quarter (nothing excluded).
    random = res.quotas[res.quotas["method"] == "random"]
    assert (random["drawn_min"] == random["quota"]).all()


def test_rotation_at_25_percent_covers_every_county_key_object(policy, classified):
    """A county key stratum drawn at 25 % a quarter (one stratum per county, no credit
    sub-quotas, which could give a class less than 25 %) is covered exactly in a year."""
    rules = tuple(dataclasses.replace(r, credit_weighted=False) for r in policy.quotas.rules)
    flat = dataclasses.replace(policy, quotas=dataclasses.replace(policy.quotas, rules=rules))
    assert {r.ratio for r in rules if r.id == "county-key"} == {0.25}
    rot = _with_draw(flat, overlap="rotation")
    res = simulate_coverage(classified, rot, replicates=30, years=2, seed=4)
    cov = res.coverage
    county_key = cov[(cov["unit"] != "xiongan") & (cov["category"] == "key")]
    assert len(county_key) > 0
    assert (county_key["covered"] == county_key["objects"]).all()
    special = cov[(cov["unit"] != "xiongan") & (cov["category"] == "special")]
    assert (special["covered"] == special["objects"]).all()  # 50 % a quarter
    # Independent draws at the same ratios do not cover everything.
    ind = simulate_coverage(classified, flat, replicates=30, years=2, seed=4).coverage
    ind_key = ind[(ind["unit"] != "xiongan") & (ind["category"] == "key")]
    assert ind_key["covered"].sum() < ind_key["objects"].sum()


def test_yearly_cap_is_never_exceeded(policy, classified):
    capped = _with_draw(policy, overlap="yearly_cap", yearly_cap=1)
    res = simulate_coverage(classified, capped, replicates=20, seed=5)
    cov = res.coverage[~res.coverage["positive_list"]]  # full off-site coverage is not capped
    assert (cov["inspections"] == cov["covered"]).all()  # one check at most per object
    assert (cov["covered"] <= cov["objects"]).all()
    # 50 % a quarter cannot be kept up with one check a year: the quota falls short.
    assert res.quotas["attainment_min"].min() < 1


def test_positive_list_is_checked_offsite_every_quarter(policy, classified):
    res = simulate_coverage(classified, policy, replicates=5, seed=6)
    pos = res.coverage[(res.coverage["category"] == "general") & res.coverage["positive_list"]
                       & (res.coverage["unit"] != "xiongan")]
    assert (pos["inspections"] == 4 * pos["objects"]).all()


def test_avoid_follows_the_official_drawing_order(policy, classified):
    """As in dsr_analysis.draw: counties draw first, so their minimums are always met, and the
    area level skips what they drew (falling short only where its stratum runs out)."""
    avoid = _with_draw(policy, between_levels="avoid")
    res = simulate_coverage(classified, avoid, replicates=20, seed=8)
    q = res.quotas
    county = q[q["unit"] != "xiongan"]
    assert (county["drawn_min"] == county["quota"]).all()
    area = q[q["unit"] == "xiongan"]
    table = quarterly_quotas(classified, policy, "2023Q1")
    county_rows = table[(table["level"] == "county") & (table["method"] == "random")]
    for _, row in area.iterrows():
        category = row["quota_rule"].split("-")[1]  # area-key, area-special
        same = county_rows[(county_rows["category"] == category)
                           & (county_rows["credit_class"] == row["credit_class"])]
        free = row["population"] - same["quota"].sum()  # not drawn by a county this quarter
        assert row["drawn_min"] == min(row["quota"], free)
    assert (area["drawn_min"] < area["quota"]).any()  # the sample's D-class special stratum


# ------------------------------------------------------------------ determinism, budget
def test_same_seed_same_results_and_chunk_size_does_not_matter(policy, classified):
    a = simulate_coverage(classified, policy, replicates=12, seed=99, chunk_size=12)
    b = simulate_coverage(classified, policy, replicates=12, seed=99, chunk_size=5)
    for name in ("coverage", "visits", "gaps", "quotas", "workload"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))
    c = simulate_coverage(classified, policy, replicates=12, seed=100)
    assert not a.coverage["covered"].equals(c.coverage["covered"])


def test_budget_cut_scales_quotas_down(policy, classified, registers):
    full = simulate_coverage(classified, policy, replicates=3, seed=1,
                             inspectors=registers.inspectors)
    cut = simulate_coverage(classified, policy, replicates=3, seed=1,
                            inspectors=registers.inspectors,
                            budget=Budget(inspector_scale=0.3, enforce=True))
    assert cut.quotas["quota"].sum() < full.quotas["quota"].sum()
    w = cut.workload.groupby(["unit"]).agg(days=("inspector_days", "mean"),
                                           cap=("capacity_days", "first"))
    # Random draws are cut to capacity (the full off-site coverage is never cut).
    assert (w["days"] <= w["cap"] * 1.25).all()


def test_summary_shapes(policy, classified):
    res = simulate_coverage(classified, policy, replicates=4, years=2, seed=1)
    s = coverage_summary(res, by=["category", "credit_class"])
    assert set(s["category"]) == {"special", "key", "general"}
    assert ((s["coverage"] >= 0) & (s["coverage"] <= 1)).all()
    assert res.visits.groupby("category")["share"].sum().round(9).eq(1).all()
    assert len(res.workload) == 4 * 8 * 4


def test_closed_form_check_table(policy, classified):
    res = simulate_coverage(classified, policy, replicates=200, seed=21)
    table = closed_form_check(res, classified, policy)
    # The county draws of general objects off the positive list are reached by no other draw.
    assert set(table["quota_rule"]) == {"county-general-other"}
    assert len(table) == 9  # three counties x classes A-C (no D-class general objects)
    assert (table["z"].abs() < 4).all()
    rot = simulate_coverage(classified, _with_draw(policy, overlap="rotation"), replicates=5,
                            seed=21)
    rtable = closed_form_check(rot, classified, _with_draw(policy, overlap="rotation"))
    # 4 x 3 % < 100 %: rotation covers exactly 4n objects a year.
    np.testing.assert_allclose(rtable["simulated"], rtable["closed_form"], rtol=1e-12)


def test_sample_distinct_is_a_simple_random_sample():
    from scipy import stats

    from dsr_analysis.simulation import sample_distinct

    reps, n, k = 4000, 300, 20
    gens = [np.random.default_rng(s) for s in range(reps)]
    rows, cols, short = sample_distinct(gens, n, k)
    assert len(short) == 0
    assert (np.bincount(rows, minlength=reps) == k).all()
    assert len(np.unique(rows * n + cols)) == len(rows)  # distinct within each row
    observed = np.bincount(cols, minlength=n)
    expected = reps * k / n
    chi2 = ((observed - expected) ** 2 / expected).sum()
    assert stats.chi2.sf(chi2, n - 1) > 1e-4
    # Excluded positions are never drawn; the sample stays of size k among the rest.
    gens = [np.random.default_rng(s) for s in range(200)]
    rows, cols, short = sample_distinct(gens, n, k, lambda rr, cc: cc % 3 == 0)
    assert not (cols % 3 == 0).any()
    assert (np.bincount(rows, minlength=200)[np.setdiff1d(np.arange(200), short)] == k).all()
    # Rows that could not be completed are reported, with nothing selected.
    gens = [np.random.default_rng(s) for s in range(50)]
    rows, cols, short = sample_distinct(gens, 40, 39, lambda rr, cc: cc < 5)
    assert len(short) == 50 and len(rows) == 0
