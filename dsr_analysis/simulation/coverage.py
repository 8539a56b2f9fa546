"""Simulated years of quarterly draws: coverage, visits per object, gaps, workload (R3, R4).

The engine draws as the official draw does (:mod:`dsr_analysis.simulation.sampling`): a stratum is one
drawing unit x one quota rule, with the quota of :func:`dsr_analysis.quotas.quarterly_quotas`
(cut to the inspectors' capacity when the budget is enforced). Every replicate and quarter,
each stratum computes the inclusion probability ``lambda`` of every credit class on the objects
eligible at that moment (:func:`dsr_analysis.quotas.inclusion_probabilities`, after the
exclusions of :mod:`dsr_analysis.overlap`) and takes the quota's smallest Pareto keys
(:func:`dsr_analysis.quotas.pareto_keys` of the replicate's uniforms; under rotation ranked by
``(round, key)``, :func:`dsr_analysis.overlap.ranking_keys`). Drawing order (counties first,
then the area level), overlap across quarters (``independent`` / ``rotation`` /
``yearly_cap``), whose checks count (``overlap_scope``) and the between-level rule (``avoid``
/ ``merge``: one joint visit) all come from :mod:`dsr_analysis.overlap`.

Randomness (SPEC 7): one ``seed``; ``SeedSequence(seed).spawn(replicates)`` gives each
replicate its own ``PCG64`` stream. Each quarter a replicate first fills its row of the
dense buffer with one ``Generator.random`` call (one uniform per object of every dense
stratum, a layout fixed for the run); then, pass by pass, its sparse strata draw their
uniforms (an amount set by the replicate's own state) and any fallback, inside a window of
:data:`STREAM_WINDOW` draws of the stream, which is then set to the window's end. Every
draw so sits at a position fixed by the replicate's own history, and replicates are processed
in chunks only to bound memory: the chunk size never changes the results. This is simulation
randomness; official draws use the SHA-256 ticket algorithm.

Speed: objects are ordered so that every stratum x credit class of every pass is a contiguous
block of columns of ``replicates x objects`` arrays. A Pareto key
``Q = (U/(1-U)) / (lambda/(1-lambda))`` is below a threshold ``t`` exactly when
``U < p(t) = t theta / (1 + t theta)`` (``theta = lambda/(1-lambda)``), and the quota is
always taken among the keys below a ``t`` chosen (:func:`key_threshold`) so that a few
standard deviations more than the quota are expected there:

* *dense* strata (a large share drawn, or small; every stratum under rotation) screen one
  uniform per object against ``p(t)``; too few candidates - the stratum is screened again
  with every eligible object a candidate (same uniforms);
* *sparse* strata (few of many, :data:`SPARSE_MAX_SHARE`) generate only the objects with
  ``U < p(t)``: geometric skips through each class block (a Bernoulli(``p(t)``) subset of all
  its objects; the ineligible are dropped afterwards), each with ``U = p(t) V``. Too few, or
  skips that did not pass the block's end: :func:`sparse_fallback` gives every other object a
  uniform conditioned on what was revealed (``U >= p(t)`` where the skips passed, free beyond)
  and takes the smallest keys of all.

Both paths take exactly the quota's smallest keys of a full vector of keys with the law of
the plain draw, so both have its sampling distribution (tested per class against the exact
Pareto inclusion probabilities and per object path against path). Visits and gaps are kept
densely (one pass over the quarter's visited mask); only the draws themselves are scattered.

The hot loops - screening and composites of the dense path, the skips and candidates of
the sparse path, the per-stratum selection (a k-th smallest by histogram, not a sort), the
plan of a pass with exclusions and the bookkeeping - are numba kernels
(:mod:`dsr_analysis.simulation.kernels`) doing the numpy operations in the same order, so
the results are bit-identical to the numpy formulation; the uniforms, ``log`` and
``log1p`` stay with numpy.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import DsrError, ParameterError
from ..i18n import _
from ..overlap import LEVELS, OverlapRules, counted_checks, eligible_mask
from ..policy import CATEGORIES, CREDIT_CLASSES, Policy
from ..quotas import inclusion_probabilities, pareto_keys
from . import kernels
from ..distributed import as_executor, default_workers
from .sampling import (
    N_CLASSES,
    Budget,
    NoBar,
    RegisterArrays,
    Strata,
    budget_quotas,
    build_strata,
    chunks,
    class_counts,
    default_chunk_size,
    inspectors_by_unit,
    progress_bar,
    quota_table,
    replicate_seeds,
    rotation_coverage,
    save_tables,
    state_code,
    static_quotas,
    stratum_ids,
    yearly_coverage,
)

__all__ = [
    "GROUP_COLUMNS", "Budget", "CoverageJob", "CoverageResult", "CoverageLayout", "PassLayout",
    "RegisterArrays", "Strata", "build_layout", "build_strata", "closed_form_check",
    "closed_form_coverage", "coverage_chunk", "coverage_result", "coverage_summary",
    "default_workers", "merge_tallies", "submit_coverage", "inspectors_by_unit", "sample_pass",
    "screen_thresholds", "simulate_coverage", "key_threshold", "sparse_select", "dense_select", "static_quotas", "stratum_ids",
    "workload_summary",
]

#: Column names of the groups of :attr:`CoverageResult.coverage` (groups of objects).
GROUP_COLUMNS = ["unit", "category", "positive_list", "credit_class"]

#: Dense path: the screening bound aims at ``k + SCREEN_SD * sqrt(k) + SCREEN_EXTRA``
#: expected candidates among the eligible objects (too few: the stratum is screened again
#: with every eligible object a candidate - same uniforms, so always exact).
SCREEN_SD = 5.0
SCREEN_EXTRA = 10.0
#: Sparse path: the key threshold ``t`` aims at ``k + SPARSE_SD * sqrt(k) + SPARSE_EXTRA``
#: expected eligible keys below it (too few: the exact fallback, :func:`sparse_fallback`).
SPARSE_SD = 4.0
SPARSE_EXTRA = 4.0
#: Sparse path: geometric skips drawn per block, ``mu + GEOM_SD * sd + GEOM_EXTRA`` for a
#: binomial count of mean ``mu`` (too few to pass the block's end: the exact fallback).
GEOM_SD = 5.0
GEOM_EXTRA = 8.0
#: A random stratum is drawn on the sparse path when its expected candidates are at most
#: this share of its objects (:func:`build_layout`).
SPARSE_MAX_SHARE = 0.2
#: Newton steps of :func:`key_threshold`.
NEWTON_STEPS = 12
#: Draws reserved in a replicate's stream for the sparse strata of one pass and quarter
#: (whatever they use, the stream is then advanced to the window's end, so every later
#: draw sits at a fixed position of the stream, whatever the state).
STREAM_WINDOW = 2 ** 40


# --------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CoverageResult:
    """Results of :func:`simulate_coverage` as tidy DataFrames.

    Attributes
    ----------
    coverage : DataFrame
        One row per replicate x year x group (unit, category, positive_list, credit_class):
        ``objects``, ``covered`` (visited at least once in the year), ``inspections``
        (visits; a merged joint visit counts once).
    visits : DataFrame
        Distribution of visits per object and year: ``category, inspections, objects``
        (summed over replicates and years), and ``share``.
    gaps : DataFrame
        Longest run of quarters without a visit over the horizon, per replicate and
        category: ``mean_gap`` (quarters), ``share_gap_4plus`` (share of objects with a run of
        4 or more quarters).
    quotas : DataFrame
        One row per quarter x stratum (unit x quota rule): ``population``, ``quota``,
        ``drawn_mean``, ``drawn_min``, ``attainment_min`` (drawn / quota, worst replicate)
        and the plan's inclusion probability per class ``probability_A..D``.
    workload : DataFrame
        One row per replicate x year x quarter x unit: ``onsite``, ``offsite``,
        ``inspector_days``, ``capacity_days``.
    settings : dict
        Replicates, years, seed, overlap, overlap_scope, between_levels, objects.
    """

    coverage: pd.DataFrame
    visits: pd.DataFrame
    gaps: pd.DataFrame
    quotas: pd.DataFrame
    workload: pd.DataFrame
    settings: dict

    def save(self, directory, prefix: str = "coverage") -> list:
        """Write every table as CSV (UTF-8) into ``directory``; returns the paths."""
        return save_tables(self, ("coverage", "visits", "gaps", "quotas", "workload"),
                           directory, prefix)


# --------------------------------------------------------------------------------------
# Step 1: build strata and the column layout
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PassLayout:
    """The blocks of one pass (one level) in the ordered columns.

    Random blocks (stratum x credit class) lie in columns ``[lo, hi)``; ``col_block`` maps a
    column of the span to its block (-1: in no random block of this pass). A random stratum
    is drawn on the *dense* path (one uniform per object; the blocks' uniforms sit at
    ``[offset + block_uoff, ...)`` of the quarter's dense buffer, ``dense_cols`` maps them to
    span columns; the dense blocks of local stratum ``j`` are
    ``dense_ids[dense_ptr[j]:dense_ptr[j + 1]]``, in column order) or on the *sparse* path
    (``stratum_sparse``; only the keys below a threshold are generated,
    :func:`sparse_select`; its blocks are ``sparse_ids[sparse_ptr[j]:sparse_ptr[j + 1]]``,
    positions among the sparse blocks, in column order).
    """

    level: int
    lo: int
    hi: int
    offset: int
    starts: np.ndarray
    stops: np.ndarray
    block_stratum: np.ndarray
    block_local: np.ndarray
    block_credit: np.ndarray
    col_block: np.ndarray
    strata: np.ndarray
    quota: np.ndarray
    bases: np.ndarray
    full: tuple[tuple[int, int, int], ...]
    work_code: np.ndarray
    stratum_sparse: np.ndarray
    block_uoff: np.ndarray
    dense_cols: np.ndarray
    full_work: tuple[np.ndarray, ...]
    dense_ptr: np.ndarray
    dense_ids: np.ndarray
    sparse_ptr: np.ndarray
    sparse_ids: np.ndarray

    @property
    def width(self) -> int:
        return self.hi - self.lo

    @property
    def dense_width(self) -> int:
        return len(self.dense_cols)

    @property
    def block_sparse(self) -> np.ndarray:
        return self.stratum_sparse[self.block_local]

    @functools.cached_property
    def sparse_blocks(self) -> tuple[np.ndarray, ...]:
        """The sparse blocks: their indices, local strata, classes, span starts and sizes."""
        sb = np.flatnonzero(self.block_sparse)
        return (sb, self.block_local[sb], self.block_credit[sb], self.starts[sb] - self.lo,
                (self.stops - self.starts)[sb])


@dataclass(frozen=True)
class CoverageLayout:
    """Everything :func:`simulate_coverage` fixes before the first draw."""

    strata: Strata
    arrays: RegisterArrays
    passes: tuple[PassLayout, ...]
    quota: np.ndarray
    population: np.ndarray
    plan_lambda: np.ndarray
    groups: pd.DataFrame
    run_start: np.ndarray
    run_group: np.ndarray
    cat_range: dict
    capacity: dict
    width: int


def _group_index(arrays: RegisterArrays) -> tuple[np.ndarray, pd.DataFrame]:
    code = ((arrays.unit.astype(np.int64) * 3 + arrays.category) * 2 + arrays.positive) * 4 \
        + arrays.credit
    present, gid = np.unique(code, return_inverse=True)
    credit, pos = present % 4, (present // 4) % 2
    cat, unit = (present // 8) % 3, present // 24
    groups = pd.DataFrame({
        "unit": np.array(arrays.units)[unit], "category": np.array(CATEGORIES)[cat],
        "positive_list": pos.astype(bool), "credit_class": np.array(CREDIT_CLASSES)[credit],
        "objects": np.bincount(gid, minlength=len(present)),
    })
    return gid, groups


def object_order(strata: Strata, arrays: RegisterArrays, sid: np.ndarray, gid: np.ndarray
                 ) -> np.ndarray:
    """Order of the objects that makes every stratum x class block of every pass contiguous:
    by category, random before off-site-only, the widest pass's stratum and the credit
    class, the other passes' strata, then the reporting group."""
    random = strata.random
    in_random = np.zeros(arrays.n, dtype=bool)
    in_any = np.zeros(arrays.n, dtype=bool)
    for p in range(strata.n_passes):
        ok = sid[p] >= 0
        in_any |= ok
        in_random[ok] |= random[sid[p][ok]]
    kind = np.where(in_random, 0, np.where(in_any, 1, 2))
    wide = set(strata.table.loc[strata.table["draws_from"] == "all", "pass_"])
    passes = sorted(range(strata.n_passes), key=lambda p: (p not in wide, p))
    keys = [arrays.category, kind, sid[passes[0]], arrays.credit]
    keys += [sid[p] for p in passes[1:]] + [gid]
    return np.lexsort(tuple(reversed(keys)))


