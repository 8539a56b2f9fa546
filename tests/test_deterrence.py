"""Deterrence: closed forms, limiting cases, calibration, state-dependent enforcement."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

from dsr_analysis.simulation.deterrence import (
    NATIONAL_HIT_RATE_2019,
    DeterrenceParams,
    calibrate_gain_median,
    combined_probability,
    deterrence_summary,
    expected_hit_rate,
    expected_violation_rate,
    pooled_hit_rate,
    quick_estimate,
    quick_totals,
    rotation_coverage,
    simulate_deterrence,
    violation_probability,
    yearly_coverage,
)


# ------------------------------------------------------------------ closed forms
def test_yearly_and_rotation_coverage():
    assert yearly_coverage(25, 100) == pytest.approx(1 - 0.75 ** 4)
    assert yearly_coverage(0, 100) == 0
    assert yearly_coverage(3, 0) == 0
    np.testing.assert_allclose(yearly_coverage([1, 2], [10, 10], quarters=2),
                               [1 - 0.9 ** 2, 1 - 0.8 ** 2])
    assert rotation_coverage(25, 100) == 1.0
    assert rotation_coverage(10, 100) == pytest.approx(0.4)
    assert combined_probability(0.5, 0.5) == pytest.approx(0.75)


def test_violation_probability_is_the_lognormal_tail():
    m, s = 2.0, 0.8
    for threshold in (0.1, 1.0, 2.0, 7.5):
        z = (math.log(threshold) - math.log(m)) / s
        want = 0.5 * math.erfc(z / math.sqrt(2))
        assert violation_probability(threshold, m, s) == pytest.approx(want, rel=1e-9)
    assert violation_probability(2.0, m, s) == pytest.approx(0.5)
    assert violation_probability(1.0, m, s, compliant_share=0.4) == pytest.approx(
        0.6 * violation_probability(1.0, m, s))
    # No gain spread: everyone or nobody.
    assert violation_probability(1.0, 2.0, 0.0) == 1.0
    assert violation_probability(3.0, 2.0, 0.0) == 0.0


def test_no_sanction_deters_nobody_and_certain_sanction_everybody_closed_form():
    p = np.linspace(0, 1, 11)
    assert np.all(expected_violation_rate(p, 0.9, 0.0, 1.0, 1.2) == 1.0)
    assert np.all(expected_violation_rate(1.0, 1.0, 10.0, 1.0, 0.0) == 0.0)
    v = expected_violation_rate(p, 0.7, 10.0, 1.0, 1.2)
    assert np.all(np.diff(v) < 0)  # more inspections, fewer violations


def test_calibration_round_trip():
    p = np.array([0.03, 0.25, 0.5, 1.0])
    d = np.array([0.7, 0.7, 0.7, 0.3])
    n = np.array([2000, 300, 200, 300])
    m = calibrate_gain_median(0.05, p, d, 10.0, 1.3, n, 0.5)
    assert expected_hit_rate(p, d, 10.0, m, 1.3, n, 0.5) == pytest.approx(0.05, abs=1e-9)
    with pytest.raises(ValueError, match="cannot be reached"):
        calibrate_gain_median(0.9, p, d, 10.0, 1.3, n)


def test_default_parameters_reproduce_the_national_hit_rate(policy, classified, registers):
    params = DeterrenceParams()
    est = quick_estimate(classified, policy, params, inspectors=registers.inspectors)
    codes = est["credit_class"].map({"A": 0, "B": 1, "C": 2, "D": 3}).to_numpy()
    m = calibrate_gain_median(NATIONAL_HIT_RATE_2019, est["p_quarter"], est["detection"],
                              params.sanction, params.total_sigma, est["objects"],
                              params.compliant_share, params.gain_factor(codes))
    assert params.gain_median == pytest.approx(m, rel=0.02)
    assert quick_totals(est)["hit_rate"] == pytest.approx(NATIONAL_HIT_RATE_2019, abs=0.002)


# ------------------------------------------------------------------ simulation
def test_simulation_agrees_with_closed_form_in_the_first_quarter(policy, classified, registers):
    params = DeterrenceParams()
    res = simulate_deterrence(classified, policy, params, replicates=40, years=1, seed=3,
                              inspectors=registers.inspectors)
    est = quick_totals(quick_estimate(classified, policy, params, inspectors=registers.inspectors))
    q1 = res.timeline[res.timeline["t"] == 1]
    n = len(classified)
    # Violators: binomial-like around the expectation.
    se = math.sqrt(est["violators"] * (1 - est["violators"] / n) / len(q1))
    assert q1["violators"].mean() == pytest.approx(est["violators"], abs=5 * se)
    hit = q1["detected"].sum() / q1["inspections"].sum()
    se_hit = math.sqrt(hit * (1 - hit) / q1["inspections"].sum())
    assert hit == pytest.approx(est["hit_rate"], abs=5 * se_hit + 0.002)


def test_no_sanction_nobody_is_deterred(policy, classified):
    params = DeterrenceParams(sanction=0.0, compliant_share=0.0)
    res = simulate_deterrence(classified, policy, params, replicates=4, years=1, seed=1)
    assert (res.timeline["violators"] == len(classified)).all()


def test_certain_detection_and_sanction_above_every_gain_nobody_violates(policy, classified):
    # Every object inspected every quarter: all ratios 1, and only objects some rule covers.
    rules = tuple(dataclasses.replace(r, ratio=1.0) for r in policy.quotas.rules)
    full = dataclasses.replace(policy, quotas=dataclasses.replace(policy.quotas, rules=rules))
    covered = classified[~((classified["unit"] == "xiongan")
                           & (classified["category"] == "general"))]
    params = DeterrenceParams(gain_sigma=0.0, gain_noise=0.0, gain_median=1.0,
                              compliant_share=0.0, sanction=4.0 * 1.0 + 1.0,
                              detection_onsite=1.0, detection_offsite=1.0)
    res = simulate_deterrence(covered, full, params, replicates=3, years=1, seed=2)
    assert (res.timeline["inspections"] == len(covered)).all()
    assert (res.timeline["violators"] == 0).all()
    # The same firms, one unit of sanction less than the largest gain: the D-class violate.
    weaker = dataclasses.replace(params, sanction=3.5)
    res = simulate_deterrence(covered, full, weaker, replicates=3, years=1, seed=2)
    n_d = int((covered["credit_class"] == "D").sum())
    assert (res.timeline["violators"] == n_d).all()


def test_same_seed_same_results(policy, classified):
    a = simulate_deterrence(classified, policy, replicates=6, years=1, seed=7, chunk_size=6)
    b = simulate_deterrence(classified, policy, replicates=6, years=1, seed=7, chunk_size=4)
    pd.testing.assert_frame_equal(a.timeline, b.timeline)
    pd.testing.assert_frame_equal(a.by_category, b.by_category)
    c = simulate_deterrence(classified, policy, replicates=6, years=1, seed=8)
    assert not a.timeline["violators"].equals(c.timeline["violators"])


def test_detected_violations_move_firms_down(policy, classified):
    """Harrington: detections shrink the positive list and fill the special category."""
    params = DeterrenceParams(gain_median=5.0, recovery_years=0)
    res = simulate_deterrence(classified, policy, params, replicates=5, years=2, seed=4)
    tl = res.timeline.sort_values(["replicate", "t"])
    assert (tl.groupby("replicate")["positive_list"].diff().dropna() <= 0).all()
    first = tl[tl["t"] == 1]["positive_list"].mean()
    last = tl[tl["t"] == 8]["positive_list"].mean()
    assert last < first
    # Penalised firms become special the next year (R2).
    special_y1 = tl[tl["year"] == 1]["special"].mean()
    special_y2 = tl[tl["year"] == 2]["special"].mean()
    assert special_y2 > special_y1
    # Without consequences nothing moves.
    inert = dataclasses.replace(params, downgrade_steps=0, remove_from_positive_list=False)
    res = simulate_deterrence(classified, policy, inert, replicates=2, years=1, seed=4)
    assert res.timeline["positive_list"].nunique() == 1


def test_outputs_are_consistent(policy, classified):
    res = simulate_deterrence(classified, policy, replicates=3, years=2, seed=5)
    tl = res.timeline
    assert (tl["detected"] <= tl["violators"]).all()
    assert (tl["undetected"] == tl["violators"] - tl["detected"]).all()
    assert (tl["onsite"] + tl["offsite"] == tl["inspections"]).all()
    bc = res.by_category.groupby(["replicate", "t"])[["objects", "violators", "detected"]].sum()
    merged = tl.merge(bc.reset_index(), on=["replicate", "t"], suffixes=("", "_c"))
    assert (merged["objects"] == merged["objects_c"]).all()
    assert (merged["violators"] == merged["violators_c"]).all()
    summary = deterrence_summary(res)
    assert list(summary["year"]) == [1, 2]
    assert 0 < pooled_hit_rate(res) < 1


def test_deterrence_draw_frequency_matches_lambda(policy, classified):
    """The deterrence engine's draw (general sort-based path) gives each credit class its
    inclusion probability lambda in the first quarter (binomial bounds; the small-quota
    Pareto bias is far below the bound for these strata)."""
    from dsr_analysis.simulation.deterrence import (build_model, draw_passes, init_firms, quarter_quotas,
                                         quarter_strata)
    from dsr_analysis.quotas import quarterly_quotas
    from dsr_analysis.simulation.sampling import Budget, replicate_seeds

    merge = dataclasses.replace(policy, draw=dataclasses.replace(policy.draw,
                                                                  between_levels="merge"))
    model = build_model(classified, merge, DeterrenceParams(), None, Budget())
    R = 400
    gens = [np.random.Generator(np.random.PCG64(s)) for s in replicate_seeds(3, R)]
    firms = init_firms(model, gens)
    _, sid = quarter_strata(model, firms)
    quota = quarter_quotas(model, firms, sid)
    draw_passes(model, firms, sid, quota, gens)
    table = quarterly_quotas(classified, merge, "2023Q1").set_index(["unit", "quota_rule"])
    credit = model.arrays.credit
    for s, row in model.strata.table.iterrows():
        if row["method"] != "random":
            continue
        q = table.loc[(row["unit"], row["quota_rule"])]
        p = row["pass_"]
        for c, cls in enumerate("ABCD"):
            members = (sid[p][0] == s) & (credit == c)
            if not members.any():
                continue
            lam = q[f"probability_{cls}"]
            freq = firms.checks[p][:, members].mean()
            sd = np.sqrt(max(lam * (1 - lam), 1e-12) / (R * members.sum()))
            assert abs(freq - lam) < 4.5 * sd + 0.01, (row["unit"], row["quota_rule"], cls)


def test_both_engines_fill_the_same_quotas(policy, classified):
    """Coverage and deterrence engines agree on order and overlap: without enforcement
    effects, the first quarter's checks are the quotas filled (avoid: counties first)."""
    from dsr_analysis.simulation.coverage import simulate_coverage

    inert = DeterrenceParams(downgrade_steps=0, remove_from_positive_list=False)
    det = simulate_deterrence(classified, policy, inert, replicates=5, years=1, seed=2)
    cov = simulate_coverage(classified, policy, replicates=5, seed=2)
    visits = cov.workload.groupby(["replicate", "quarter"])[["onsite", "offsite"]].sum().sum(axis=1)
    q1 = det.timeline[det.timeline["quarter"] == 1]["inspections"].to_numpy()
    np.testing.assert_array_equal(q1, visits.xs(1, level="quarter").to_numpy())


