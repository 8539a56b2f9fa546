"""Coverage engine: Pareto order sampling per stratum (R3, R4), overlap rules, determinism."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from scipy import special, stats

from dsr_analysis.categories import classify
from dsr_analysis.overlap import OverlapRules
from dsr_analysis.quotas import inclusion_probabilities, quarterly_quotas
from dsr_analysis.sample import synthetic_enterprises
from dsr_analysis.simulation.sampling import (
    Budget,
    build_strata,
    class_counts,
    draw_keys,
    dynamic_quotas,
    replicate_seeds,
    select_by_stratum,
    smallest_in_groups,
    static_quotas,
    stratum_ids,
    yearly_coverage,
)
from dsr_analysis.simulation.coverage import (
    build_layout,
    closed_form_check,
    coverage_summary,
    key_threshold,
    sample_pass,
    simulate_coverage,
)


def _with_draw(policy, **changes):
    return dataclasses.replace(policy, draw=dataclasses.replace(policy.draw, **changes))


def _flat(policy):
    """Every rule without credit weighting (equal lambda within a stratum)."""
    rules = tuple(dataclasses.replace(r, credit_weighted=False) for r in policy.quotas.rules)
    return dataclasses.replace(policy, quotas=dataclasses.replace(policy.quotas, rules=rules))


@pytest.fixture(scope="module")
def small(policy):
    """A small synthetic register (about 800 objects)."""
    return classify(synthetic_enterprises(800, 7), policy)


def pareto_inclusion(counts: np.ndarray, lam: np.ndarray, k: int) -> np.ndarray:
    """Exact inclusion probability per class of Pareto order sampling of ``k`` objects
    (objects with lambda >= 1 first), by quadrature over the object's own uniform."""
    counts = np.asarray(counts, dtype=int)
    sure = lam >= 1
    n_sure = int(counts[sure].sum())
    out = np.where(sure & (counts > 0), 1.0, 0.0)
    if k <= n_sure:
        return np.where(sure & (counts > 0), k / max(n_sure, 1), 0.0)
    theta = np.where(sure | (lam <= 0), 0.0, lam / np.where(sure, 0.5, 1 - lam))
    x, w = special.roots_legendre(4000)
    v = (x + 1) / 2  # the object's own F(Q), uniform on (0, 1)
    w = w / 2
    for i in np.flatnonzero(~sure & (counts > 0)):
        q = v / (theta[i] * (1 - v))
        pmf = np.zeros((len(v), 1))
        pmf[:, 0] = 1.0
        for c in np.flatnonzero(~sure & (counts > 0)):
            m = counts[c] - (1 if c == i else 0)
            p = q * theta[c] / (1 + q * theta[c])
            b = stats.binom.pmf(np.arange(m + 1)[None, :], m, p[:, None])
            pmf = np.array([np.convolve(pmf[j], b[j]) for j in range(len(v))])
        below = pmf[:, :k - n_sure].sum(axis=1)  # fewer than k - n_sure others before it
        out[i] = float((w * below).sum())
    return out


# ------------------------------------------------------------------ building blocks
def test_select_by_stratum_matches_brute_force():
    rng = np.random.default_rng(3)
    R, N, S = 12, 500, 7
    stratum = rng.integers(-1, S, size=(R, N))
    keys = rng.random((R, N)) * 10 + (rng.random((R, N)) < 0.3)
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
    flat = np.flatnonzero((stratum >= 0) & np.isfinite(keys))
    group = (np.arange(R)[:, None] * S + stratum).reshape(-1)[flat]
    picked = flat[smallest_in_groups(group, keys.reshape(-1)[flat], quota.reshape(-1))]
    np.testing.assert_array_equal(np.sort(picked), np.flatnonzero(sel.reshape(-1)))


