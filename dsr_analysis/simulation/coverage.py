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
replicate its own ``PCG64`` stream. Each quarter a replicate fills its row of a random
buffer with one ``Generator.random`` call: one uniform per column of every pass's random
blocks (a layout fixed for the run). Replicates are processed in chunks only to bound memory:
the chunk size never changes the results. This is simulation randomness; official draws use
the SHA-256 ticket algorithm.

Speed: objects are ordered so that every stratum x credit class of every pass is a contiguous
block of columns of ``replicates x objects`` arrays. The keys are not computed for every
object: a Pareto key ``Q = (U/(1-U)) / (lambda/(1-lambda))`` is below a threshold ``t`` exactly
when ``U < t theta / (1 + t theta)`` (``theta = lambda/(1-lambda)``), so each block screens its
uniforms against one per-class bound chosen so that the expected number of candidates exceeds
the quota by a safe margin; the quota's smallest keys are then found among the candidates
only. Whenever a stratum's candidates fall short of its quota (rare) it takes every eligible
object as a candidate: the selection is always *exactly* the smallest keys of all eligible
objects, so the fast path and the plain computation give the same draw (tested).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import DsrError, ParameterError
from ..overlap import LEVELS, OverlapRules, counted_checks, eligible_mask
from ..policy import CATEGORIES, CREDIT_CLASSES, Policy
from ..quotas import inclusion_probabilities
from .sampling import (
    N_CLASSES,
    Budget,
    RegisterArrays,
    Strata,
    budget_quotas,
    build_strata,
    chunks,
    class_counts,
    default_chunk_size,
    draw_keys,
    inspectors_by_unit,
    progress_bar,
    quota_table,
    replicate_seeds,
    rotation_coverage,
    save_tables,
    smallest_in_groups,
    state_code,
    static_quotas,
    stratum_ids,
    yearly_coverage,
)

__all__ = [
    "GROUP_COLUMNS", "Budget", "CoverageResult", "CoverageLayout", "PassLayout",
    "RegisterArrays", "Strata", "build_layout", "build_strata", "closed_form_check",
    "closed_form_coverage", "coverage_summary", "inspectors_by_unit", "sample_pass",
    "screen_thresholds", "simulate_coverage", "static_quotas", "stratum_ids",
    "workload_summary",
]

#: Column names of the groups of :attr:`CoverageResult.coverage` (groups of objects).
GROUP_COLUMNS = ["unit", "category", "positive_list", "credit_class"]

#: The screening bound aims at ``k + SCREEN_SD * sqrt(k) + SCREEN_EXTRA`` expected candidates.
SCREEN_SD = 5.0
SCREEN_EXTRA = 10.0
#: Thresholds tried for ``t`` (in Pareto-key units; ``t = 1`` gives ``k`` candidates expected).
_T_GRID = 1.15 ** np.arange(0, 80)


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

    Random blocks (stratum x credit class) lie in columns ``[lo, hi)``; their uniforms sit
    at ``[offset, offset + hi - lo)`` of the random buffer. ``col_block`` maps a column of
    the span to its block (-1: in no random block of this pass).
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

    @property
    def width(self) -> int:
        return self.hi - self.lo


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
    run_to_group: np.ndarray
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
                 quota: np.ndarray, offset: int, offsite_first: bool) -> PassLayout:
    """Blocks of pass ``p`` in the ordered columns (see :class:`PassLayout`)."""
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
                raise DsrError(f"stratum {table.at[s, 'unit']}/{table.at[s, 'label']} is not "
                               "nested in the strata of the other level: the coverage engine "
                               "cannot lay it out")
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
    work_code = np.where(ok, unit_of[s0] * 2 + off, 0).astype(np.int64)
    return PassLayout(
        level=p, lo=lo, hi=hi, offset=offset, starts=starts, stops=stops,
        block_stratum=np.array([x[0] for x in blocks], dtype=np.int64),
        block_local=np.array([local[x[0]] for x in blocks], dtype=np.int64),
        block_credit=np.array([x[1] for x in blocks], dtype=np.int64), col_block=col_block,
        strata=np.array(rnd, dtype=np.int64), quota=quota[np.array(rnd, dtype=np.int64)],
        bases=strata.bases[np.array(rnd, dtype=np.int64)].reshape(-1, N_CLASSES),
        full=tuple(full), work_code=work_code)