# ------------------------------------------------------------------ memory and chunks
def test_category_table_classifies_distinct_combinations_only(policy, classified, monkeypatch):
    """The table of categories per (credit, positive list, penalised) state: classify runs
    on 16 x the distinct combinations of the other deciding columns (not 16 copies of the
    register) and gives what 16 copies would."""
    from dsr_analysis.categories import classify
    from dsr_analysis.policy import CATEGORIES, CREDIT_CLASSES
    from dsr_analysis.simulation import deterrence

    sizes = []

    def counting(frame, pol):
        sizes.append(len(frame))
        return classify(frame, pol)

    monkeypatch.setattr(deterrence, "classify", counting)
    table = deterrence._category_table(classified, policy)
    fields = sorted({c.field for c in policy.categories.conditions}
                    - set(deterrence.STATE_COLUMNS))
    assert sizes == [16 * len(classified[fields].drop_duplicates())]
    assert sizes[0] < len(classified)
    parts = []
    for credit in CREDIT_CLASSES:
        for pos in (False, True):
            for pen in (False, True):
                parts.append(classified.assign(credit_class=credit, positive_list=pos,
                                               penalised_last_year=pen))
    brute = classify(pd.concat(parts, ignore_index=True), policy)["category"].map(
        {c: i for i, c in enumerate(CATEGORIES)}).to_numpy(np.int8).reshape(16, -1).T
    assert table.dtype == np.int8 and (table == brute).all()