@pytest.mark.parametrize("n", [None, 20_000])
def test_dynamic_quotas_equal_quarterly_quotas(policy, classified, registers, n):
    frame = classified if n is None else classify(synthetic_enterprises(n, 5), policy)
    strata = build_strata(policy)
    from dsr_analysis.simulation.sampling import RegisterArrays

    arrays = RegisterArrays.from_frame(frame, policy)
    sid = stratum_ids(strata, arrays)
    counts = sum(class_counts(sid[p][None, :], arrays.credit[None, :], strata.n)
                 for p in range(strata.n_passes))
    got = dynamic_quotas(strata, counts, policy)[0]
    want = static_quotas(frame, policy, strata, registers.inspectors)
    np.testing.assert_array_equal(got, want)
    table = quarterly_quotas(frame, policy, "2023Q1")
    assert want.sum() == table["quota"].sum()
    table = strata.table[["unit", "quota_rule"]].merge(table, on=["unit", "quota_rule"])
    np.testing.assert_array_equal(counts[0], table[[f"population_{c}" for c in "ABCD"]])
    np.testing.assert_array_equal(got, table["quota"])


@pytest.mark.parametrize("overlap", ["independent", "rotation", "yearly_cap"])
def test_dense_path_is_the_plain_pareto_draw(policy, small, overlap):
    """Screening the uniforms per class gives exactly the quota's smallest Pareto keys of
    all eligible objects, with exclusions and rotation rounds (every stratum forced onto the
    dense path)."""
    _dense_path_against_plain_draw(policy, small, overlap, ties=False)


@pytest.mark.parametrize("overlap", ["independent", "rotation", "yearly_cap"])
def test_dense_path_kernel_with_tied_uniforms_is_the_lexsort_draw(policy, small, overlap):
    """The compiled dense path with many tied uniforms (on a grid of 1/64): still exactly the
    plain draw ranked by ``np.lexsort`` (ties by position)."""
    _dense_path_against_plain_draw(policy, small, overlap, ties=True)


def _dense_path_against_plain_draw(policy, small, overlap, ties):
    pol = _with_draw(policy, overlap=overlap, yearly_cap=1)
    layout = build_layout(small, pol, sparse_max_share=0.0)
    rules = OverlapRules.from_policy(pol)
    pl = layout.passes[0]
    assert not pl.stratum_sparse.any() and pl.dense_width == pl.width - (pl.col_block < 0).sum()
    R = 64
    rng = np.random.default_rng(11)
    u = rng.random((R, pl.dense_width))
    if ties:
        u = np.floor(u * 64) / 64
    counted = rng.integers(0, 2, size=(R, pl.width)).astype(np.int16)
    elig = None if overlap != "yearly_cap" else counted < 1
    rows, cols, strata, k = sample_pass(pl, u, elig, counted, rules, {})
    # Plain computation: lambda on the eligible objects, keys for every object, sort.
    blk = pl.col_block
    local = np.where(blk >= 0, pl.block_local[np.maximum(blk, 0)], -1)
    credit = np.where(blk >= 0, pl.block_credit[np.maximum(blk, 0)], 0)
    u_span = np.full((R, pl.width), 0.5)
    u_span[:, pl.dense_cols] = u
    ok = np.ones((R, pl.width), dtype=bool) if elig is None else elig
    c4 = class_counts(np.broadcast_to(local, (R, pl.width)), np.broadcast_to(credit,
                      (R, pl.width)), len(pl.strata), mask=ok)
    lam = inclusion_probabilities(c4, pl.quota, pl.bases)
    lam_obj = lam[np.arange(R)[:, None], np.maximum(local, 0), credit]
    keys = draw_keys(u_span, lam_obj, counted if overlap == "rotation" else None, rules)
    keys[~ok | (local < 0)] = np.inf
    want = select_by_stratum(keys, np.broadcast_to(local, (R, pl.width)),
                             np.broadcast_to(pl.quota, (R, len(pl.strata))))
    got = np.zeros_like(want)
    got[rows, cols - pl.lo] = True
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(strata, pl.strata[local[cols - pl.lo]])
    np.testing.assert_array_equal(k, np.minimum(pl.quota, c4.sum(axis=-1)))