def build_layout(classified: pd.DataFrame, policy: Policy,
                 inspectors: pd.DataFrame | None = None, budget: Budget | None = None
                 ) -> CoverageLayout:
    """Step 1 of :func:`simulate_coverage`: strata, quotas (budget cut applied), the object
    order and the blocks of every pass."""
    budget = budget or Budget()
    strata = build_strata(policy)
    arrays0 = RegisterArrays.from_frame(classified, policy)
    sid0 = stratum_ids(strata, arrays0)
    gid0, groups = _group_index(arrays0)
    order = object_order(strata, arrays0, sid0, gid0)
    arrays, sid, gid = arrays0.take(order), sid0[:, order], gid0[order]
    table = quota_table(classified, policy, strata, inspectors)
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
        pl = _pass_layout(strata, arrays, sid, p, quota, width, policy.methods.offsite_first)
        passes.append(pl)
        width += pl.width
    run_start = np.flatnonzero(np.r_[True, gid[1:] != gid[:-1]]) if arrays.n else np.zeros(0, int)
    run_to_group = np.zeros((len(run_start), len(groups)))
    run_to_group[np.arange(len(run_start)), gid[run_start]] = 1.0
    cat_range = {}
    for cat in range(len(CATEGORIES)):
        cols = np.flatnonzero(arrays.category == cat)
        if len(cols):
            cat_range[cat] = (int(cols[0]), int(cols[-1]) + 1)
    return CoverageLayout(
        strata=strata, arrays=arrays, passes=tuple(passes), quota=quota, population=counts,
        plan_lambda=inclusion_probabilities(counts, quota, strata.bases), groups=groups,
        run_start=run_start, run_to_group=run_to_group, cat_range=cat_range,
        capacity=capacity, width=width)


# --------------------------------------------------------------------------------------
# Step 2: state of a chunk of replicates
# --------------------------------------------------------------------------------------
@dataclass
class ChunkState:
    """Per-object state of a chunk of replicates (mutable; reset per chunk / year / quarter).

    ``checks[l]``: checks this year by the level-``l`` unit drawing the object;
    ``visits``: visits this year (a merged joint visit counts once); ``last``: quarter of
    the last visit + 1 (0: never); ``maxgap``: longest run without a visit so far;
    ``visited``: visited this quarter; ``marks``: drawn this quarter by the county level.
    """

    U: np.ndarray
    checks: list
    visits: np.ndarray
    last: np.ndarray
    maxgap: np.ndarray
    visited: np.ndarray
    marks: np.ndarray
    marked: list
    new: list
    pending: list


def allocate_state(layout: CoverageLayout, R: int) -> ChunkState:
    """Step 2: the arrays of a chunk of ``R`` replicates."""
    N = layout.arrays.n
    return ChunkState(U=np.empty((R, layout.width)),
                      checks=[np.zeros((R, N), dtype=np.uint8) for _ in LEVELS],
                      visits=np.zeros((R, N), dtype=np.uint8),
                      last=np.zeros((R, N), dtype=np.uint8),
                      maxgap=np.zeros((R, N), dtype=np.uint8),
                      visited=np.zeros((R, N), dtype=bool), marks=np.zeros((R, N), dtype=bool),
                      marked=[], new=[], pending=[])


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