@pytest.mark.parametrize("engine_version, low, high", [(1, 40, 250), (2, 15, 60)])
def test_memory_is_set_by_the_chunk_size(policy, engine_version, low, high):
    """Peak memory (tracemalloc) of a run: a few bytes per object, plus about 120 bytes
    (engine version 1) or 30 bytes (version 2) per object and replicate of the chunk - on
    main the category table alone took 16 copies of the register (about 15,000 bytes per
    object)."""
    import tracemalloc

    from dsr_analysis.categories import classify
    from dsr_analysis.sample import synthetic_enterprises

    n = 20_000
    frame = classify(synthetic_enterprises(n, 1), policy)
    kw = dict(years=1, seed=1, workers=1, engine_version=engine_version)
    simulate_deterrence(frame, policy, replicates=1, **kw)  # warm-up
    peaks = {}
    for chunk in (1, 8):
        tracemalloc.start()
        simulate_deterrence(frame, policy, replicates=8, chunk_size=chunk, **kw)
        peaks[chunk] = tracemalloc.get_traced_memory()[1] / n
        tracemalloc.stop()
    assert peaks[1] < 400
    per_replicate = (peaks[8] - peaks[1]) / 7
    assert low < per_replicate < high


def test_chunks_threads_and_default_chunk_change_nothing(policy, classified):
    kw = dict(replicates=6, years=1, seed=17)
    a = simulate_deterrence(classified, policy, chunk_size=1, workers=1, **kw)
    b = simulate_deterrence(classified, policy, chunk_size=4, workers=2, **kw)
    c = simulate_deterrence(classified, policy, **kw)  # default chunk and threads
    for other in (b, c):
        pd.testing.assert_frame_equal(a.timeline, other.timeline, check_exact=True)
        pd.testing.assert_frame_equal(a.by_category, other.by_category, check_exact=True)