def test_kernel_selection_equals_numpy_lexsort_with_ties():
    """The compiled selection (kernels.select_groups, also behind smallest_in_groups) takes
    per group exactly the k smallest by (value, position) - the plain np.lexsort selection -
    on random inputs with many ties, infinite keys and k beyond the group size; and the
    compiled k-th smallest equals np.sort's."""
    from dsr_analysis.simulation import kernels

    rng = np.random.default_rng(17)
    hist, scratch = np.empty(4096, dtype=np.int64), np.empty(2000)
    for trial in range(400):
        G, n = int(rng.integers(1, 12)), int(rng.integers(0, 500))
        group = rng.integers(0, G, n)
        levels = int(rng.choice([2, 7, 50, 10 ** 6]))
        key = np.floor(rng.random(n) * levels) / levels * float(rng.choice([1.0, 40.0]))
        if trial % 4 == 0:
            key[rng.random(n) < 0.1] = np.inf
        k = rng.integers(0, 70, G)
        order = np.lexsort((key, group))  # stable: ties by position
        g_sorted = group[order]
        rank = np.arange(n) - np.searchsorted(g_sorted, g_sorted)
        want = np.sort(order[rank < k[g_sorted]])
        np.testing.assert_array_equal(smallest_in_groups(group, key, k), want)
        # The composite form on contiguous groups (comp = group + x, x in [0, 1)).
        with np.errstate(invalid="ignore"):
            x = np.where(np.isinf(key), 0.999, key / (1.0 + key))
        gs = np.sort(group)
        comp = gs + x
        ptr = np.searchsorted(gs, np.arange(G + 1))
        sel = np.zeros(n, dtype=bool)
        kernels.select_groups(comp, comp, ptr, k, sel)
        order = np.lexsort((comp, gs))
        rank = np.arange(n) - ptr[gs[order]]
        want = np.zeros(n, dtype=bool)
        want[order[rank < k[gs[order]]]] = True
        np.testing.assert_array_equal(sel, want)
        if n:
            j = int(rng.integers(0, n))
            assert kernels.kth_smallest(comp, j, hist, scratch) == np.sort(comp)[j]


def test_key_threshold_reaches_its_target():
    rng = np.random.default_rng(2)
    counts = rng.integers(0, 3000, size=(50, 4)).astype(float)
    lam = rng.uniform(0.001, 0.6, size=(50, 4))
    odds = lam / (1 - lam)
    target = counts.sum(axis=1) * rng.uniform(0.01, 0.6, size=50)
    t = key_threshold(counts, odds, target)
    to = t[:, None] * odds
    np.testing.assert_allclose((counts * to / (1 + to)).sum(axis=1), target, rtol=1e-9)


def _quarter_draws(layout, rules, R, seed, mask_of=None):
    """Draw one quarter of every pass (no exclusions) and return, per level, the share of
    the R replicates drawing each object (the stream used as simulate_quarter uses it)."""
    gens = [np.random.Generator(np.random.PCG64(s)) for s in replicate_seeds(seed, R)]
    U = np.empty((R, layout.width))
    for r, g in enumerate(gens):
        g.random(out=U[r])
    freq = np.zeros((len(layout.passes), layout.arrays.n))
    for i, pl in enumerate(layout.passes):
        if not len(pl.strata):
            continue
        elig = None if mask_of is None else mask_of(pl, R)
        rows, cols, strata, k = sample_pass(pl, U[:, pl.offset:pl.offset + pl.dense_width],
                                            elig, None, rules, {}, gens)
        assert len(np.unique(rows * layout.arrays.n + cols)) == len(rows)
        np.testing.assert_array_equal(
            np.bincount(rows * len(pl.strata) + np.searchsorted(pl.strata, strata),
                        minlength=R * len(pl.strata)).reshape(R, -1), k)
        freq[i] = np.bincount(cols, minlength=layout.arrays.n) / R
    return freq


