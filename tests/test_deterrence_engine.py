"""The deterrence engine's versions: version 2 (counter-based streams, compiled passes) is
identical for every chunk size and thread count and draws exactly what the sort-based
selection draws; version 1 still gives the first engine's results for a seed."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

from dsr_analysis.errors import ParameterError
from dsr_analysis.simulation import kernels
from dsr_analysis.simulation.deterrence import (
    CATEGORY_KEYS,
    TIMELINE_KEYS,
    DeterrenceParams,
    build_model,
    deterrence_chunk,
    deterrence_tables,
    init_firms,
    simulate_deterrence,
    simulate_quarter,
    year_end,
)
from dsr_analysis.simulation.sampling import Budget, replicate_seeds, select_by_stratum


def _with_draw(policy, **changes):
    return dataclasses.replace(policy, draw=dataclasses.replace(policy.draw, **changes))


def _equal(a, b):
    pd.testing.assert_frame_equal(a.timeline, b.timeline, check_exact=True)
    pd.testing.assert_frame_equal(a.by_category, b.by_category, check_exact=True)


# ------------------------------------------------------------------ version 1 kept
def test_version_1_gives_the_first_engines_results(policy, classified, registers):
    """engine_version=1 through the executor (two chunk sizes, two threads) equals the first
    engine's quarter loop run by hand: each replicate's SeedSequence split into a draw and a
    behaviour stream (numpy PCG64), init_firms, simulate_quarter, year_end."""
    params = DeterrenceParams()
    kw = dict(replicates=3, years=2, seed=21, inspectors=registers.inspectors,
              engine_version=1)
    a = simulate_deterrence(classified, policy, params, chunk_size=1, workers=2, **kw)
    b = simulate_deterrence(classified, policy, params, chunk_size=3, workers=1, **kw)
    _equal(a, b)
    model = build_model(classified, policy, params, registers.inspectors, Budget())
    seeds = replicate_seeds(21, 3)
    pairs = [s.spawn(2) for s in seeds]
    draw_g = [np.random.Generator(np.random.PCG64(x)) for x, _ in pairs]
    beh_g = [np.random.Generator(np.random.PCG64(y)) for _, y in pairs]
    firms = init_firms(model, beh_g)
    tl = {k: np.zeros((3, 8)) for k in TIMELINE_KEYS}
    bc = {k: np.zeros((3, 8, 3)) for k in CATEGORY_KEYS}
    for year in range(2):
        for q in range(4):
            simulate_quarter(model, firms, draw_g, beh_g, tl, bc, slice(0, 3), 4 * year + q)
        year_end(model, firms)
    by_hand = deterrence_tables(model, tl, bc, 3, 2, 21, engine_version=1)
    _equal(a, by_hand)
    assert a.settings["engine_version"] == 1
    # The two versions share no random numbers: different draws, same model.
    c = simulate_deterrence(classified, policy, params, replicates=3, years=2, seed=21,
                            inspectors=registers.inspectors)
    assert c.settings["engine_version"] == 2
    assert not c.timeline["violators"].equals(a.timeline["violators"])


def test_unknown_engine_version_is_refused(policy, classified):
    with pytest.raises(ParameterError, match="engine_version: 3"):
        simulate_deterrence(classified, policy, replicates=1, years=1, engine_version=3)


# ------------------------------------------------------------------ version 2 identity
@pytest.mark.parametrize("draw", [
    dict(),  # the plan: independent, areas avoid the counties' draws
    dict(overlap="yearly_cap", yearly_cap=1, between_levels="merge"),
    dict(overlap="rotation", overlap_scope="all_levels"),
])
def test_version_2_is_identical_for_every_chunk_size_and_thread_count(policy, classified,
                                                                      draw):
    pol = _with_draw(policy, **draw)
    kw = dict(replicates=5, years=2, seed=99)
    a = simulate_deterrence(classified, pol, chunk_size=1, workers=1, **kw)
    b = simulate_deterrence(classified, pol, chunk_size=2, workers=2, **kw)
    c = simulate_deterrence(classified, pol, chunk_size=5, workers=2, **kw)
    _equal(a, b)
    _equal(a, c)
    # A replicate is the same whatever else runs: the first 2 replicates of a run of 5.
    d = simulate_deterrence(classified, pol, replicates=2, years=2, seed=99)
    _equal(d, type(d)(a.timeline[a.timeline["replicate"] < 2].reset_index(drop=True),
                      a.by_category[a.by_category["replicate"] < 2].reset_index(drop=True),
                      d.settings))


def test_version_2_chunks_are_pure(policy, classified):
    """deterrence_chunk of the same seeds twice (the kernels keep no state)."""
    model = build_model(classified, policy, DeterrenceParams(), None, Budget())
    seeds = replicate_seeds(5, 2)
    tl1, bc1 = deterrence_chunk(model, seeds, 1)
    tl2, bc2 = deterrence_chunk(model, seeds, 1)
    for k in tl1:
        np.testing.assert_array_equal(tl1[k], tl2[k])
    for k in bc1:
        np.testing.assert_array_equal(bc1[k], bc2[k])


# ------------------------------------------------------------------ version 2 pieces
def test_counter_uniforms_are_uniform_and_independent_between_keys():
    """Kolmogorov-Smirnov distance of 200,000 numbers below its 0.1 % critical value
    (1.95 / sqrt(n)); mean and lag-1 correlation within 5 standard errors; two keys'
    streams uncorrelated; a number depends only on (key, counter)."""
    n = 200_000
    key_a, key_b = np.uint64(0x1234_5678_9ABC_DEF0), np.uint64(7)
    u = kernels.counter_uniforms(key_a, np.uint64(0), n)
    v = kernels.counter_uniforms(key_b, np.uint64(0), n)
    assert u.min() >= 0.0 and u.max() < 1.0
    s = np.sort(u)
    ks = max((np.arange(1, n + 1) / n - s).max(), (s - np.arange(n) / n).max())
    assert ks < 1.95 / math.sqrt(n)
    se = math.sqrt(1 / 12 / n)
    assert abs(u.mean() - 0.5) < 5 * se
    assert abs(np.corrcoef(u[:-1], u[1:])[0, 1]) < 5 / math.sqrt(n)
    assert abs(np.corrcoef(u, v)[0, 1]) < 5 / math.sqrt(n)
    np.testing.assert_array_equal(kernels.counter_uniforms(key_a, np.uint64(1000), 10),
                                  u[1000:1010])


def test_tail_table_decides_as_erfc():
    """violates(u, x) == (u < erfc(x / sqrt 2) / 2) for uniforms spread over [0, 1) and
    uniforms placed within twice the table's margin of the tail, x over and beyond the
    table."""
    tab = kernels.tail_table()
    rng = np.random.default_rng(4)
    x = np.concatenate([rng.uniform(-10, 10, 20_000), [-9.0, 0.0, 9.0, 12.0, -12.0]])
    q = np.array([0.5 * math.erfc(v * (1 / math.sqrt(2))) for v in x])
    near = np.clip(q + rng.uniform(-2 * kernels.TAIL_MARGIN, 2 * kernels.TAIL_MARGIN, len(x)),
                   0, np.nextafter(1, 0))
    for u in (rng.random(len(x)), near):
        got = np.array([kernels.violates(a, b, tab) for a, b in zip(u, x, strict=True)])
        np.testing.assert_array_equal(got, u < q)


def test_screened_draw_selects_what_the_sort_selects(policy, classified):
    """dv2_draw (screening bound, candidates only) marks exactly the firms that
    select_by_stratum (a stable lexsort of every eligible firm's key) marks: for the plan's
    quotas with the screening bound, with bounds too tight (the second scan), and for
    quotas of all but one firm (no screening)."""
    from dsr_analysis.quotas import inclusion_probabilities
    from dsr_analysis.simulation.coverage import NEWTON_STEPS, SCREEN_EXTRA, SCREEN_SD
    from dsr_analysis.simulation.deterrence import _quotas_v2

    model = build_model(classified, policy, DeterrenceParams(), None, Budget())
    R, N, S, P = 6, model.arrays.n, model.strata.n, model.strata.n_passes
    credit = np.repeat(model.arrays.credit.astype(np.int8)[None, :], R, axis=0)
    positive = np.repeat(model.arrays.positive[None, :], R, axis=0)
    pen_last = np.repeat(model.penalised[None, :], R, axis=0)
    checks = np.zeros((P, R, N), dtype=np.int16)
    cat = np.empty((R, N), dtype=np.int8)
    sid = np.empty((P, R, N), dtype=np.int16)
    counts, offc, ec, fresh = (np.empty((R, S, 4), dtype=np.int64) for _ in range(4))
    cat_n, pos_n = np.empty((R, 3), dtype=np.int64), np.empty(R, dtype=np.int64)
    fixed = np.ascontiguousarray(model.fixed[:S])
    E, M = 3 ** P, kernels.combinations(model.strata.lookup.shape[1], P)
    combo, ccount = np.empty((R, N), dtype=np.int32), np.zeros((R, M), dtype=np.int64)
    kernels.dv2_state(model.cat_table, model.arrays.unit.astype(np.int64), model.strata.lookup,
                      model.arrays.offsite, credit, positive, pen_last, checks, False, False,
                      2, fixed, False, cat, sid, counts, offc, ec, fresh, cat_n, pos_n, combo,
                      ccount, False, model.arrays.credit, np.zeros((R, N), dtype=bool),
                      np.zeros((R, N), dtype=np.int16), 1)
    assert (ccount.sum(axis=1) == N).all()
    plan = _quotas_v2(model, counts, offc)
    keys = np.arange(1, R + 1, dtype=np.uint64) * np.uint64(0x9E37_79B9)
    cases = [(plan, 1.0), (plan, 0.3), (plan, 0.0), (np.maximum(ec.sum(axis=-1) - 1, 0), 1.0)]
    for quota, tighter in cases:
        lam = np.ascontiguousarray(inclusion_probabilities(ec, quota, model.strata.bases))
        tau = kernels.screen_plan(ec, lam, np.minimum(quota, ec.sum(axis=-1)), SCREEN_SD,
                                  SCREEN_EXTRA, NEWTON_STEPS)[0]
        if quota is plan:
            assert ((tau > 0) & (tau < 1)).any()
        tau = np.where(tau < 1, tau * tighter, tau)  # too tight: the strata are scanned again
        p = 0
        drawn = np.zeros((P, R, N), dtype=bool)
        dlist = np.empty((P, R, N), dtype=np.int64)
        dn = np.zeros((P, R), dtype=np.int64)
        base = np.uint64(12345)
        kernels.dv2_draw(p, combo, ccount, model.strata.lookup, E, checks, False, False,
                         drawn[0], False, lam, tau, quota, keys, base, drawn, dlist, dn,
                         kernels.draw_work(N))
        u = np.stack([kernels.counter_uniforms(k, base, N) for k in keys])
        lam_f = np.take_along_axis(lam.reshape(R, -1), np.maximum(
            sid[p].astype(np.int64), 0) * 4 + credit, axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            q = np.where(lam_f >= 1, 0.0, (u / (1 - u)) / (lam_f / (1 - lam_f)))
        q = np.where(np.isnan(q) | (sid[p] < 0), np.inf, q)
        want = select_by_stratum(q, sid[p], quota)
        np.testing.assert_array_equal(drawn[p], want)
        assert dn[p].tolist() == want.sum(axis=1).tolist()
        assert sorted(dlist[p, 0, :dn[p, 0]].tolist()) == np.flatnonzero(want[0]).tolist()


# ------------------------------------------------------------------ version 2 combinations
@pytest.mark.parametrize("draw", [
    dict(),
    dict(overlap="rotation", overlap_scope="all_levels"),
])
def test_first_quarter_perceived_probability_is_the_firm_by_firm_formula(policy, classified,
                                                                        registers, draw):
    """Version 2 computes perceived probabilities once per combination of firm states and
    sums count x value: in the first quarter (the register's states for every replicate)
    its mean equals the first engine's firm-by-firm formula (perceived_probability x
    detection_of, averaged over the firms) on the same quotas."""
    from dsr_analysis.simulation.deterrence import (
        FirmState,
        detection_of,
        perceived_probability,
        quarter_quotas,
        quarter_strata,
    )

    pol = _with_draw(policy, **draw)
    params = DeterrenceParams()
    res = simulate_deterrence(classified, pol, params, replicates=3, years=1, seed=3,
                              inspectors=registers.inspectors)
    model = build_model(classified, pol, params, registers.inspectors, Budget())
    N, P = model.arrays.n, model.strata.n_passes
    firms = FirmState(credit=model.arrays.credit.astype(np.int8)[None, :].copy(),
                      positive=model.arrays.positive[None, :].copy(),
                      pen_last=model.penalised[None, :].copy(),
                      pen_now=np.zeros((1, N), dtype=bool),
                      clean_years=np.zeros((1, N), dtype=np.int16),
                      checks=[np.zeros((1, N), dtype=np.int16) for _ in range(P)],
                      log_gain=np.zeros((1, N)))
    _, sid = quarter_strata(model, firms)
    quota = quarter_quotas(model, firms, sid)
    p_check, in_fixed = perceived_probability(model, firms, sid, quota)
    det = detection_of(model.arrays.offsite[None, :], in_fixed, params,
                       pol.methods.offsite_first)
    want = float((p_check * det).mean())
    first = res.timeline.loc[res.timeline["t"] == 1, "mean_perceived"].to_numpy()
    np.testing.assert_allclose(first, want, rtol=1e-12)


def test_combinations_decode_to_the_firms_states(policy, classified):
    """dv2_state gives each firm the combination of its unit, category, positive list,
    class and off-site capability (every firm eligible at the start of a year: state 1 in
    each pass with a stratum), and counts the firms per combination."""
    model = build_model(classified, policy, DeterrenceParams(), None, Budget())
    R, N, S, P = 2, model.arrays.n, model.strata.n, model.strata.n_passes
    credit = np.repeat(model.arrays.credit.astype(np.int8)[None, :], R, axis=0)
    positive = np.repeat(model.arrays.positive[None, :], R, axis=0)
    pen_last = np.repeat(model.penalised[None, :], R, axis=0)
    checks = np.zeros((P, R, N), dtype=np.int16)
    cat = np.empty((R, N), dtype=np.int8)
    sid = np.empty((P, R, N), dtype=np.int16)
    counts, offc, ec, fresh = (np.empty((R, S, 4), dtype=np.int64) for _ in range(4))
    cat_n, pos_n = np.empty((R, 3), dtype=np.int64), np.empty(R, dtype=np.int64)
    E, M = 3 ** P, kernels.combinations(model.strata.lookup.shape[1], P)
    combo, ccount = np.empty((R, N), dtype=np.int32), np.zeros((R, M), dtype=np.int64)
    kernels.dv2_state(model.cat_table, model.arrays.unit.astype(np.int64), model.strata.lookup,
                      model.arrays.offsite, credit, positive, pen_last, checks, False, False,
                      2, np.ascontiguousarray(model.fixed[:S]), False, cat, sid, counts, offc,
                      ec, fresh, cat_n, pos_n, combo, ccount, False, model.arrays.credit,
                      np.zeros((R, N), dtype=bool), np.zeros((R, N), dtype=np.int16), 1)
    cb = combo[0].astype(np.int64)
    states = (sid[:, 0, :] >= 0).astype(np.int64)  # (passes, N): 1 where in a stratum
    es = sum(states[p] * 3 ** p for p in range(P))
    st = ((((model.arrays.unit.astype(np.int64) * 3 + cat[0]) * 2 + positive[0]) * 4
           + credit[0]) * 2 + model.arrays.offsite)
    np.testing.assert_array_equal(cb, st * E + es)
    np.testing.assert_array_equal(ccount[0], np.bincount(cb, minlength=M))
    np.testing.assert_array_equal(combo[0], combo[1])