def _pass_layout(strata: Strata, arrays: RegisterArrays, sid: np.ndarray, p: int,
                 quota: np.ndarray, offset: int, offsite_first: bool, sparse_max_share: float,
                 rotation: bool) -> PassLayout:
    """Blocks of pass ``p`` in the ordered columns (see :class:`PassLayout`). A random stratum
    goes on the sparse path when its expected candidates ``k + SPARSE_SD sqrt(k) +
    SPARSE_EXTRA`` are at most ``sparse_max_share`` of its objects (never under rotation)."""
    table = strata.table
    in_pass = np.flatnonzero(table["pass_"].to_numpy() == p)
    rnd = [s for s in in_pass if strata.random[s]]
    blocks, full = [], []
    for s in in_pass:
        for c in range(N_CLASSES):
            cols = np.flatnonzero((sid[p] == s) & (arrays.credit == c))
            if not len(cols):
                continue
            a, b = int(cols[0]), int(cols[-1]) + 1
            if b - a != len(cols):
                raise DsrError(_("stratum {unit}/{label} is not nested in the strata of the "
                                 "other level: the coverage engine cannot lay it out").format(
                    unit=table.at[s, "unit"], label=table.at[s, "label"]))
            if strata.random[s]:
                blocks.append((s, c, a, b))
            elif c == 0 or not full or full[-1][0] != s or full[-1][2] != a:
                full.append((s, a, b))
            else:  # extend the full block of the same stratum
                full[-1] = (s, full[-1][1], b)
    blocks.sort(key=lambda x: x[2])
    lo = blocks[0][2] if blocks else 0
    hi = blocks[-1][3] if blocks else 0
    starts = np.array([x[2] for x in blocks], dtype=np.int64)
    stops = np.array([x[3] for x in blocks], dtype=np.int64)
    col_block = np.full(hi - lo, -1, dtype=np.int64)
    for i, (a, b) in enumerate(zip(starts, stops, strict=True)):
        col_block[a - lo:b - lo] = i
    local = {s: j for j, s in enumerate(rnd)}
    unit_index = {u: i for i, u in enumerate(arrays.units)}
    unit_of = table["unit"].map(unit_index).to_numpy()
    fixed = ~strata.random
    ok = sid[p] >= 0
    s0 = np.where(ok, sid[p], 0)
    off = fixed[s0] | (arrays.offsite & offsite_first)
    work_code = np.where(ok, unit_of[s0] * 2 + off, 0).astype(np.int16)  # small: stays in cache
    rnd_a = np.array(rnd, dtype=np.int64)
    sizes = stops - starts
    local_of_block = np.array([local[x[0]] for x in blocks], dtype=np.int64)
    pop = np.bincount(local_of_block, weights=sizes, minlength=len(rnd)) if blocks else \
        np.zeros(len(rnd))
    q = quota[rnd_a].astype(float)
    target = q + SPARSE_SD * np.sqrt(q) + SPARSE_EXTRA
    sparse = (target <= sparse_max_share * np.maximum(pop, 1)) | (q == 0)
    if rotation:
        sparse[:] = False
    dense_block = ~sparse[local_of_block] if blocks else np.zeros(0, dtype=bool)
    uoff = np.full(len(blocks), -1, dtype=np.int64)
    dense_cols = []
    o = 0
    for i in np.flatnonzero(dense_block):
        uoff[i] = o
        dense_cols.append(np.arange(starts[i] - lo, stops[i] - lo))
        o += int(sizes[i])
    U2 = 2 * len(arrays.units)
    full_work = tuple(np.bincount(work_code[a:b], minlength=U2).astype(np.int64)
                      for _, a, b in full)
    dense_ids = np.flatnonzero(dense_block)
    dense_ids = dense_ids[np.argsort(local_of_block[dense_ids], kind="stable")]
    dense_ptr = np.zeros(len(rnd) + 1, dtype=np.int64)
    if len(dense_ids):
        np.cumsum(np.bincount(local_of_block[dense_ids], minlength=len(rnd)), out=dense_ptr[1:])
    sparse_loc = local_of_block[~dense_block] if blocks else np.zeros(0, dtype=np.int64)
    sparse_ids = np.argsort(sparse_loc, kind="stable")  # positions among the sparse blocks
    sparse_ptr = np.zeros(len(rnd) + 1, dtype=np.int64)
    if len(sparse_ids):
        np.cumsum(np.bincount(sparse_loc, minlength=len(rnd)), out=sparse_ptr[1:])
    return PassLayout(
        level=p, lo=lo, hi=hi, offset=offset, starts=starts, stops=stops,
        block_stratum=np.array([x[0] for x in blocks], dtype=np.int64),
        block_local=local_of_block,
        block_credit=np.array([x[1] for x in blocks], dtype=np.int64), col_block=col_block,
        strata=rnd_a, quota=quota[rnd_a],
        bases=strata.bases[rnd_a].reshape(-1, N_CLASSES),
        full=tuple(full), work_code=work_code, stratum_sparse=np.asarray(sparse, dtype=bool),
        block_uoff=uoff,
        dense_cols=np.concatenate(dense_cols) if dense_cols else np.zeros(0, dtype=np.int64),
        full_work=full_work, dense_ptr=dense_ptr, dense_ids=dense_ids.astype(np.int64),
        sparse_ptr=sparse_ptr, sparse_ids=sparse_ids.astype(np.int64))