@pytest.mark.parametrize("share", [0.0, None, 1.0])
def test_inclusion_frequency_in_one_quarter_matches_pareto(policy, small, share):
    """(a) Per stratum and credit class, the share of 3,000 replicates drawing an object in
    one quarter equals Pareto sampling's exact inclusion probability (binomial bounds), and
    that is lambda of inclusion_probabilities up to the small-quota bias of Pareto sampling -
    on the dense path (share 0), the default split and the sparse path (share 1)."""
    pol = _with_draw(policy, between_levels="merge")
    layout = build_layout(small, pol, sparse_max_share=share)
    if share == 1.0:
        assert sum(pl.stratum_sparse.sum() for pl in layout.passes) >= 8
    R = 3000
    freq = _quarter_draws(layout, OverlapRules.from_policy(pol), R, 5)
    table = quarterly_quotas(small, pol, "2023Q1").set_index(["unit", "quota_rule"])
    checked = 0
    for p, pl in enumerate(layout.passes):
        for j, s in enumerate(pl.strata):
            row = table.loc[(layout.strata.table.at[s, "unit"],
                             layout.strata.table.at[s, "quota_rule"])]
            lam = row[[f"probability_{c}" for c in "ABCD"]].to_numpy(float)
            counts = row[[f"population_{c}" for c in "ABCD"]].to_numpy(int)
            np.testing.assert_allclose(layout.plan_lambda[s], lam, rtol=0, atol=0)
            exact = pareto_inclusion(counts, lam, int(row["quota"]))
            assert np.abs(exact - lam)[counts > 0].max() < 0.04
            for i in np.flatnonzero(pl.block_local == j):
                a, b, c = pl.starts[i], pl.stops[i], pl.block_credit[i]
                f = freq[p, a:b].mean()
                sd = np.sqrt(max(exact[c] * (1 - exact[c]), 1e-12) / (R * (b - a)))
                assert abs(f - exact[c]) < 4.5 * sd + 1e-12, (s, c, f, exact[c], lam[c])
                checked += 1
    assert checked >= 20


def _chi2_same(f1, f2, R):
    """p-value of per-object frequencies f1, f2 (R replicates each) having the same means."""
    p = (f1 + f2) / 2
    ok = (p > 0) & (p < 1)
    z2 = ((f1 - f2)[ok]) ** 2 / (p[ok] * (1 - p[ok]) * 2 / R)
    return stats.chi2.sf(z2.sum(), ok.sum()), ok.sum()


def test_sparse_and_dense_paths_give_the_same_per_object_frequencies(policy, small):
    """(a) Per object (not only per class), the sparse and the dense path draw with the same
    inclusion probability: a chi-square over every object of the random strata, with
    exclusions (a fixed random eligibility mask per replicate)."""
    pol = _with_draw(policy, between_levels="merge")
    rules = OverlapRules.from_policy(pol)
    dense = build_layout(small, pol, sparse_max_share=0.0)
    sparse = build_layout(small, pol, sparse_max_share=1.0)
    R = 4000

    def mask_of(pl, R):  # an exclusion pattern, the same for both paths
        return np.random.default_rng(pl.level).random((R, pl.width)) < 0.8

    for mask in (None, mask_of):
        f_d = _quarter_draws(dense, rules, R, 21, mask)
        f_s = _quarter_draws(sparse, rules, R, 22, mask)
        for p, pl in enumerate(sparse.passes):
            cols = np.flatnonzero(pl.block_sparse[np.maximum(pl.col_block, 0)]
                                  & (pl.col_block >= 0)) + pl.lo
            pval, n = _chi2_same(f_d[p, cols], f_s[p, cols], R)
            assert n > 50 and pval > 1e-4, (p, pval, n)