def screen_thresholds(counts: np.ndarray, lam: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Per row, stratum and class, the bound on the uniforms below which an object is a
    candidate: ``t theta / (1 + t theta)`` for the smallest ``t`` of a grid at which the
    expected number of candidates reaches ``k + 5 sqrt(k) + 10`` (1 where that is not
    reached, and for classes taken with certainty)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        theta = np.where(lam < 1.0, lam / (1.0 - lam), np.inf)
    t = _T_GRID
    tt = t[None, None, None, :] * theta[..., None]
    with np.errstate(invalid="ignore"):
        share = np.where(np.isinf(theta)[..., None], 1.0, tt / (1.0 + tt))
    expected = (counts[..., None] * share).sum(axis=2)  # (R, S, grid)
    target = k + SCREEN_SD * np.sqrt(k) + SCREEN_EXTRA
    reach = expected >= target[..., None]
    idx = reach.argmax(axis=-1)
    ok = reach.any(axis=-1) & (target < counts.sum(axis=-1))
    tsel = t[idx][..., None] * theta
    with np.errstate(invalid="ignore"):
        tau = np.where(np.isinf(theta), 1.0, tsel / (1.0 + tsel))
    return np.where(ok[..., None], tau, 1.0)


def _block_counts(pl: PassLayout, elig: np.ndarray | None, R: int) -> np.ndarray:
    sizes = pl.stops - pl.starts
    if elig is None:
        return np.broadcast_to(sizes, (R, len(sizes)))
    c = np.zeros((R, pl.width + 1), dtype=np.int64)
    np.cumsum(elig, axis=1, out=c[:, 1:])
    return c[:, pl.stops - pl.lo] - c[:, pl.starts - pl.lo]


def _candidates(pl: PassLayout, u: np.ndarray, tau: np.ndarray, elig: np.ndarray | None,
                mask: np.ndarray) -> np.ndarray:
    """Flat positions (in the span) of the uniforms below their block's bound."""
    for i in range(len(pl.starts)):
        a, b = pl.starts[i] - pl.lo, pl.stops[i] - pl.lo
        np.less(u[:, a:b], tau[:, pl.block_local[i], pl.block_credit[i]][:, None],
                out=mask[:, a:b])
    if elig is not None:
        mask &= elig
    return np.flatnonzero(mask)


def sample_pass(pl: PassLayout, u: np.ndarray, elig: np.ndarray | None,
                counted: np.ndarray | None, rules: OverlapRules, cache: dict
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pareto order sampling of every random stratum of a pass, all rows at once.

    ``u`` holds the pass's uniforms (R x width). Returns ``rows, cols, strata`` of the drawn
    objects (``cols`` are absolute columns).
    """
    R, W, nS = u.shape[0], pl.width, len(pl.strata)
    key = None if elig is not None else R
    if key in cache:
        c4, lam, k, tau = cache[key]
    else:
        c4 = np.zeros((R, nS, N_CLASSES), dtype=np.int64)
        c4[:, pl.block_local, pl.block_credit] = _block_counts(pl, elig, R)
        lam = inclusion_probabilities(c4, pl.quota, pl.bases)
        k = np.minimum(pl.quota, c4.sum(axis=-1))
        tau = np.ones_like(lam) if rules.mode == "rotation" else screen_thresholds(c4, lam, k)
        if key is not None:
            cache[key] = (c4, lam, k, tau)
    mask = np.zeros((R, W), dtype=bool)
    f = _candidates(pl, u, tau, elig, mask)
    rows = f // W
    blk = pl.col_block[f - rows * W]
    grp = rows * nS + pl.block_local[blk]
    short = np.bincount(grp, minlength=R * nS) < k.reshape(-1)
    if short.any():  # rare: every eligible object of these strata becomes a candidate
        tau = tau.copy()
        tau.reshape(R * nS, N_CLASSES)[short] = 1.0
        f = _candidates(pl, u, tau, elig, mask)
        rows = f // W
        blk = pl.col_block[f - rows * W]
        grp = rows * nS + pl.block_local[blk]
    cols = f - rows * W
    lam_c = lam[rows, pl.block_local[blk], pl.block_credit[blk]]
    rounds = counted[rows, cols] if rules.mode == "rotation" else None
    keys = draw_keys(u.reshape(-1)[f], lam_c, rounds, rules)
    sel = smallest_in_groups(grp, keys, k.reshape(-1))
    return rows[sel], cols[sel] + pl.lo, pl.block_stratum[blk[sel]]


def full_pass(pl: PassLayout, state: ChunkState, rules: OverlapRules
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every eligible object of the pass's full off-site coverage strata (never capped)."""
    out_r, out_c, out_s = [], [], []
    R = state.visits.shape[0]
    for s, a, b in pl.full:
        elig, _ = pass_eligibility(state, pl.level, rules, a, b, method="offsite_full")
        if elig is None:
            r = np.repeat(np.arange(R), b - a)
            c = np.tile(np.arange(a, b), R)
        else:
            r, c = np.nonzero(elig)
            c = c + a
        out_r.append(r)
        out_c.append(c)
        out_s.append(np.full(len(r), s, dtype=np.int64))
    if not out_r:
        e = np.zeros(0, dtype=np.int64)
        return e, e, e
    return np.concatenate(out_r), np.concatenate(out_c), np.concatenate(out_s)


def record_pass(layout: CoverageLayout, pl: PassLayout, state: ChunkState, tallies: Tallies,
                sl: slice, t: int, drawn: tuple[np.ndarray, np.ndarray, np.ndarray],
                mark: bool) -> None:
    """Bookkeeping of one pass: the level's checks (counted from the next quarter on: as in
    the official draw, a unit's earlier checks are those of earlier draws), draws per
    stratum, the county marks (for ``avoid``) and the new visits of the quarter (a second
    draw of an object in the same quarter is one joint visit, ``merge``) with their
    workload."""
    rows, cols, strata_ids = drawn
    R, N = state.visits.shape
    flat = rows * N + cols
    state.pending.append((pl.level, flat))
    S = layout.strata.n
    tallies.drawn[sl, t] += np.bincount(rows * S + strata_ids, minlength=R * S).reshape(R, S)
    if mark:
        state.marks.reshape(-1)[flat] = True
        state.marked.append(flat)
    new = ~state.visited.reshape(-1)[flat]
    flat, rows, cols = flat[new], rows[new], cols[new]
    state.visited.reshape(-1)[flat] = True
    state.new.append(flat)
    U2 = 2 * len(layout.arrays.units)
    tallies.work[sl, t] += np.bincount(rows * U2 + pl.work_code[cols], minlength=R * U2
                                       ).reshape(R, -1, 2)


def close_quarter(state: ChunkState, t: int) -> None:
    """Checks per level, visits, last visit and longest gap of the quarter's draws; marks
    cleared."""
    for level, flat in state.pending:
        state.checks[level].reshape(-1)[flat] += 1
    state.pending.clear()
    f = np.concatenate(state.new) if state.new else np.zeros(0, dtype=np.int64)
    state.visits.reshape(-1)[f] += 1
    last = state.last.reshape(-1)
    gap = t - last[f].astype(np.int64)
    mg = state.maxgap.reshape(-1)
    mg[f] = np.maximum(mg[f], gap)
    last[f] = t + 1
    state.visited.reshape(-1)[f] = False
    for m in state.marked:
        state.marks.reshape(-1)[m] = False
    state.marked.clear()
    state.new.clear()


def simulate_quarter(layout: CoverageLayout, state: ChunkState, tallies: Tallies,
                     gens: Sequence[np.random.Generator], rules: OverlapRules, sl: slice,
                     t: int, caches: list) -> None:
    """Step 3: one quarter of a chunk - fill the uniforms, draw the passes in order
    (counties, then the area level), bookkeeping."""
    for r, g in enumerate(gens):
        g.random(out=state.U[r])
    mark_counties = rules.between == "avoid" and any(len(p.strata) or p.full
                                                      for p in layout.passes[1:])
    for pl, cache in zip(layout.passes, caches, strict=True):
        mark = mark_counties and LEVELS[pl.level] == "county"
        record_pass(layout, pl, state, tallies, sl, t, full_pass(pl, state, rules), mark)
        if not len(pl.strata):
            continue
        elig, counted = pass_eligibility(state, pl.level, rules, pl.lo, pl.hi)
        u = state.U[:, pl.offset:pl.offset + pl.width]
        drawn = sample_pass(pl, u, elig, counted, rules, cache)
        record_pass(layout, pl, state, tallies, sl, t, drawn, mark)
    close_quarter(state, t)


# --------------------------------------------------------------------------------------
# Step 4: year-end and final tables
# --------------------------------------------------------------------------------------
def close_year(layout: CoverageLayout, state: ChunkState, tallies: Tallies, sl: slice,
               year: int) -> None:
    """Coverage and visits per group, the visit histogram; checks of the year cleared."""
    v = state.visits
    if len(layout.run_start):
        runs = np.add.reduceat((v > 0).view(np.uint8), layout.run_start, axis=1, dtype=np.int64)
        tallies.covered[sl, year] = runs @ layout.run_to_group
        runs = np.add.reduceat(v, layout.run_start, axis=1, dtype=np.int64)
        tallies.inspections[sl, year] = runs @ layout.run_to_group
    for cat, (a, b) in layout.cat_range.items():
        hist = np.bincount(np.minimum(v[:, a:b], MAX_VISITS).reshape(-1),
                           minlength=MAX_VISITS + 1)
        tallies.visit_hist[cat] += hist
    v[:] = 0
    for c in state.checks:
        c[:] = 0


def close_chunk(layout: CoverageLayout, state: ChunkState, tallies: Tallies, sl: slice,
                T: int) -> None:
    """Longest gaps of the chunk over the horizon (the run after the last visit included)."""
    mg = np.maximum(state.maxgap, (T - state.last.astype(np.int64)).astype(np.uint8))
    for cat, (a, b) in layout.cat_range.items():
        tallies.gap_mean[sl, cat] = mg[:, a:b].mean(axis=1)
        tallies.gap_4[sl, cat] = (mg[:, a:b] >= 4).mean(axis=1)


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
        Replicates processed together (memory ~ 30 bytes x chunk x objects; default
        :func:`dsr_analysis.simulation.sampling.default_chunk_size`); does not change the results.
    inspectors : DataFrame, optional
        Inspector register (capacity; staff-ratio quota rules).
    budget : Budget, optional
        Capacity and cost of checks (default :class:`Budget`).
    progress : bool
        Show a progress bar on standard error.
    """
    budget = budget or Budget()
    if not 1 <= years <= 60:
        raise ParameterError(f"years: {years} is out of range [1, 60]")
    layout = build_layout(classified, policy, inspectors, budget)
    rules = OverlapRules.from_policy(policy)
    tallies = allocate_tallies(layout, replicates, years)
    seeds = replicate_seeds(seed, replicates)
    chunk_size = chunk_size or default_chunk_size(layout.arrays.n)
    bar = progress_bar(replicates * 4 * years, progress, "simulate coverage")
    for sl in chunks(replicates, chunk_size):
        gens = [np.random.Generator(np.random.PCG64(s)) for s in seeds[sl]]
        state = allocate_state(layout, len(gens))
        caches: list[dict] = [{} for _ in layout.passes]
        for year in range(years):
            for qi in range(4):
                simulate_quarter(layout, state, tallies, gens, rules, sl, 4 * year + qi, caches)
                bar.update(len(gens))
            close_year(layout, state, tallies, sl, year)
        close_chunk(layout, state, tallies, sl, 4 * years)
    bar.close()
    tables = coverage_tables(layout, tallies, replicates, years, budget)
    settings = dict(replicates=replicates, years=years, seed=seed, overlap=rules.mode,
                    overlap_scope=rules.scope, between_levels=rules.between,
                    objects=layout.arrays.n)
    return CoverageResult(settings=settings, **tables)


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