def build_layout(classified: pd.DataFrame, policy: Policy,
                 inspectors: pd.DataFrame | None = None, budget: Budget | None = None,
                 sparse_max_share: float | None = None,
                 quotas: pd.DataFrame | None = None) -> CoverageLayout:
    """Step 1 of :func:`simulate_coverage`: strata, quotas (budget cut applied), the object
    order and the blocks of every pass. ``sparse_max_share`` (default
    :data:`SPARSE_MAX_SHARE`; 0 forces every stratum onto the dense path, 1 every stratum
    it can onto the sparse path) chooses the sampling path of each random stratum; it
    changes how the stream is used, never the sampling distribution. ``quotas``: the first
    quarter's :func:`dsr_analysis.quotas.quarterly_quotas` table if already made."""
    share = SPARSE_MAX_SHARE if sparse_max_share is None else float(sparse_max_share)
    rotation = policy.draw.overlap == "rotation"
    budget = budget or Budget()
    strata = build_strata(policy)
    arrays0 = RegisterArrays.from_frame(classified, policy)
    sid0 = stratum_ids(strata, arrays0)
    gid0, groups = _group_index(arrays0)
    order = object_order(strata, arrays0, sid0, gid0)
    arrays, sid, gid = arrays0.take(order), sid0[:, order], gid0[order]
    table = quota_table(classified, policy, strata, inspectors, quotas)
    quota = table["quota"].fillna(0).to_numpy(np.int64)
    counts = class_counts(sid.reshape(-1, arrays.n), np.tile(arrays.credit, (strata.n_passes, 1)),
                          strata.n).sum(axis=0)
    off = class_counts(sid.reshape(-1, arrays.n), np.tile(arrays.credit, (strata.n_passes, 1)),
                       strata.n, mask=np.tile(arrays.offsite, (strata.n_passes, 1))).sum(axis=0)
    staff = inspectors_by_unit(inspectors, policy, budget.inspector_scale)
    capacity = {u: staff[u] * budget.days_per_inspector_per_quarter for u in staff}
    quota = budget_quotas(quota, strata, counts, off, budget, capacity,
                          policy.methods.offsite_first)
    passes, width = [], 0
    for p in range(strata.n_passes):
        pl = _pass_layout(strata, arrays, sid, p, quota, width, policy.methods.offsite_first,
                          share, rotation)
        passes.append(pl)
        width += pl.dense_width
    run_start = np.flatnonzero(np.r_[True, gid[1:] != gid[:-1]]) if arrays.n else \
        np.zeros(0, np.int64)
    run_group = gid[run_start].astype(np.int64)
    cat_range = {}
    for cat in range(len(CATEGORIES)):
        cols = np.flatnonzero(arrays.category == cat)
        if len(cols):
            cat_range[cat] = (int(cols[0]), int(cols[-1]) + 1)
    return CoverageLayout(
        strata=strata, arrays=arrays, passes=tuple(passes), quota=quota, population=counts,
        plan_lambda=inclusion_probabilities(counts, quota, strata.bases), groups=groups,
        run_start=run_start.astype(np.int64), run_group=run_group, cat_range=cat_range,
        capacity=capacity, width=width)


# --------------------------------------------------------------------------------------
# Step 2: state of a chunk of replicates
# --------------------------------------------------------------------------------------
@dataclass
class ChunkState:
    """Per-object state of a chunk of replicates (mutable; reset per chunk / year / quarter).

    ``U``: the quarter's dense uniforms; ``checks[l]``: checks this year by the level-``l``
    unit drawing the object (kept only when rotation or the cap needs them); ``visits``:
    visits this year (a merged joint visit counts once); ``run``: quarters since the last
    visit (or since the start); ``maxgap``: longest run without a visit so far;
    ``visited``: visited this quarter; ``marks``: drawn this quarter by the county level
    (``marked``: some are set); ``pending``: this quarter's checks, added at its end.
    """

    U: np.ndarray
    checks: list
    visits: np.ndarray
    run: np.ndarray
    maxgap: np.ndarray
    visited: np.ndarray
    marks: np.ndarray
    marked: bool
    pending: list


def allocate_state(layout: CoverageLayout, R: int) -> ChunkState:
    """Step 2: the arrays of a chunk of ``R`` replicates."""
    N = layout.arrays.n
    return ChunkState(U=np.empty((R, layout.width)),
                      checks=[np.zeros((R, N), dtype=np.uint8) for _ in LEVELS],
                      visits=np.zeros((R, N), dtype=np.uint8),
                      run=np.zeros((R, N), dtype=np.uint8),
                      maxgap=np.zeros((R, N), dtype=np.uint8),
                      visited=np.zeros((R, N), dtype=bool), marks=np.zeros((R, N), dtype=bool),
                      marked=False, pending=[])


@dataclass(frozen=True)
class Tallies:
    """Accumulators of the whole run (one slot per replicate)."""

    covered: np.ndarray
    inspections: np.ndarray
    visit_hist: np.ndarray
    gap_mean: np.ndarray
    gap_4: np.ndarray
    drawn: np.ndarray
    work: np.ndarray


#: Visits per object and year counted separately up to this number ("8+").
MAX_VISITS = 8


def allocate_tallies(layout: CoverageLayout, replicates: int, years: int) -> Tallies:
    G, T = len(layout.groups), 4 * years
    return Tallies(covered=np.zeros((replicates, years, G)),
                   inspections=np.zeros((replicates, years, G)),
                   visit_hist=np.zeros((len(CATEGORIES), MAX_VISITS + 1), dtype=np.int64),
                   gap_mean=np.zeros((replicates, len(CATEGORIES))),
                   gap_4=np.zeros((replicates, len(CATEGORIES))),
                   drawn=np.zeros((replicates, T, layout.strata.n), dtype=np.int64),
                   work=np.zeros((replicates, T, len(layout.arrays.units), 2), dtype=np.int64))