def test_sparse_fallback_is_exercised_and_exact(policy, small, monkeypatch):
    """(b) With no margin on the key threshold and few geometric skips, most sparse draws
    fall back (sparse_fallback); the per-class frequencies still equal the exact Pareto
    inclusion probabilities and the per-object ones those of the dense path."""
    import dsr_analysis.simulation.coverage as cov

    calls = []
    real = cov.sparse_fallback
    monkeypatch.setattr(cov, "sparse_fallback", lambda *a: calls.append(1) or real(*a))
    monkeypatch.setattr(cov, "SPARSE_SD", 0.0)
    monkeypatch.setattr(cov, "SPARSE_EXTRA", 0.0)
    monkeypatch.setattr(cov, "GEOM_SD", -1.0)
    monkeypatch.setattr(cov, "GEOM_EXTRA", 0.0)
    pol = _with_draw(policy, between_levels="merge")
    rules = OverlapRules.from_policy(pol)
    layout = build_layout(small, pol, sparse_max_share=1.0)
    R = 3000
    freq = _quarter_draws(layout, rules, R, 7)
    assert len(calls) > R  # about half of the sparse strata-replicates fell back
    dense = _quarter_draws(build_layout(small, pol, sparse_max_share=0.0), rules, R, 8)
    table = quarterly_quotas(small, pol, "2023Q1").set_index(["unit", "quota_rule"])
    for p, pl in enumerate(layout.passes):
        cols = np.flatnonzero(pl.block_sparse[np.maximum(pl.col_block, 0)]
                              & (pl.col_block >= 0)) + pl.lo
        pval, n = _chi2_same(freq[p, cols], dense[p, cols], R)
        assert pval > 1e-4, (p, pval, n)
        for j, s in enumerate(pl.strata):
            if not pl.stratum_sparse[j]:
                continue
            row = table.loc[(layout.strata.table.at[s, "unit"],
                             layout.strata.table.at[s, "quota_rule"])]
            lam = row[[f"probability_{c}" for c in "ABCD"]].to_numpy(float)
            counts = row[[f"population_{c}" for c in "ABCD"]].to_numpy(int)
            exact = pareto_inclusion(counts, lam, int(row["quota"]))
            for i in np.flatnonzero(pl.block_local == j):
                a, b, c = pl.starts[i], pl.stops[i], pl.block_credit[i]
                f = freq[p, a:b].mean()
                sd = np.sqrt(max(exact[c] * (1 - exact[c]), 1e-12) / (R * (b - a)))
                assert abs(f - exact[c]) < 4.5 * sd + 1e-12, (s, c, f, exact[c])


def test_sparse_fallback_keeps_the_stream_layout(policy, classified, monkeypatch):
    """Fallbacks draw from the replicate's own stream: chunk size still never matters."""
    import dsr_analysis.simulation.coverage as cov

    monkeypatch.setattr(cov, "SPARSE_SD", 0.0)
    monkeypatch.setattr(cov, "SPARSE_EXTRA", 0.0)
    a = simulate_coverage(classified, policy, replicates=6, seed=3, chunk_size=6)
    b = simulate_coverage(classified, policy, replicates=6, seed=3, chunk_size=4)
    pd.testing.assert_frame_equal(a.coverage, b.coverage)
    pd.testing.assert_frame_equal(a.workload, b.workload)


# ------------------------------------------------------------------ yearly coverage, closed forms
def test_independent_coverage_matches_closed_form(policy, classified):
    """(b) independent + merge: per class 1-(1-lambda)^4 where one draw reaches the objects,
    1-((1-lambda_county)(1-lambda_area))^4 where both levels draw independently."""
    merge = _with_draw(policy, overlap="independent", between_levels="merge")
    reps = 300
    res = simulate_coverage(classified, merge, replicates=reps, seed=11)
    check = closed_form_check(res, classified, merge)
    assert set(check["quota_rule"]) == {"county-general-other"} and len(check) >= 6
    assert (check["z"].abs() < 4.5).all(), check
    table = quarterly_quotas(classified, merge, "2023Q1")
    area = table[table["quota_rule"] == "area-key"].iloc[0]
    cov = res.coverage
    checked = 0
    for _, q in table[table["quota_rule"] == "county-key"].iterrows():
        for c in "ABCD":
            if q[f"population_{c}"] == 0:
                continue
            p = 1 - ((1 - q[f"probability_{c}"]) * (1 - area[f"probability_{c}"])) ** 4
            sub = cov[(cov["unit"] == q["unit"]) & (cov["category"] == "key")
                      & (cov["credit_class"] == c)]
            sim = sub["covered"].sum() / sub["objects"].sum()
            se = np.sqrt(max(p * (1 - p), 1e-4) / (sub["objects"].iloc[0] * reps))
            assert abs(sim - p) < 4.5 * se + 0.01, (q["unit"], c, sim, p)
            checked += 1
    assert checked >= 6
    random = res.quotas[res.quotas["method"] == "random"]
    assert (random["drawn_min"] == random["quota"]).all()
    # merge: an object drawn by both levels in a quarter is one joint visit.
    assert (cov["inspections"] <= 4 * cov["objects"]).all()