# --------------------------------------------------------------------------------------
# Step 3: one quarter (eligibility from overlap, sample, bookkeeping)
# --------------------------------------------------------------------------------------
def pass_eligibility(state: ChunkState, level: int, rules: OverlapRules, lo: int, hi: int,
                     method: str = "random") -> tuple[np.ndarray | None, np.ndarray | None]:
    """Eligible objects of columns ``[lo, hi)`` for a unit of level ``level``
    (:func:`overlap.eligible_mask`; ``None`` = all) and the counted earlier checks (``None``
    when neither rotation nor the cap needs them)."""
    counted = None
    if rules.mode == "rotation" or rules.capped("routine", method):
        counted = counted_checks([c[:, lo:hi] for c in state.checks], level, rules)
    other = state.marks[:, lo:hi] if rules.avoids(LEVELS[level]) and state.marked else None
    return eligible_mask(counted, other, level, rules, method), counted


def key_threshold(counts: np.ndarray, odds: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Key threshold ``t`` (last axis = classes) at which the expected number of Pareto keys
    below it, ``sum_c counts_c p_c(t)`` with ``p_c(t) = P(Q < t) = t o_c / (1 + t o_c)``
    (``o_c = lambda_c / (1 - lambda_c)``), reaches ``target`` - by :data:`NEWTON_STEPS`
    Newton steps from below (the sum is concave in ``t``, so they stay below the root and
    converge to it), all entries together until none is short of its target (compiled,
    :func:`dsr_analysis.simulation.kernels.key_threshold`)."""
    odds = np.asarray(odds, dtype=float)
    shape = odds.shape[:-1]
    counts = np.broadcast_to(np.asarray(counts, dtype=float), odds.shape).reshape(1, -1, odds.shape[-1])
    target = np.broadcast_to(np.asarray(target, dtype=float), shape).reshape(1, -1)
    t = kernels.key_threshold(np.ascontiguousarray(counts), odds.reshape(1, -1, odds.shape[-1]),
                              np.ascontiguousarray(target), NEWTON_STEPS)
    return t.reshape(shape)


def screen_thresholds(counts: np.ndarray, lam: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Per row, stratum and class, the bound ``p_c(t) = t o_c / (1 + t o_c)`` on the uniforms
    below which an object is a candidate of the dense path, ``t`` from :func:`key_threshold`
    so that ``k + SCREEN_SD sqrt(k) + SCREEN_EXTRA`` candidates are expected among the
    classes not taken with certainty (1 where that is not reached, and for classes taken
    with certainty). Arrays (R, strata, 4) and (R, strata)."""
    return _screen_plan(np.asarray(counts, dtype=np.int64), np.asarray(lam, dtype=float),
                        np.asarray(k, dtype=np.int64))[0]


def _screen_plan(c4: np.ndarray, lam: np.ndarray, kd: np.ndarray):
    """Bounds (:func:`screen_thresholds`) and odds of the dense path (compiled)."""
    return kernels.screen_plan(c4, lam, kd, SCREEN_SD, SCREEN_EXTRA, NEWTON_STEPS)


def pass_plan(pl: PassLayout, elig: np.ndarray | None, cache: dict, R: int):
    """Eligible counts (R, strata, 4), lambda and the quota ``k = min(quota, eligible)``."""
    key = None if elig is not None else R
    if key in cache:
        return cache[key]
    nS = len(pl.strata)
    c4 = np.zeros((R, nS, N_CLASSES), dtype=np.int64)
    if elig is None:
        c4[:, pl.block_local, pl.block_credit] = pl.stops - pl.starts
    else:
        kernels.block_counts(elig, pl.starts - pl.lo, pl.stops - pl.starts, pl.block_local,
                             pl.block_credit, nS, c4)
    lam = np.empty(c4.shape)
    k = np.empty((R, nS), dtype=np.int64)
    # quotas.inclusion_probabilities, compiled (the same operations per stratum)
    kernels.inclusion_probabilities(c4, pl.quota, pl.bases, lam, k)
    out = (c4, lam, k)
    if key is not None:
        cache[key] = out
    return out


_EMPTY = np.zeros(0, dtype=np.int64)


_DUMMY_BOOL = np.zeros((1, 1), dtype=bool)
_DUMMY_U8 = np.zeros((1, 1), dtype=np.uint8)


def dense_select(pl: PassLayout, u: np.ndarray, elig: np.ndarray | None,
                 counted: np.ndarray | None, rules: OverlapRules, lam: np.ndarray,
                 k: np.ndarray, c4: np.ndarray, cache: dict | None = None):
    """The dense path: one uniform per object of the pass's dense strata (``u``: R x dense
    width); the uniforms are screened against :func:`screen_thresholds` (every eligible
    object under rotation; every eligible object of a stratum where fewer than its quota
    pass) and the quota's smallest ranking keys of the candidates taken - exactly the
    smallest keys of all eligible objects. The candidates' composites (``grp + Q / (1 + Q)``
    of the Pareto key, computed as ``u / (u + (1 - u) odds)``; of the ranking key under
    rotation) and the selection are compiled (:func:`dsr_analysis.simulation.kernels.
    dense_select`). Returns rows, columns and strata of the drawn objects."""
    if not pl.dense_width:
        return _EMPTY, _EMPTY, _EMPTY
    R = u.shape[0]
    rotation = rules.mode == "rotation"
    ck = ("dense", R)
    if cache is not None and ck in cache:
        kd, tau, param = cache[ck]
    else:
        kd = np.ascontiguousarray(np.where(pl.stratum_sparse, 0, k), dtype=np.int64)
        if rotation:
            tau, param = np.ones_like(lam), np.asarray(lam, dtype=float)
        else:  # bounds and odds max(lambda / (1 - lambda), 1e-300) (inf for lambda >= 1)
            tau, param = _screen_plan(c4, lam, kd)
        if cache is not None:
            cache[ck] = (kd, tau, param)
    if rotation and counted is None:
        raise DsrError("dense_select: rotation needs the counted checks")
    return kernels.dense_select(
        u, _DUMMY_BOOL if elig is None else elig, elig is not None,
        _DUMMY_U8 if counted is None else counted, rotation, tau, param, kd,
        pl.dense_ptr, pl.dense_ids, pl.starts - pl.lo, pl.stops - pl.starts, pl.block_uoff,
        pl.block_credit, pl.lo, pl.block_stratum)


def sparse_select(pl: PassLayout, gens: Sequence[np.random.Generator],
                  elig: np.ndarray | None, lam: np.ndarray, k: np.ndarray, c4: np.ndarray,
                  cache: dict | None = None):
    """The sparse path: per row and stratum only the keys below a threshold ``t``.

    ``t`` (:func:`key_threshold`) makes ``k + SPARSE_SD sqrt(k) + SPARSE_EXTRA`` eligible keys
    below it expected. The objects of a class-``c`` block with ``Q < t`` - that is
    ``U < p_c = p_c(t)``, a Bernoulli(``p_c``) subset of *all* the block's objects - are
    generated by geometric skips ``floor(E / -log(1 - p_c))`` between them (``E`` standard
    exponential, ``Generator.standard_exponential``: the same law as ``floor(log(1 - G) /
    log(1 - p_c))`` of a uniform ``G``, without a logarithm per skip); each gets
    ``U = p_c V`` (uniform given ``U < p_c``) and its key ``Q = (U/(1-U)) / o_c``; the
    ineligible are discarded and the ``k`` smallest keys of each stratum taken. Classes with
    ``lambda = 1`` are taken whole (key 0, first). This is exactly the dense draw. Where the
    eligible keys below ``t`` fall short of ``k``, or the skips did not pass a block's end
    (or ``t`` cannot reach the target), :func:`sparse_fallback` completes the draw exactly.

    Randomness: row ``r`` draws ``sum_b D_rb`` exponentials ``E`` (skips) then as many
    uniforms ``V`` from its own generator, ``D_rb`` set by :data:`GEOM_SD`, :data:`GEOM_EXTRA` from the
    row's own state (so independent of the chunk), then its fallbacks in stratum order,
    all within a window of :data:`STREAM_WINDOW` draws; the stream is then set to the
    window's end (from its state at the window's start: the ziggurat exponential now and
    then takes an extra 64-bit draw, so counting values would not do).
    Returns rows, columns and strata of the drawn objects.
    """
    R, nS = len(gens), len(pl.strata)
    sb, loc, cr, a, n = pl.sparse_blocks
    if not len(sb) or not R:
        return _EMPTY, _EMPTY, _EMPTY
    B = len(sb)
    ck = ("sparse", R)
    if cache is not None and ck in cache:
        certain, k_rest, ok, need, odds, p, D = cache[ck]
    else:
        # Compiled: certain classes, odds o, the quota left k_rest, the target and t
        # (key_threshold), per block p = t o / (1 + t o) and the skips to draw
        # D = ceil(mu + GEOM_SD sqrt(mu (1 - p)) + GEOM_EXTRA), mu = n p (0 where inactive).
        certain, k_rest, ok, need, odds, p, D = kernels.sparse_plan(
            c4, lam, k, pl.stratum_sparse, loc, cr, n, SPARSE_SD, SPARSE_EXTRA, GEOM_SD,
            GEOM_EXTRA, NEWTON_STEPS)
        if cache is not None:
            cache[ck] = (certain, k_rest, ok, need, odds, p, D)
    Dr = D.sum(axis=1).tolist()
    G = np.empty(sum(Dr))
    V = np.empty(len(G))
    o = 0
    starts = [g.bit_generator.state for g in gens]  # the window's start, per row
    for g, d in zip(gens, Dr, strict=True):
        g.standard_exponential(out=G[o:o + d])
        g.random(out=V[o:o + d])
        o += d
    segs = np.flatnonzero(D.reshape(-1))  # segments: (row, block) with draws
    p_s = p.reshape(-1)[segs]
    with np.errstate(divide="ignore"):
        coef = -1.0 / np.log1p(-p_s)  # 0.0 where p = 1: no skips
    # Compiled: skips floor(E coef) + 1, their running sum over all segments
    # (1 + position; G is overwritten with it), the candidates below each block's end that
    # are eligible, their composites, the failures and the selection.
    rows, cols, bsel, bad, base, last = kernels.sparse_select(
        G, V, D, p, coef, odds, a, n, pl.sparse_ptr, pl.sparse_ids, nS,
        _DUMMY_BOOL if elig is None else elig, elig is not None, need, ok, k_rest, pl.lo,
        pl.block_stratum[sb])
    out_r, out_c, out_b = [rows], [cols], [bsel]
    # Classes taken with certainty (lambda = 1): every eligible object of the block.
    cert_b = certain[:, loc, cr] & pl.stratum_sparse[loc][None, :] & ~bad[:, loc] \
        if certain.any() else np.zeros((R, 0), dtype=bool)
    for j in np.flatnonzero(cert_b.any(axis=0)):
        rr = np.flatnonzero(cert_b[:, j])
        cc = np.arange(a[j], a[j] + n[j])
        if elig is None:
            r2, c2 = np.repeat(rr, n[j]), np.tile(cc, len(rr))
        else:
            r2, c2 = np.nonzero(elig[rr, a[j]:a[j] + n[j]])
            r2, c2 = rr[r2], cc[c2]
        out_r.append(r2)
        out_c.append(c2 + pl.lo)
        out_b.append(np.full(len(r2), pl.block_stratum[sb[j]], dtype=np.int64))
    if bad.any():
        Ds = D.reshape(-1)[segs]
        seg_r, seg_b = segs // B, segs % B
        sid = np.repeat(np.arange(len(segs)), Ds)
        G -= base[sid]  # 1 + position within the segment
        info = (seg_r, seg_b, p_s, last, sid, G, V)
        for r, j in zip(*np.nonzero(bad), strict=True):
            fr, fc, fb = sparse_fallback(pl, int(r), int(j), gens[r], elig, lam, k, info)
            out_r.append(fr)
            out_c.append(fc + pl.lo)
            out_b.append(pl.block_stratum[fb])
    for g, st in zip(gens, starts, strict=True):  # the next draws: at a fixed position
        g.bit_generator.state = st
        g.bit_generator.advance(STREAM_WINDOW)
    if len(out_r) == 1:
        return out_r[0], out_c[0], out_b[0]
    return np.concatenate(out_r), np.concatenate(out_c), np.concatenate(out_b)


def sparse_fallback(pl: PassLayout, r: int, j: int, gen: np.random.Generator,
                    elig: np.ndarray | None, lam: np.ndarray, k: np.ndarray, info):
    """Exact completion of a sparse draw that fell short (row ``r``, local stratum ``j``).

    Every object of the stratum gets a uniform ``U`` consistent with what the sparse pass
    revealed: the generated keys below ``t`` keep their ``U``; an object the skips passed
    over has ``U >= p_c``, so ``U = p_c + (1 - p_c) W``; an object beyond the last skip has
    an unconditioned ``U = W`` (``W`` fresh uniforms from the row's stream, block by block).
    The quota's smallest Pareto keys of the eligible objects are taken: the full key vector
    has exactly the law of the dense draw, so the selection does too."""
    seg_r, seg_b, p_s, last, sid, pos, V = info
    sb = np.flatnonzero(pl.block_sparse)
    keys_all, cols_all, blk_all = [], [], []
    for bi in np.flatnonzero(pl.block_local[sb] == j):
        i = sb[bi]
        a0, n0 = pl.starts[i] - pl.lo, pl.stops[i] - pl.starts[i]
        w = gen.random(n0)
        u = w
        seg = np.flatnonzero((seg_r == r) & (seg_b == bi))
        if len(seg):
            s0 = seg[0]
            p0 = p_s[s0]
            known = int(min(last[s0] + 1, n0))
            u = w.copy()
            u[:known] = p0 + (1.0 - p0) * w[:known]
            m = np.flatnonzero((sid == s0) & (pos <= n0))
            u[pos[m].astype(np.int64) - 1] = p0 * V[m]
        keys = pareto_keys(u, lam[r, j, pl.block_credit[i]])
        cc = np.arange(a0, a0 + n0)
        if elig is not None:
            ok = elig[r, a0:a0 + n0]
            keys, cc = keys[ok], cc[ok]
        keys_all.append(keys)
        cols_all.append(cc)
        blk_all.append(np.full(len(cc), i, dtype=np.int64))
    keys = np.concatenate(keys_all)
    take = np.argsort(keys, kind="stable")[:int(k[r, j])]
    cols = np.concatenate(cols_all)[take]
    return np.full(len(take), r, dtype=np.int64), cols, np.concatenate(blk_all)[take]


def sample_pass(pl: PassLayout, u: np.ndarray, elig: np.ndarray | None,
                counted: np.ndarray | None, rules: OverlapRules, cache: dict,
                gens: Sequence[np.random.Generator] | None = None):
    """Pareto order sampling of every random stratum of a pass, all rows at once.

    ``u`` holds the pass's dense uniforms (R x dense width); the sparse strata draw from
    ``gens`` (one generator per row). Returns ``rows, cols, strata`` of the drawn objects
    (``cols`` are absolute columns) and the number drawn per row and local stratum.
    """
    R = u.shape[0]
    c4, lam, k = pass_plan(pl, elig, cache, R)
    plan_cache = cache if elig is None else None  # the plan depends on the counts only
    parts = [dense_select(pl, u, elig, counted, rules, lam, k, c4, plan_cache)]
    if pl.stratum_sparse.any():
        if gens is None:
            raise DsrError("sample_pass: the sparse strata need the rows' generators")
        parts.append(sparse_select(pl, gens, elig, lam, k, c4, plan_cache))
    parts = [x for x in parts if len(x[0])] or parts[:1]
    if len(parts) == 1:
        rows, cols, strata = parts[0]
    else:
        rows = np.concatenate([x[0] for x in parts])
        cols = np.concatenate([x[1] for x in parts])
        strata = np.concatenate([x[2] for x in parts])
    return rows, cols, strata, k


def full_pass(pl: PassLayout, state: ChunkState, rules: OverlapRules) -> list:
    """Every eligible object of the pass's full off-site coverage strata (never capped):
    ``(stratum, a, b, mask)`` per block of columns ``[a, b)`` (``mask`` None: all)."""
    out = []
    for s, a, b in pl.full:
        elig, _ = pass_eligibility(state, pl.level, rules, a, b, method="offsite_full")
        out.append((s, a, b, elig))
    return out


def _needs_checks(rules: OverlapRules) -> bool:
    return rules.mode == "rotation" or rules.capped("routine", "random")


def record_full(layout: CoverageLayout, pl: PassLayout, state: ChunkState, tallies: Tallies,
                sl: slice, t: int, blocks: list, mark: bool, rules: OverlapRules,
                dedupe: bool) -> None:
    """Bookkeeping of the full off-site coverage blocks (column slices, no index arrays)."""
    R = state.visits.shape[0]
    U2 = 2 * len(layout.arrays.units)
    for (s, a, b, D), wc in zip(blocks, pl.full_work, strict=True):
        tallies.drawn[sl, t, s] += (b - a) if D is None else D.sum(axis=1)
        if _needs_checks(rules):
            state.pending.append((pl.level, (a, b, D)))
        vis = state.visited[:, a:b]
        if mark:
            if D is None:
                state.marks[:, a:b] = True
            else:
                state.marks[:, a:b] |= D
            state.marked = True
        if D is None and not dedupe:
            vis[:] = True
            tallies.work[sl, t] += wc.reshape(-1, 2)
            continue
        new = ~vis if D is None else D & ~vis
        vis |= new
        onehot = np.zeros((b - a, U2), dtype=np.float32)
        onehot[np.arange(b - a), pl.work_code[a:b]] = 1.0
        tallies.work[sl, t] += np.rint(new.astype(np.float32) @ onehot).astype(
            np.int64).reshape(R, -1, 2)


def record_pass(layout: CoverageLayout, pl: PassLayout, state: ChunkState, tallies: Tallies,
                sl: slice, t: int, drawn: tuple, mark: bool, rules: OverlapRules | None = None,
                dedupe: bool = True) -> None:
    """Bookkeeping of one pass's random draws: the level's checks (counted from the next
    quarter on: as in the official draw, a unit's earlier checks are those of earlier
    draws), draws per stratum, the county marks (for ``avoid``) and the new visits of the
    quarter (a second draw of an object in the same quarter is one joint visit, ``merge``;
    ``dedupe`` False when no object can have been visited before in the quarter) with their
    workload. Visits and gaps are added up densely at the quarter's end."""
    rows, cols, _strata_ids, k = drawn
    if rules is None or _needs_checks(rules):
        state.pending.append((pl.level, (rows, cols)))
    tallies.drawn[sl, t][:, pl.strata] += k
    if mark:
        state.marked = True
    kernels.record_draws(rows, cols, pl.work_code, state.visited, state.marks, mark, dedupe,
                         tallies.work[sl, t])


def close_quarter(state: ChunkState, t: int) -> None:
    """Checks per level; visits, the run without a visit and the longest gap, densely from
    the quarter's visited mask (compiled, :func:`dsr_analysis.simulation.kernels.
    close_quarter`); marks and the mask cleared."""
    for level, item in state.pending:
        if len(item) == 3:
            a, b, D = item
            chk = state.checks[level][:, a:b]
            if D is None:
                chk += 1
            else:
                chk += D
        else:
            kernels.add_checks(state.checks[level], *item)
    state.pending.clear()
    kernels.close_quarter(state.visited.reshape(-1).view(np.uint8), state.visits.reshape(-1),
                          state.run.reshape(-1), state.maxgap.reshape(-1))
    if state.marked:
        state.marks.fill(False)
        state.marked = False


def simulate_quarter(layout: CoverageLayout, state: ChunkState, tallies: Tallies,
                     gens: Sequence[np.random.Generator], rules: OverlapRules, sl: slice,
                     t: int, caches: list) -> None:
    """Step 3: one quarter of a chunk - the dense uniforms of every pass (one call per
    row), then the passes in order (counties, then the area level: each draws its sparse
    strata's uniforms from the rows' streams), bookkeeping."""
    for r, g in enumerate(gens):
        g.random(out=state.U[r])
    mark_counties = rules.between == "avoid" and any(len(p.strata) or p.full
                                                      for p in layout.passes[1:])
    for i, (pl, cache) in enumerate(zip(layout.passes, caches, strict=True)):
        mark = mark_counties and LEVELS[pl.level] == "county"
        dedupe = i > 0 and rules.between != "avoid"
        record_full(layout, pl, state, tallies, sl, t, full_pass(pl, state, rules), mark,
                    rules, dedupe)
        if not len(pl.strata):
            continue
        elig, counted = pass_eligibility(state, pl.level, rules, pl.lo, pl.hi)
        u = state.U[:, pl.offset:pl.offset + pl.dense_width]
        drawn = sample_pass(pl, u, elig, counted, rules, cache, gens)
        record_pass(layout, pl, state, tallies, sl, t, drawn, mark, rules, dedupe)
    close_quarter(state, t)


# --------------------------------------------------------------------------------------
# Step 4: year-end and final tables
# --------------------------------------------------------------------------------------
def close_year(layout: CoverageLayout, state: ChunkState, tallies: Tallies, sl: slice,
               year: int, hist: np.ndarray) -> None:
    """Coverage and visits per group, the visit histogram (added to ``hist``); checks of
    the year cleared."""
    cats, lo, hi = _cat_arrays(layout)
    kernels.year_tallies(state.visits, layout.run_start, layout.run_group, len(layout.groups),
                         cats, lo, hi, MAX_VISITS, tallies.covered[sl, year],
                         tallies.inspections[sl, year], hist)  # visits cleared
    for c in state.checks:
        c[:] = 0


def close_chunk(layout: CoverageLayout, state: ChunkState, tallies: Tallies, sl: slice,
                T: int) -> None:
    """Longest gaps of the chunk over the horizon (the run after the last visit included)."""
    cats, lo, hi = _cat_arrays(layout)
    kernels.gap_tallies(state.maxgap, state.run, cats, lo, hi, tallies.gap_mean[sl],
                        tallies.gap_4[sl])


def _cat_arrays(layout: CoverageLayout) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Category codes present and their column ranges ``[lo, hi)``."""
    items = list(layout.cat_range.items())
    return (np.array([c for c, _ in items], dtype=np.int64),
            np.array([a for _, (a, _b) in items], dtype=np.int64),
            np.array([b for _, (_a, b) in items], dtype=np.int64))


def coverage_tables(layout: CoverageLayout, tallies: Tallies, replicates: int, years: int,
                    budget: Budget) -> dict[str, pd.DataFrame]:
    """The tidy tables of :class:`CoverageResult`."""
    G = len(layout.groups)
    coverage = layout.groups.iloc[np.tile(np.arange(G), replicates * years)].reset_index(drop=True)
    coverage.insert(0, "year", np.tile(np.repeat(np.arange(1, years + 1), G), replicates))
    coverage.insert(0, "replicate", np.repeat(np.arange(replicates), years * G))
    coverage["covered"] = tallies.covered.reshape(-1).round().astype(np.int64)
    coverage["inspections"] = tallies.inspections.reshape(-1).round().astype(np.int64)
    rows = []
    for cat in range(len(CATEGORIES)):
        total = tallies.visit_hist[cat].sum()
        for v in range(MAX_VISITS + 1):
            rows.append(dict(category=CATEGORIES[cat],
                             inspections=f"{v}+" if v == MAX_VISITS else str(v),
                             objects=int(tallies.visit_hist[cat, v]),
                             share=float(tallies.visit_hist[cat, v] / total) if total else 0.0))
    visits = pd.DataFrame(rows)
    visits = visits[visits.groupby("category")["objects"].transform("sum") > 0]
    cat_counts = np.bincount(layout.arrays.category, minlength=len(CATEGORIES))
    gaps = pd.DataFrame({
        "replicate": np.repeat(np.arange(replicates), len(CATEGORIES)),
        "category": np.tile(CATEGORIES, replicates),
        "objects": np.tile(cat_counts, replicates),
        "mean_gap": tallies.gap_mean.reshape(-1), "share_gap_4plus": tallies.gap_4.reshape(-1)})
    gaps = gaps[gaps["objects"] > 0].reset_index(drop=True)
    return dict(coverage=coverage, visits=visits.reset_index(drop=True), gaps=gaps,
                quotas=_quota_frame(layout, tallies, years),
                workload=_workload_frame(layout, tallies, replicates, years, budget))


def _quota_frame(layout: CoverageLayout, tallies: Tallies, years: int) -> pd.DataFrame:
    T, S = 4 * years, layout.strata.n
    tt, ss = np.repeat(np.arange(T), S), np.tile(np.arange(S), T)
    q = layout.quota[ss]
    d_min = tallies.drawn.min(axis=0).reshape(-1)
    st = layout.strata.table
    frame = pd.DataFrame({
        "year": tt // 4 + 1, "quarter": tt % 4 + 1, "stratum": st["label"].to_numpy()[ss],
        "unit": st["unit"].to_numpy()[ss], "quota_rule": st["quota_rule"].to_numpy()[ss],
        "method": st["method"].to_numpy()[ss],
        "population": layout.population.sum(axis=-1)[ss], "quota": q,
        "drawn_mean": tallies.drawn.mean(axis=0).reshape(-1), "drawn_min": d_min,
        "attainment_min": np.divide(d_min, q, out=np.ones(len(q)), where=q > 0)})
    for j, c in enumerate(CREDIT_CLASSES):
        frame[f"probability_{c}"] = layout.plan_lambda[ss, j]
    return frame


def _workload_frame(layout: CoverageLayout, tallies: Tallies, replicates: int, years: int,
                    budget: Budget) -> pd.DataFrame:
    idx = pd.MultiIndex.from_product([range(replicates), range(4 * years), layout.arrays.units],
                                     names=["replicate", "t", "unit"])
    w = pd.DataFrame({"onsite": tallies.work[..., 0].reshape(-1),
                      "offsite": tallies.work[..., 1].reshape(-1)}, index=idx).reset_index()
    w.insert(1, "year", w["t"] // 4 + 1)
    w.insert(2, "quarter", w["t"] % 4 + 1)
    w = w.drop(columns="t")
    w["inspector_days"] = (w["onsite"] * budget.onsite_inspector_days
                           + w["offsite"] * budget.offsite_inspector_days)
    w["capacity_days"] = w["unit"].map(layout.capacity).astype(float)
    return w


def simulate_chunk(layout: CoverageLayout, rules: OverlapRules, tallies: Tallies,
                   seeds: Sequence[np.random.SeedSequence], sl: slice, years: int,
                   bar) -> np.ndarray:
    """Steps 2-4 for one chunk of replicates ``sl`` (their own streams and arrays; writes
    only the chunk's slots of ``tallies``, so chunks may run at the same time). Returns
    the chunk's visit histogram, added up by the caller."""
    gens = [np.random.Generator(np.random.PCG64(s)) for s in seeds]
    state = allocate_state(layout, len(gens))
    caches: list[dict] = [{} for _ in layout.passes]
    hist = np.zeros_like(tallies.visit_hist)
    for year in range(years):
        for qi in range(4):
            simulate_quarter(layout, state, tallies, gens, rules, sl, 4 * year + qi, caches)
            bar.update(len(gens))
        close_year(layout, state, tallies, sl, year, hist)
    close_chunk(layout, state, tallies, sl, 4 * years)
    return hist


def coverage_chunk(layout: CoverageLayout, rules: OverlapRules,
                   seeds: Sequence[np.random.SeedSequence], years: int, bar=None) -> Tallies:
    """One chunk of replicates as a pure task: the :class:`Tallies` of ``len(seeds)``
    replicates (their visit histogram in ``visit_hist``). What a Dask worker runs."""
    tallies = allocate_tallies(layout, len(seeds), years)
    hist = simulate_chunk(layout, rules, tallies, seeds, slice(0, len(seeds)), years,
                          bar or NoBar())
    np.add(tallies.visit_hist, hist, out=tallies.visit_hist)
    return tallies


def merge_tallies(layout: CoverageLayout, parts: Sequence[Tallies], replicates: int,
                  years: int) -> Tallies:
    """The run's tallies from its chunks' (in replicate order)."""
    out = allocate_tallies(layout, replicates, years)
    start = 0
    for part in parts:
        n = part.covered.shape[0]
        sl = slice(start, start + n)
        for name in ("covered", "inspections", "gap_mean", "gap_4", "drawn", "work"):
            getattr(out, name)[sl] = getattr(part, name)
        np.add(out.visit_hist, part.visit_hist, out=out.visit_hist)
        start += n
    return out


@dataclass
class CoverageJob:
    """A coverage simulation handed to an executor (:mod:`dsr_analysis.distributed`): its chunks run
    as tasks; :meth:`result` waits for them and builds the tables."""

    executor: object
    layout: CoverageLayout
    rules: OverlapRules
    futures: list
    replicates: int
    years: int
    seed: object
    budget: Budget
    bar: object

    def result(self) -> CoverageResult:
        parts = self.executor.gather(self.futures)
        self.bar.close()
        tallies = merge_tallies(self.layout, parts, self.replicates, self.years)
        return coverage_result(self.layout, self.rules, tallies, self.replicates, self.years,
                               self.seed, self.budget)


def coverage_result(layout: CoverageLayout, rules: OverlapRules, tallies: Tallies,
                    replicates: int, years: int, seed, budget: Budget) -> CoverageResult:
    """Step 5: the tidy tables of a run."""
    tables = coverage_tables(layout, tallies, replicates, years, budget)
    settings = dict(replicates=replicates, years=years, seed=seed, overlap=rules.mode,
                    overlap_scope=rules.scope, between_levels=rules.between,
                    objects=layout.arrays.n)
    return CoverageResult(settings=settings, **tables)


def submit_coverage(ex, layout: CoverageLayout, rules: OverlapRules, *, replicates: int,
                    years: int, seed, chunk_size: int | None = None, budget: Budget,
                    progress: bool = False) -> CoverageJob:
    """Hand a run's chunks to the executor ``ex`` (:func:`dsr_analysis.distributed.executor`): one task
    per chunk of ``chunk_size`` replicates, each with its replicates' own streams."""
    seeds = replicate_seeds(seed, replicates)
    chunk_size = chunk_size or default_chunk_size(layout.arrays.n)
    bar = progress_bar(replicates * 4 * years, progress, "simulate coverage")
    shared = ex.scatter(layout)
    futures = []
    for sl in chunks(replicates, chunk_size):
        if ex.distributed:
            f = ex.submit(coverage_chunk, shared, rules, seeds[sl], years)
            ex.on_done(f, functools.partial(bar.update, (sl.stop - sl.start) * 4 * years))
        else:  # threads of this process share the bar
            f = ex.submit(coverage_chunk, shared, rules, seeds[sl], years, bar)
        futures.append(f)
    return CoverageJob(executor=ex, layout=layout, rules=rules, futures=futures,
                       replicates=replicates, years=years, seed=seed, budget=budget, bar=bar)


# --------------------------------------------------------------------------------------
# The orchestrating call
# --------------------------------------------------------------------------------------
def simulate_coverage(
    classified: pd.DataFrame,
    policy: Policy,
    *,
    replicates: int = 100,
    years: int = 1,
    seed: int | None = 0,
    chunk_size: int | None = None,
    inspectors: pd.DataFrame | None = None,
    budget: Budget | None = None,
    progress: bool = False,
    workers: int | None = None,
    scheduler=None,
) -> CoverageResult:
    """Simulate ``years`` of quarterly draws under ``policy`` on a fixed register.

    Parameters
    ----------
    classified : DataFrame
        Register with ``category`` (:func:`dsr_analysis.categories.classify`).
    policy : Policy
        Quota rules, credit weights and overlap control (``policy.draw``).
    replicates, years : int
        Number of simulated replicates and years (4 quarters each).
    seed : int
        Seed of the ``SeedSequence`` spawning one stream per replicate.
    chunk_size : int, optional
        Replicates processed together (memory ~ 30 bytes x chunk x objects per worker;
        default :func:`dsr_analysis.simulation.sampling.default_chunk_size`); does not
        change the results.
    inspectors : DataFrame, optional
        Inspector register (capacity; staff-ratio quota rules).
    budget : Budget, optional
        Capacity and cost of checks (default :class:`Budget`).
    progress : bool
        Show a progress bar on standard error.
    workers : int, optional
        Chunks simulated at the same time, each in its own thread (the compiled kernels and
        numpy's generators release the GIL); default: the CPUs this process may use. Memory
        grows with ``workers x chunk_size``; the results never depend on it. With a
        ``scheduler`` of ``"local"``: the LocalCluster's worker processes.
    scheduler : str or distributed.Client, optional
        Where the chunks run (:func:`dsr_analysis.distributed.resolve_scheduler`):
        ``None`` in this process (or the cluster of ``DASK_SCHEDULER_ADDRESS`` if set),
        ``"local"`` a Dask LocalCluster on this machine, an address any Dask cluster. The
        results are the same wherever they run.
    """
    budget = budget or Budget()
    if not 1 <= years <= 60:
        raise ParameterError(_("years: {years} is out of range [1, 60]").format(years=years))
    if workers is not None and workers < 1:
        raise ParameterError(_("workers: {workers} must be at least 1").format(workers=workers))
    layout = build_layout(classified, policy, inspectors, budget)
    rules = OverlapRules.from_policy(policy)
    with as_executor(scheduler, workers) as ex:
        job = submit_coverage(ex, layout, rules, replicates=replicates, years=years, seed=seed,
                              chunk_size=chunk_size, budget=budget, progress=progress)
        return job.result()


# --------------------------------------------------------------------------------------
# Summaries and closed forms
# --------------------------------------------------------------------------------------
def coverage_summary(result: CoverageResult, by: Sequence[str] = ("category",)) -> pd.DataFrame:
    """Yearly coverage (share of objects inspected at least once) by ``by``.

    Mean over replicates and years, with the 5 % and 95 % quantiles across replicates.
    """
    by = list(by)
    g = result.coverage.groupby(["replicate", "year", *by], sort=False)[
        ["objects", "covered", "inspections"]].sum().reset_index()
    g["coverage"] = g["covered"] / g["objects"]
    g["inspections_per_object"] = g["inspections"] / g["objects"]
    return g.groupby(by, sort=False).agg(
        objects=("objects", "first"), coverage=("coverage", "mean"),
        coverage_p05=("coverage", lambda x: x.quantile(0.05)),
        coverage_p95=("coverage", lambda x: x.quantile(0.95)),
        inspections_per_object=("inspections_per_object", "mean")).reset_index()


def workload_summary(result: CoverageResult) -> pd.DataFrame:
    """Mean inspector-days per quarter and unit against capacity."""
    g = result.workload.groupby("unit", sort=False).agg(
        onsite=("onsite", "mean"), offsite=("offsite", "mean"),
        inspector_days=("inspector_days", "mean"), capacity_days=("capacity_days", "first"))
    g["load"] = np.divide(g["inspector_days"], g["capacity_days"],
                          out=np.full(len(g), np.nan), where=g["capacity_days"] > 0)
    return g.reset_index()


def closed_form_coverage(quota: np.ndarray | int, population: np.ndarray | int,
                         quarters: int = 4) -> np.ndarray:
    """Yearly coverage at a quarterly inclusion probability ``n/N``: ``1 - (1 - n/N)^4``."""
    return yearly_coverage(quota, population, quarters)


CHECK_COLUMNS = ["unit", "quota_rule", "credit_class", "population", "quota", "closed_form",
                 "simulated", "se", "z"]


def exclusive_strata(policy: Policy, groups: pd.DataFrame) -> dict[int, np.ndarray]:
    """Random strata whose objects no other level's stratum reaches: stratum id -> bool
    mask over ``groups`` (unit, category, positive_list, credit_class) of its members."""
    strata = build_strata(policy)
    units = [u.id for u in policy.units]
    unit = groups["unit"].map({u: i for i, u in enumerate(units)}).to_numpy()
    code = state_code(groups["category"].map({c: i for i, c in enumerate(CATEGORIES)}),
                      groups["positive_list"].to_numpy(bool),
                      groups["credit_class"].map({c: i for i, c in enumerate(CREDIT_CLASSES)}))
    sid = strata.lookup[:, unit, np.asarray(code)]
    out = {}
    for s in np.flatnonzero(strata.random):
        p = int(strata.table.at[s, "pass_"])
        members = sid[p] == s
        others = [q for q in range(strata.n_passes) if q != p]
        if members.any() and not any((sid[q][members] >= 0).any() for q in others):
            out[int(s)] = members
    return out


def closed_form_check(result: CoverageResult, classified: pd.DataFrame, policy: Policy,
                      inspectors: pd.DataFrame | None = None) -> pd.DataFrame:
    """Simulated yearly coverage of the random strata only one draw reaches, against the
    closed form: per credit class ``1 - (1 - lambda_c)^4`` for independent draws (Pareto
    sampling's inclusion probabilities equal ``lambda`` up to O(1/quota)), per stratum
    ``min(1, 4 quota / N)`` for rotation (exact). Empty for the yearly cap.

    Returns one row per stratum (rotation, ``credit_class`` ``all``) or stratum x class
    (independent): ``unit, quota_rule, credit_class, population, quota, closed_form,
    simulated, se, z`` (``se``: binomial standard error of the simulated share over
    replicates and years; ``z`` = (simulated - closed_form) / se). ``classified`` and
    ``inspectors`` are accepted for compatibility (the result holds the quotas used).
    """
    mode = result.settings["overlap"]
    if mode not in ("independent", "rotation"):
        return pd.DataFrame(columns=CHECK_COLUMNS)
    cov = result.coverage
    groups = cov.drop_duplicates(GROUP_COLUMNS)[GROUP_COLUMNS].reset_index(drop=True)
    agg = cov.groupby(GROUP_COLUMNS, sort=False)[["objects", "covered"]].sum().reindex(
        pd.MultiIndex.from_frame(groups))
    runs = result.settings["replicates"] * result.settings["years"]
    q1 = result.quotas[(result.quotas["year"] == 1) & (result.quotas["quarter"] == 1)]
    q1 = q1.reset_index(drop=True)
    rows = []
    for s, members in exclusive_strata(policy, groups).items():
        row = q1.iloc[s]
        sub = groups[members]
        classes = ["all"] if mode == "rotation" else sorted(set(sub["credit_class"]))
        for c in classes:
            part = members & ((groups["credit_class"] == c).to_numpy() if c != "all" else True)
            a = agg[part]
            n = int(a["objects"].sum() / runs)
            if mode == "rotation":
                closed = float(rotation_coverage(row["quota"], n))
            else:
                closed = float(1 - (1 - row[f"probability_{c}"]) ** 4)
            simulated = float(a["covered"].sum() / a["objects"].sum())
            se = float(np.sqrt(max(closed * (1 - closed), 1e-12) / (n * runs)))
            rows.append(dict(unit=row["unit"], quota_rule=row["quota_rule"], credit_class=c,
                             population=n, quota=int(row["quota"]), closed_form=closed,
                             simulated=simulated, se=se,
                             z=(simulated - closed) / se if se > 1e-9 else 0.0))
    return pd.DataFrame(rows, columns=CHECK_COLUMNS)