def test_rotation_covers_min_of_one_and_four_quotas(policy, classified):
    """(b) rotation: a stratum only its own unit draws covers exactly min(N, 4 quota) objects
    a year, in every replicate; at 25 % (no credit weighting) the county key strata are
    covered in full by the county draws alone."""
    rot = _with_draw(policy, overlap="rotation", between_levels="merge")
    res = simulate_coverage(classified, rot, replicates=20, years=2, seed=4)
    check = closed_form_check(res, classified, rot)
    assert len(check) == 3
    np.testing.assert_allclose(check["simulated"], check["closed_form"], rtol=0, atol=1e-12)
    table = quarterly_quotas(classified, rot, "2023Q1")
    cov = res.coverage
    for _, q in table[table["quota_rule"] == "county-general-other"].iterrows():
        sub = cov[(cov["unit"] == q["unit"]) & (cov["category"] == "general")
                  & ~cov["positive_list"]]
        per = sub.groupby(["replicate", "year"])["covered"].sum()
        assert (per == min(q["population"], 4 * q["quota"])).all()
    flat = simulate_coverage(classified, _flat(rot), replicates=10, seed=4).coverage
    county_key = flat[(flat["unit"] != "xiongan") & flat["category"].isin(["key", "special"])]
    assert (county_key["covered"] == county_key["objects"]).all()


def test_yearly_cap_is_never_exceeded_and_has_its_closed_form(policy, classified):
    """(b) yearly_cap 1: one check per level and year at most; a stratum only its own unit
    draws covers min(N, 4 quota) a year (each quarter draws from those not yet checked)."""
    capped = _with_draw(policy, overlap="yearly_cap", yearly_cap=1, between_levels="avoid")
    res = simulate_coverage(classified, capped, replicates=20, seed=5)
    cov = res.coverage
    other = cov[(cov["category"] == "general") & ~cov["positive_list"]]
    assert (other["inspections"] == other["covered"]).all()
    table = quarterly_quotas(classified, capped, "2023Q1")
    for _, q in table[table["quota_rule"] == "county-general-other"].iterrows():
        per = other[other["unit"] == q["unit"]].groupby(["replicate", "year"])["covered"].sum()
        assert (per == min(q["population"], 4 * q["quota"])).all()
    # Under avoid a county and the area level never check an object in the same quarter,
    # so with the cap at one per level an object has at most two checks a year (the
    # positive list's full off-site coverage is never capped).
    nonpos = cov[~cov["positive_list"]]
    assert (nonpos["inspections"] <= 2 * nonpos["objects"]).all()
    pos = cov[cov["positive_list"] & (cov["category"] == "general") & (cov["unit"] != "xiongan")]
    assert (pos["inspections"] == 4 * pos["objects"]).all()
    # 50 % a quarter of the county special objects cannot go on with one check a year.
    assert res.quotas["attainment_min"].min() < 1


def test_positive_list_is_checked_offsite_every_quarter(policy, classified):
    res = simulate_coverage(classified, policy, replicates=5, seed=6)
    pos = res.coverage[(res.coverage["category"] == "general") & res.coverage["positive_list"]
                       & (res.coverage["unit"] != "xiongan")]  # no area rule for general objects
    assert (pos["inspections"] == 4 * pos["objects"]).all()
    w = res.workload.groupby("unit")["offsite"].sum()
    assert (w[[u for u in w.index if u != "xiongan"]] > 0).all()


def test_avoid_follows_the_official_drawing_order(policy, classified):
    """(b) avoid: counties draw first and always meet their minimums; the area level draws
    min(quota, objects its counties left) from each stratum (exact, every replicate)."""
    avoid = _with_draw(policy, between_levels="avoid")
    res = simulate_coverage(classified, avoid, replicates=20, seed=8)
    q = res.quotas
    county = q[q["unit"] != "xiongan"]
    assert (county["drawn_min"] == county["quota"]).all()
    table = quarterly_quotas(classified, policy, "2023Q1")
    for _, row in q[q["unit"] == "xiongan"].iterrows():
        category = row["stratum"].split("/")[0]
        same = table[(table["level"] == "county") & (table["category"] == category)]
        free = row["population"] - same["quota"].sum()
        assert row["drawn_min"] == min(row["quota"], free)
        assert row["drawn_mean"] == min(row["quota"], free)
    # No object is visited twice in a quarter: visits never exceed four a year.
    assert (res.coverage["inspections"] <= 4 * res.coverage["objects"]).all()


def test_overlap_scope_unit_and_all_levels_differ_as_they_should(policy, classified):
    """(d) yearly cap 1 with merge: scope ``unit`` lets the county and the area level each
    check an object once a year (key objects get two visits), scope ``all_levels`` counts
    both levels' checks, so after the first visit nobody draws the object again."""
    base = _with_draw(policy, overlap="yearly_cap", yearly_cap=1, between_levels="merge")
    unit = simulate_coverage(classified, base, replicates=30, seed=9).coverage
    every = simulate_coverage(classified, _with_draw(base, overlap_scope="all_levels"),
                              replicates=30, seed=9).coverage
    nonpos = every[~every["positive_list"]]
    assert (nonpos["inspections"] == nonpos["covered"]).all()
    key_u = unit[(unit["category"] == "key") & (unit["unit"] != "xiongan")]
    assert (key_u["inspections"] > key_u["covered"]).any()
    assert (unit[~unit["positive_list"]]["inspections"] <= 2 * unit[~unit["positive_list"]]
            ["covered"]).all()
    # Strata only the county draws behave the same under both scopes.
    g_u = unit[(unit["category"] == "general") & ~unit["positive_list"]]
    g_a = nonpos[nonpos["category"] == "general"]
    pd.testing.assert_frame_equal(g_u.reset_index(drop=True), g_a.reset_index(drop=True))


# ------------------------------------------------------------------ determinism, budget
def test_same_seed_same_results_and_chunk_size_does_not_matter(policy, classified):
    """(c) chunk size and threads never change results (under avoid, rotation and the cap)."""
    for pol in (policy, _with_draw(policy, overlap="rotation"),
                _with_draw(policy, overlap="yearly_cap", between_levels="merge")):
        a = simulate_coverage(classified, pol, replicates=12, seed=99, chunk_size=12, workers=1)
        b = simulate_coverage(classified, pol, replicates=12, seed=99, chunk_size=5, workers=1)
        # chunks run at the same time in threads: the same tables
        t = simulate_coverage(classified, pol, replicates=12, seed=99, chunk_size=2, workers=3)
        for name in ("coverage", "visits", "gaps", "quotas", "workload"):
            pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))
            pd.testing.assert_frame_equal(getattr(a, name), getattr(t, name))
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
    assert (w["days"] <= w["cap"] * 1.25).all()


def test_summary_shapes(policy, classified):
    res = simulate_coverage(classified, policy, replicates=4, years=2, seed=1)
    s = coverage_summary(res, by=["category", "credit_class"])
    assert set(s["category"]) == {"special", "key", "general"}
    assert ((s["coverage"] >= 0) & (s["coverage"] <= 1)).all()
    assert res.visits.groupby("category")["share"].sum().round(9).eq(1).all()
    assert len(res.workload) == 4 * 8 * 4
    assert len(res.quotas) == 8 * len(quarterly_quotas(classified, policy, "2023Q1"))


def test_yearly_coverage_closed_form():
    assert yearly_coverage(25, 100) == pytest.approx(1 - 0.75 ** 4)
    assert yearly_coverage(3, 0) == 0


def test_compiled_stratum_selection_equals_the_lexsort_with_ties():
    """The deterrence engine's selection (counting sort by stratum, k-th smallest per
    stratum) takes exactly what the stable lexsort of every key takes, ties (keys 0 of
    certain classes, repeated keys, rotation rounds) by position."""
    from dsr_analysis.simulation.sampling import select_by_stratum_lexsort

    rng = np.random.default_rng(5)
    R, N, S = 4, 3000, 6
    keys = np.round(rng.random((R, N)) * 50) / 50  # many ties
    keys[rng.random((R, N)) < 0.1] = 0.0
    keys[rng.random((R, N)) < 0.1] = np.inf
    keys += rng.integers(0, 2, (R, N))  # rotation rounds
    sid = rng.integers(-1, S, (R, N)).astype(np.int16)
    quota = rng.integers(0, 700, (R, S))
    quota[0, 0] = 10_000  # more than the stratum holds
    got = select_by_stratum(keys, sid, quota)
    assert (got == select_by_stratum_lexsort(keys, sid, quota)).all()
    assert got.sum() > 0
