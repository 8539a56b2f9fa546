"""Simulated years of quarterly draws: coverage, visits per object, gaps, workload.

The simulation uses the strata and quotas of the real draw (R3, R4): every drawing unit of
the policy draws, each quarter, ``quota`` objects from each stratum (unit x quota rule x
credit class) as :func:`dsr_analysis.quotas.quarterly_quotas` computes them. Overlap across
quarters follows ``policy.draw.overlap``:

``independent``
    every quarter is a fresh simple random sample without replacement of each stratum;
``rotation``
    objects not yet inspected this year come first; only when fewer of them are left than
    the quota are already inspected ones drawn to make up the minimum (so a 25 % quarterly
    quota covers the whole stratum in a year, and R4 minimums are always met);
``yearly_cap``
    objects already inspected ``draw.yearly_cap`` times this year cannot be drawn (the
    quota may then fall short, which the quota table reports).

Between levels (R4), the area level draws first; with ``between_levels: avoid`` its
objects are excluded from the county draw of the same quarter, with ``merge`` both draws are
independent and an object drawn twice gets one joint visit.

Randomness (SPEC 7): one ``seed``; ``SeedSequence(seed).spawn(replicates)`` gives each
replicate its own ``PCG64`` stream. Each quarter a replicate fills its row of a random
buffer with one ``Generator.random`` call (a fixed layout: pass by pass, the iid draws of
the sparse blocks, then one key per object of the dense blocks); a sparse block whose draws
fell short (rare) then draws keys for the whole block from the same stream. Replicates are
processed in chunks only to bound memory and stay in cache: the chunk size never changes
the results. This is simulation randomness; official draws use the SHA-256 ticket algorithm.

Speed: the enterprises are ordered so that every stratum is a contiguous block of columns of
``replicates x enterprises`` arrays. A block drawing few of many objects (*sparse*: at most
:data:`SPARSE_MAX_DRAWS` iid draws per object, sized from the expected exclusions) keeps the
first ``k`` distinct eligible of iid uniform positions: all sparse blocks of a pass at once,
duplicates found by scattering draw indices into a scratch array, exclusions by an earlier
pass by a mark array. The other (*dense*) blocks of a pass take the ``k`` smallest random
keys of each block with one sort per row (keys shifted by block). There is no Python loop
over enterprises or replicates' objects; loops run over chunks, quarters and passes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .errors import ParameterError, PolicyError
from .policy import CATEGORIES, CREDIT_CLASSES, Policy
from .quotas import quarterly_quotas

CATEGORY_CODE = {c: i for i, c in enumerate(CATEGORIES)}  # special 0, key 1, general 2
CREDIT_CODE = {c: i for i, c in enumerate(CREDIT_CLASSES)}  # A 0 ... D 3
N_STATES = len(CATEGORIES) * 2 * len(CREDIT_CLASSES)  # category x positive list x credit class

#: Column names of :attr:`CoverageResult.coverage`.
GROUP_COLUMNS = ["unit", "category", "positive_list", "credit_class"]


def state_code(category: np.ndarray, positive: np.ndarray, credit: np.ndarray) -> np.ndarray:
    """Integer code of (category code, positive list, credit code): ``cat*8 + pos*4 + credit``."""
    return (np.asarray(category, dtype=np.int16) * 8 + np.asarray(positive, dtype=np.int16) * 4
            + np.asarray(credit, dtype=np.int16))


# --------------------------------------------------------------------------------------
# Settings
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Budget:
    """Inspector capacity and the cost of a check (inspector-days).

    Attributes
    ----------
    days_per_inspector_per_quarter : float
        Inspector-days each active, certified inspector gives to random checks per quarter.
    onsite_inspector_days : float
        Inspector-days per on-site check (R1: at least two certified officers; 2 x 1 day).
    offsite_inspector_days : float
        Inspector-days per technology (off-site) check (R6).
    inspector_scale : float
        Share of the register's active, certified inspectors available (1.0 = all).
    enforce : bool
        When a unit's planned checks exceed its capacity, scale its random quotas down
        (pro rata, rounded down) and report the shortfall; otherwise only report the load.
    """

    days_per_inspector_per_quarter: float = field(
        default=8.0, metadata={"doc": "inspector-days per inspector and quarter", "range": (0.0, 92.0)})
    onsite_inspector_days: float = field(
        default=2.0, metadata={"doc": "inspector-days per on-site check", "range": (0.0, 100.0)})
    offsite_inspector_days: float = field(
        default=0.5, metadata={"doc": "inspector-days per off-site check", "range": (0.0, 100.0)})
    inspector_scale: float = field(
        default=1.0, metadata={"doc": "share of inspectors available", "range": (0.0, 10.0)})
    enforce: bool = field(default=False, metadata={"doc": "scale quotas down to capacity"})


# --------------------------------------------------------------------------------------
# Register as arrays
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RegisterArrays:
    """The deciding columns of a classified register as integer arrays (one entry per object).

    Attributes
    ----------
    units : tuple of str
        Unit ids; ``unit`` indexes into it.
    unit, category, credit : ndarray of int8
        Unit index, category code (:data:`CATEGORY_CODE`), credit code (:data:`CREDIT_CODE`).
    positive, offsite : ndarray of bool
        On the positive list; off-site (technology) check capable.
    """

    units: tuple[str, ...]
    unit: np.ndarray
    category: np.ndarray
    positive: np.ndarray
    credit: np.ndarray
    offsite: np.ndarray

    @property
    def n(self) -> int:
        return len(self.unit)

    @classmethod
    def from_frame(cls, classified: pd.DataFrame, policy: Policy) -> RegisterArrays:
        units = tuple(u.id for u in policy.units)
        unit = pd.Index(units).get_indexer(classified["unit"])
        if (unit < 0).any():
            bad = sorted(set(classified["unit"][unit < 0]))
            raise PolicyError(f"{policy.path}: register units {bad} are not units of the policy "
                              f"({', '.join(units)})")
        return cls(
            units=units,
            unit=unit.astype(np.int8),
            category=pd.Index(CATEGORIES).get_indexer(classified["category"]).astype(np.int8),
            positive=classified["positive_list"].to_numpy(bool),
            credit=pd.Index(CREDIT_CLASSES).get_indexer(classified["credit_class"]).astype(np.int8),
            offsite=classified["offsite_capable"].to_numpy(bool),
        )

    def take(self, order: np.ndarray) -> RegisterArrays:
        return dataclasses.replace(self, unit=self.unit[order], category=self.category[order],
                                   positive=self.positive[order], credit=self.credit[order],
                                   offsite=self.offsite[order])


# --------------------------------------------------------------------------------------
# Strata
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Strata:
    """Drawing strata of a policy and the lookup from an object's state to its stratum.

    A *pass* is one draw over disjoint populations: all units that draw from their own
    objects (the counties) form one pass together, drawn first as in the official draw; each
    unit that draws from all objects (the area level) is a pass of its own, drawn after.

    Attributes
    ----------
    table : DataFrame
        One row per stratum: ``stratum, pass_, unit, unit_name, level, draws_from,
        quota_rule, category, subset, credit_class, method, ratio, basis, per``.
    lookup : ndarray of int16, shape (passes, units, N_STATES)
        Stratum id of an object of unit ``u`` in state ``code`` in each pass (-1: none).
    """

    table: pd.DataFrame
    lookup: np.ndarray

    @property
    def n_passes(self) -> int:
        return self.lookup.shape[0]

    @property
    def n(self) -> int:
        return len(self.table)

    @property
    def coarse_first(self) -> list[int]:
        """Passes ordered from the coarsest strata (units drawing from every object) to the
        finest, the order in which sorting objects makes every stratum a contiguous block."""
        if self.table.empty:
            return list(range(self.n_passes))
        wide = self.table.groupby("pass_")["draws_from"].first()
        return sorted(range(self.n_passes), key=lambda p: (wide.get(p) != "all", p))


def build_strata(policy: Policy) -> Strata:
    """Strata of ``policy``: one per drawing unit x quota rule x credit class (or ``all``)."""
    units = list(policy.units)
    unit_index = {u.id: i for i, u in enumerate(units)}
    # Drawing order as in the official draw (dsr_analysis.draw): the units drawing from their
    # own objects first, then each unit drawing from the whole jurisdiction, so that with
    # ``between_levels: avoid`` the upper level skips objects a county already drew.
    own = [u for u in units if u.draws_from == "own"]
    passes = [own] if own else []
    passes += [[u] for u in units if u.draws_from == "all"]
    lookup = np.full((len(passes), len(units), N_STATES), -1, dtype=np.int16)
    rows = []
    for p, members in enumerate(passes):
        for unit in members:
            covered = range(len(units)) if unit.draws_from == "all" else [unit_index[unit.id]]
            for rule in policy.quotas.rules:
                if rule.level != unit.level:
                    continue
                classes = CREDIT_CLASSES if rule.credit_weighted else ("all",)
                for cls in classes:
                    sid = len(rows)
                    rows.append(dict(stratum=sid, pass_=p, unit=unit.id, unit_name=unit.name,
                                     level=unit.level, draws_from=unit.draws_from,
                                     quota_rule=rule.id,
                                     category=rule.category, subset=rule.subset,
                                     credit_class=cls, method=rule.method, ratio=rule.ratio,
                                     basis=rule.basis, per=rule.per,
                                     credit_weighted=rule.credit_weighted))
                    for code in range(N_STATES):
                        cat, pos, credit = code // 8, (code // 4) % 2, code % 4
                        if CATEGORIES[cat] != rule.category:
                            continue
                        if rule.subset == "positive_list" and not pos:
                            continue
                        if rule.subset == "not_positive_list" and pos:
                            continue
                        if cls != "all" and CREDIT_CODE[cls] != credit:
                            continue
                        for fu in covered:
                            if lookup[p, fu, code] >= 0:
                                raise PolicyError(
                                    f"{policy.path}: quota rule {rule.id} of unit {unit.id} "
                                    "overlaps another rule of the same draw")
                            lookup[p, fu, code] = sid
    return Strata(table=pd.DataFrame(rows), lookup=lookup)


def stratum_ids(strata: Strata, arrays: RegisterArrays, code: np.ndarray | None = None,
                ) -> np.ndarray:
    """Stratum of every object in every pass, shape (passes, ..., objects)."""
    if code is None:
        code = state_code(arrays.category, arrays.positive, arrays.credit)
    return strata.lookup[:, arrays.unit, code] if code.ndim == 1 else np.stack(
        [strata.lookup[p][arrays.unit[None, :], code] for p in range(strata.n_passes)])


def static_quotas(classified: pd.DataFrame, policy: Policy, strata: Strata,
                  inspectors: pd.DataFrame | None = None) -> np.ndarray:
    """Quota of each stratum from :func:`dsr_analysis.quotas.quarterly_quotas` (one quarter)."""
    table = quarterly_quotas(classified, policy, f"{policy.year}Q1", inspectors)
    merged = strata.table.merge(table[["unit", "quota_rule", "credit_class", "quota"]],
                                on=["unit", "quota_rule", "credit_class"], how="left",
                                validate="one_to_one")
    return merged["quota"].fillna(0).to_numpy(np.int64)


# --------------------------------------------------------------------------------------
# Vectorised quotas (per replicate, for registers whose states change)
# --------------------------------------------------------------------------------------
def allocate_many(total: np.ndarray, populations: np.ndarray, weights: Sequence[float],
                  ) -> np.ndarray:
    """Row-wise :func:`dsr_analysis.quotas.allocate`: identical results, vectorised over rows.

    Parameters
    ----------
    total : ndarray of int, shape (R,)
    populations : ndarray of int, shape (R, C)
    weights : sequence of float, length C
    """
    total = np.asarray(total, dtype=np.int64)
    pop = np.asarray(populations, dtype=float)
    R, C = pop.shape
    w = np.broadcast_to(np.asarray(weights, dtype=float), (R, C)) * (pop > 0)
    zero_w = w.sum(axis=1) == 0
    w = np.where(zero_w[:, None], (pop > 0).astype(float), w)
    active = (total > 0) & (pop.sum(axis=1) > 0)
    if np.any(active & (total > pop.sum(axis=1))):
        raise ValueError("cannot allocate more draws than objects")
    capped = np.zeros((R, C), dtype=bool)
    ideal = np.zeros((R, C))
    remaining = total.astype(float)
    pw = pop * w
    for _ in range(C + 1):
        free = ~capped
        pwf = np.where(free, pw, 0.0)
        mass = pwf.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(mass[:, None] > 0, remaining[:, None] * pwf / mass[:, None], 0.0)
        ideal = np.where(free, share, ideal)
        over = free & (ideal > pop)
        if not over.any():
            break
        ideal = np.where(over, pop, ideal)
        capped |= over
        remaining = total - np.where(capped, ideal, 0.0).sum(axis=1)
    base = np.minimum(np.floor(ideal + 1e-9).astype(np.int64), pop.astype(np.int64))
    left = total - base.sum(axis=1)
    idx = np.broadcast_to(np.arange(C), (R, C))
    order = np.lexsort((-idx, -w, -(ideal - base)), axis=-1)
    room = np.take_along_axis(base < pop, order, axis=1)
    rank = np.cumsum(room, axis=1)
    plus_sorted = room & (rank <= left[:, None])
    plus = np.zeros((R, C), dtype=np.int64)
    np.put_along_axis(plus, order, plus_sorted.astype(np.int64), axis=1)
    out = base + plus
    out[~active] = 0
    return out


def dynamic_quotas(strata: Strata, population: np.ndarray, policy: Policy,
                   inspectors_by_unit: Mapping[str, int] | None = None) -> np.ndarray:
    """Quotas per replicate and stratum from stratum populations, shape (R, strata).

    The same arithmetic as :func:`dsr_analysis.quotas.quarterly_quotas` (ceil of
    ratio x population, capped at the population; credit-weighted rules shared out by
    :func:`allocate_many`), vectorised over replicates.
    """
    population = np.asarray(population, dtype=np.int64)
    quota = np.zeros_like(population)
    weights = [policy.credit_risk.weights[c] for c in CREDIT_CLASSES]
    rules = {r.id: r for r in policy.quotas.rules}
    for (unit, rule_id), rows in strata.table.groupby(["unit", "quota_rule"], sort=False):
        sids = rows["stratum"].to_numpy()
        rule = rules[rule_id]
        pop = population[:, sids]
        total = pop.sum(axis=1)
        if rule.method == "offsite_full":
            quota[:, sids] = pop
            continue
        periods = 4 if rule.per == "year" else 1
        if rule.basis == "share":
            exact = rule.ratio * total / periods
        else:
            n_insp = (inspectors_by_unit or {}).get(unit, 0)
            exact = np.full(len(total), rule.ratio * n_insp / periods)
        minimum = np.minimum(np.ceil(np.round(exact, 9)).astype(np.int64), total)
        if rule.credit_weighted:
            quota[:, sids] = allocate_many(minimum, pop, weights)
        else:
            quota[:, sids[0]] = minimum
    return quota


def stratum_costs(strata: Strata, offsite_share: np.ndarray, budget: Budget,
                  offsite_first: bool) -> np.ndarray:
    """Expected inspector-days of one draw from each stratum (last axis = strata)."""
    offsite_full = (strata.table["method"] == "offsite_full").to_numpy()
    share = offsite_share if offsite_first else np.zeros_like(offsite_share)
    share = np.where(offsite_full, 1.0, share)
    return share * budget.offsite_inspector_days + (1 - share) * budget.onsite_inspector_days


def apply_budget(quota: np.ndarray, strata: Strata, costs: np.ndarray,
                 capacity: Mapping[str, float]) -> tuple[np.ndarray, np.ndarray]:
    """Scale random quotas down where a unit's planned inspector-days exceed its capacity.

    Returns the new quotas and the planned inspector-days per unit (last axis = the units of
    ``capacity`` in order). Full off-site coverage is never cut.
    """
    quota = np.array(quota, dtype=np.int64, copy=True)
    units = list(capacity)
    planned = np.zeros(quota.shape[:-1] + (len(units),))
    random = (strata.table["method"] == "random").to_numpy()
    for j, unit in enumerate(units):
        in_unit = (strata.table["unit"] == unit).to_numpy()
        fixed = (quota * costs * (in_unit & ~random)).sum(axis=-1)
        var = (quota * costs * (in_unit & random)).sum(axis=-1)
        planned[..., j] = fixed + var
        with np.errstate(invalid="ignore", divide="ignore"):
            f = np.clip(np.where(var > 0, (capacity[unit] - fixed) / var, 1.0), 0.0, 1.0)
        cols = in_unit & random
        scaled = np.floor(quota[..., cols] * np.expand_dims(f, -1) + 1e-9).astype(np.int64)
        quota[..., cols] = scaled
    return quota, planned


# --------------------------------------------------------------------------------------
# Without-replacement selection
# --------------------------------------------------------------------------------------
def smallest_k(keys: np.ndarray, k: np.ndarray, n1: np.ndarray | None = None,
               n2: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise positions of the ``k[r]`` smallest keys of each row.

    Keys in ``[0, 1)`` come first (primary), keys in ``[1, 2)`` next (secondary, e.g. objects
    already inspected this year under rotation), ``inf`` is never selected. ``n1``/``n2`` are
    the counts of primary/secondary keys per row (default: every key primary). A row with
    fewer selectable keys than ``k`` returns all of them.

    Returns
    -------
    rows, cols : ndarray of int64
        Positions of the selected keys, ordered by row.
    """
    R, n = keys.shape
    k = np.broadcast_to(np.asarray(k, dtype=np.int64), (R,))
    n1 = np.full(R, n, dtype=np.int64) if n1 is None else np.asarray(n1, dtype=np.int64)
    n2 = np.zeros(R, dtype=np.int64) if n2 is None else np.asarray(n2, dtype=np.int64)
    k_eff = np.minimum(k, n1 + n2)
    if n == 0 or not k_eff.any():
        return np.empty(0, np.int64), np.empty(0, np.int64)
    k2 = np.maximum(k_eff - n1, 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        t1 = np.minimum(1.0, (k_eff + 5 * np.sqrt(k_eff) + 10) / np.maximum(n1, 1))
        t2 = 1.0 + np.minimum(1.0, (k2 + 5 * np.sqrt(k2) + 10) / np.maximum(n2, 1))
    t = np.where(k_eff <= n1, t1, t2)
    t = np.where(k_eff == 0, -1.0, t)
    dense = float(np.mean(np.minimum(t, 1.0) + np.maximum(t - 1.0, 0.0))) > 0.25
    if dense:
        kv = _kth_values(keys, k_eff)
        sel = keys <= kv[:, None]
        sel &= (k_eff > 0)[:, None]
        return _nonzero2(sel)
    rows, cols = _nonzero2(keys < t[:, None])
    counts = np.bincount(rows, minlength=R)
    short = counts < k_eff
    if short.any():  # rare: the screening threshold kept too few; redo these rows exactly
        t = np.where(short, np.inf, t)
        rows, cols = _nonzero2(keys < t[:, None])
        counts = np.bincount(rows, minlength=R)
    vals = keys[rows, cols]
    starts = np.cumsum(counts) - counts
    pos = np.arange(len(rows)) - starts[rows]
    pad = np.full((R, int(counts.max())), np.inf)
    pad[rows, pos] = vals
    kv = _kth_values(pad, k_eff)
    keep = vals <= kv[rows]
    return rows[keep].astype(np.int64), cols[keep].astype(np.int64)


def _nonzero2(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.nonzero`` of a 2-D mask (faster via the flat positions)."""
    flat = np.flatnonzero(mask)
    rows = flat // mask.shape[1]
    return rows, flat - rows * mask.shape[1]


def _kth_values(a: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Row-wise k-th smallest value (k >= 1); -inf where k == 0."""
    kk = np.unique(k[k > 0]) - 1
    out = np.full(a.shape[0], -np.inf)
    if len(kk) == 0:
        return out
    part = np.partition(a, kk, axis=1)
    has = k > 0
    out[has] = part[np.nonzero(has)[0], k[has] - 1]
    return out


def select_by_stratum(keys: np.ndarray, stratum: np.ndarray, quota: np.ndarray,
                      ) -> np.ndarray:
    """Selection mask for strata that differ per replicate (general, sort-based path).

    Parameters
    ----------
    keys : ndarray, shape (R, N)
        Priority keys as in :func:`smallest_k` (``inf`` = not selectable).
    stratum : ndarray of int, shape (R, N)
        Stratum of each object in this pass (-1 = not in any).
    quota : ndarray of int, shape (R, S)

    Returns
    -------
    ndarray of bool, shape (R, N)
    """
    R, N = keys.shape
    S = quota.shape[1]
    eligible = (stratum >= 0) & np.isfinite(keys)
    comp = np.where(eligible, stratum * 4.0 + keys, np.inf)
    order = np.argsort(comp, axis=1, kind="stable")
    s_sorted = np.take_along_axis(np.where(eligible, stratum, S), order, axis=1)
    pos = np.broadcast_to(np.arange(N), (R, N))
    new_run = np.ones((R, N), dtype=bool)
    new_run[:, 1:] = s_sorted[:, 1:] != s_sorted[:, :-1]
    run_start = np.maximum.accumulate(np.where(new_run, pos, 0), axis=1)
    rank = pos - run_start
    q_ext = np.concatenate([quota, np.zeros((R, 1), dtype=quota.dtype)], axis=1)
    take = rank < np.take_along_axis(q_ext, s_sorted, axis=1)
    out = np.zeros((R, N), dtype=bool)
    np.put_along_axis(out, order, take, axis=1)
    return out


# --------------------------------------------------------------------------------------
# Replicate streams
# --------------------------------------------------------------------------------------
def replicate_seeds(seed: int | np.random.SeedSequence | None, replicates: int,
                    ) -> list[np.random.SeedSequence]:
    """One child ``SeedSequence`` per replicate (``SeedSequence(seed).spawn``)."""
    ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    return ss.spawn(replicates)


#: Replicate-objects per chunk by default: the per-object state of a chunk (a few bytes per
#: replicate and object) then stays in the processor's caches.
CHUNK_OBJECTS = 800_000


def default_chunk_size(objects: int) -> int:
    """Default replicates per chunk of :func:`simulate_coverage`: about
    :data:`CHUNK_OBJECTS` / ``objects``, between 1 and 256 (8 for 100,000 objects)."""
    return int(min(256, max(1, round(CHUNK_OBJECTS / max(objects, 1)))))


def chunks(replicates: int, chunk_size: int) -> Iterator[slice]:
    for start in range(0, replicates, max(1, chunk_size)):
        yield slice(start, min(replicates, start + max(1, chunk_size)))


def fill_rows(out: np.ndarray, generators: Sequence[np.random.Generator]) -> np.ndarray:
    """Fill row ``r`` of ``out`` with uniforms from ``generators[r]`` (fixed per-replicate order)."""
    for r, g in enumerate(generators):
        g.random(out=out[r])
    return out


class _NoBar:
    """Stand-in for a disabled progress bar (tqdm is not even imported)."""

    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def progress_bar(total: int, enabled: bool, desc: str):
    """A tqdm bar on standard error (disabled: a no-op bar)."""
    import sys

    if not enabled:
        return _NoBar()

    from tqdm.auto import tqdm

    return tqdm(total=total, disable=not enabled, desc=desc, file=sys.stderr, leave=False)


# --------------------------------------------------------------------------------------
# Coverage simulation (static register)
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CoverageResult:
    """Results of :func:`simulate_coverage` as tidy DataFrames.

    Attributes
    ----------
    coverage : DataFrame
        One row per replicate x year x group (unit, category, positive_list, credit_class):
        ``objects``, ``covered`` (inspected at least once in the year), ``inspections``.
    visits : DataFrame
        Distribution of inspections per object and year: ``category, inspections, objects``
        (summed over replicates and years), and ``share``.
    gaps : DataFrame
        Longest run of quarters without an inspection over the horizon, per replicate and
        category: ``mean_gap`` (quarters), ``share_gap_4plus`` (share of objects with a run of
        4 or more quarters).
    quotas : DataFrame
        One row per quarter x stratum: ``quota``, ``drawn_mean``, ``drawn_min``,
        ``attainment_min`` (drawn / quota, worst replicate).
    workload : DataFrame
        One row per replicate x year x quarter x unit: ``onsite``, ``offsite``,
        ``inspector_days``, ``capacity_days``.
    settings : dict
        Replicates, years, seed, overlap, between_levels.
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


def save_tables(result, names, directory, prefix: str) -> list:
    """Write the DataFrame attributes ``names`` of ``result`` as ``{prefix}-{name}.csv``
    (UTF-8) into ``directory``; returns the paths."""
    from pathlib import Path

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in names:
        path = directory / f"{prefix}-{name}.csv"
        getattr(result, name).to_csv(path, index=False)
        paths.append(path)
    return paths


#: A random block is sampled by rejection (first k distinct eligible of iid uniform positions)
#: when it needs at most this many draws per object; otherwise by random keys, one per object.
SPARSE_MAX_DRAWS = 1.0


def _draws_generous(k: int, n: int) -> int:
    """Iid draws for ``k`` distinct of ``n`` when the share excluded is not known in advance."""
    return int(np.ceil((k + 5 * np.sqrt(k) + 10) * (1 + 2 * k / n)))


def _draws_needed(k: int, n: int, n_out: float = 0.0, sd_out: float = 0.0) -> int | None:
    """Iid draws over ``n`` positions that hold ``k`` distinct eligible ones but rarely
    (mean + 4.5 sd of the sum of geometric waiting times), with ``n_out`` (sd ``sd_out``)
    positions excluded: counted as ``n_out + 4 sd_out``. None when that leaves fewer than
    ``k + 1`` eligible."""
    eligible = n - n_out - 4 * sd_out
    if eligible < k + 1:
        return None
    p = (eligible - np.arange(k)) / n
    mean = float((1 / p).sum())
    sd = float(np.sqrt(((1 - p) / p ** 2).sum()))
    return int(np.ceil(mean + 4.5 * sd + 5))


@dataclass(frozen=True)
class _BlockPlan:
    """Sparse blocks of one pass laid out in ``width`` columns of the random buffer.

    Column ``j`` draws a position in ``[start[j], start[j] + size[j])`` for block
    ``block[j]``; block ``i`` owns the contiguous columns ending (exclusive) at
    ``seg_end[i]`` (``k_draws[i]`` of them) and keeps ``k[i]`` distinct positions.
    """

    offset: int
    width: int
    start: np.ndarray
    size: np.ndarray
    k: np.ndarray
    block: np.ndarray
    seg_end: np.ndarray
    k_draws: np.ndarray
    stratum: np.ndarray
    spans: list
    cache: dict = field(default_factory=dict, compare=False)


def _sparse_plan(blocks: Sequence[tuple[int, int, int, int, int]], offset: int) -> _BlockPlan:
    """Plan of sparse blocks ``(stratum, start, width, k, draws)`` from column ``offset`` on."""
    m = np.array([x[4] for x in blocks])
    k = np.array([x[3] for x in blocks], dtype=np.int32)
    block = np.repeat(np.arange(len(blocks)), m)
    return _BlockPlan(offset=offset, width=int(m.sum()),
                      start=np.repeat([x[1] for x in blocks], m).astype(np.int64),
                      size=np.repeat([float(x[2]) for x in blocks], m), k=k,
                      block=block, seg_end=np.cumsum(m), k_draws=m, stratum=np.array([x[0] for x in blocks]),
                      spans=[(x[1], x[2], x[3]) for x in blocks])


def _sample_blocks(u: np.ndarray, plan: _BlockPlan, scratch: np.ndarray, base: np.ndarray,
                   exclude=None, blocked: Sequence[np.ndarray] = ()
                   ) -> tuple[np.ndarray, np.ndarray]:
    """First ``k`` distinct eligible positions of the iid draws of every sparse block.

    ``u`` (R x plan.width uniforms, overwritten) becomes flat positions ``floor(u * size) + base``
    (``base[r, j]``: the flat position of block start ``start[j]`` in row ``r``). Duplicates
    within a row are resolved by scattering each column's index into ``scratch`` at its
    position (the last write wins) and keeping the draw that reads its own index back: a
    rule that ignores position labels, so by symmetry the first ``k`` kept draws of a block
    (in column order) are a simple random sample of its eligible positions.
    ``exclude(flat)`` marks positions that may not be drawn, and so do the flat positions in
    ``blocked`` (cheaper when few: they are overwritten in ``scratch``). A block of a row that
    kept fewer than ``k`` is *short*: none of its draws are returned.

    Returns
    -------
    flat : ndarray of int64
        Flat positions of the selected draws (ordered by row).
    short : ndarray of bool, shape (R, blocks)
    """
    R, M = u.shape
    np.multiply(u, plan.size, out=u)
    flat = u.astype(np.int64)
    flat += base
    j = np.arange(M, dtype=scratch.dtype)
    scratch[flat] = j
    for b in blocked:
        scratch[b] = -1
    valid = scratch[flat] == j
    if exclude is not None:
        valid &= ~exclude(flat)
    kept = np.flatnonzero(valid)  # row-major: by row, block, column
    if R not in plan.cache:
        plan.cache[R] = (np.tile(plan.k, R), np.tile(np.concatenate(
            [np.arange(k) for k in plan.k]), R), np.append(
            (plan.seg_end - plan.k_draws + (np.arange(R) * M)[:, None]).reshape(-1), R * M))
    k_rep, offsets, bounds = plan.cache[R]
    first = np.searchsorted(kept, bounds)  # first kept draw of each (row, block); the end
    short = (first[1:] - first[:-1]) < k_rep
    first = first[:-1]
    take = np.repeat(first, k_rep)
    take += offsets
    if short.any():
        take = take[~np.repeat(short, k_rep)]
    return flat.reshape(-1)[kept[take]], short.reshape(R, len(plan.k))


@dataclass(frozen=True)
class _DensePlan:
    """Dense blocks of one pass: ``width`` random keys, one per object of ``cols``."""

    offset: int
    width: int
    cols: np.ndarray
    shift: np.ndarray  # 8 x block of each column
    block: np.ndarray
    seg_start: np.ndarray
    sizes: np.ndarray
    kth: np.ndarray
    k: np.ndarray
    stratum: np.ndarray


def _dense_plan(blocks: Sequence[tuple[int, int, int, int]], offset: int) -> _DensePlan:
    """Plan of dense blocks ``(stratum, start, width, k)`` from column ``offset`` on."""
    sizes = np.array([x[2] for x in blocks])
    seg_start = np.cumsum(sizes) - sizes
    k = np.array([x[3] for x in blocks])
    block = np.repeat(np.arange(len(blocks)), sizes)
    return _DensePlan(offset=offset, width=int(sizes.sum()),
                      cols=np.concatenate([np.arange(a, a + w) for (_, a, w, _) in blocks]),
                      shift=8.0 * block, block=block, seg_start=seg_start, sizes=sizes,
                      kth=seg_start + k - 1, k=k, stratum=np.array([x[0] for x in blocks]))


def _select_dense_blocks(kb: np.ndarray, plan: _DensePlan, seen: np.ndarray | None,
                         out: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` smallest random keys of every dense block, all blocks of a row at once.

    Keys ``kb`` (R x plan.width, in ``[0, 1)``; modified) are shifted by 8 x block, by 1 for
    objects ``seen`` this year (rotation: they come last) and by 4 where ``out`` (not
    selectable); one sort per row puts every block in its own column range, so the
    ``k``-th smallest of a block sits at ``seg_start + k - 1``.

    Returns
    -------
    pos : ndarray of int64
        Flat positions in ``kb`` of the selected keys, ordered by row.
    k_eff : ndarray, shape (R, blocks) or (blocks,)
        Objects selected per row and block (``k``, or all selectable ones if fewer).
    """
    kb += plan.shift
    if seen is not None:
        kb += seen
    k_eff = plan.k
    if out is not None:
        kb += out * 4.0
        n_out = np.add.reduceat(out, plan.seg_start, axis=1, dtype=np.int64)
        k_eff = np.minimum(plan.k, plan.sizes - n_out)
    thr = np.sort(kb, axis=1)[:, plan.kth]
    sel = kb <= thr[:, plan.block]
    if out is not None:
        sel &= ~out
    return np.flatnonzero(sel), k_eff


def sample_distinct(generators: Sequence[np.random.Generator], n: int, k: int,
                    excluded=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Simple random samples of ``k`` of ``n`` positions, one per generator (row).

    Each row draws iid uniform positions in ``[0, n)`` (one ``Generator.random`` call) and
    keeps ``k`` distinct ones not ``excluded`` (a function of row and position arrays
    returning a bool array) with the rule of the coverage engine (:func:`_sample_blocks`):
    a uniformly random ``k``-subset of the eligible positions. Rows whose draws held fewer
    than ``k`` (rare, or when few positions are eligible) are returned in ``short`` for the
    caller to draw otherwise.

    Returns
    -------
    rows, cols, short : ndarray of int64
    """
    R = len(generators)
    if k <= 0 or n <= 0:
        e = np.empty(0, np.int64)
        return e, e, e
    m = _draws_generous(k, n)
    u = fill_rows(np.empty((R, m)), generators)
    plan = _sparse_plan([(0, 0, n, k, m)], 0)
    base = np.broadcast_to((np.arange(R, dtype=np.int64) * n)[:, None], (R, m))
    exclude = None
    if excluded is not None:
        def exclude(flat):
            return np.asarray(excluded(flat // n, flat % n), dtype=bool)
    flat, short = _sample_blocks(u, plan, np.empty(R * n, dtype=np.int32), base, exclude)
    rows = flat // n
    return rows, flat - rows * n, np.flatnonzero(short[:, 0]).astype(np.int64)


def inspectors_by_unit(inspectors: pd.DataFrame | None, policy: Policy,
                       scale: float = 1.0) -> dict[str, int]:
    """Active, certified inspectors per unit (x ``scale``, rounded)."""
    out = {}
    for u in policy.units:
        n = 0
        if inspectors is not None and len(inspectors):
            n = int(((inspectors["unit"] == u.id) & inspectors["active"]
                     & inspectors["certified"]).sum())
        out[u.id] = int(round(n * scale))
    return out


def _group_index(arrays: RegisterArrays) -> tuple[np.ndarray, pd.DataFrame]:
    code = ((arrays.unit.astype(np.int64) * 3 + arrays.category) * 2 + arrays.positive) * 4 \
        + arrays.credit
    present, gid = np.unique(code, return_inverse=True)
    credit = present % 4
    pos = (present // 4) % 2
    cat = (present // 8) % 3
    unit = present // 24
    groups = pd.DataFrame({
        "unit": np.array(arrays.units)[unit], "category": np.array(CATEGORIES)[cat],
        "positive_list": pos.astype(bool), "credit_class": np.array(CREDIT_CLASSES)[credit],
        "objects": np.bincount(gid, minlength=len(present)),
    })
    return gid, groups


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
        Replicates processed together (memory ~ 20 bytes x chunk x objects; default
        :func:`default_chunk_size`); does not change the results.
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
    strata = build_strata(policy)
    arrays0 = RegisterArrays.from_frame(classified, policy)
    sid0 = stratum_ids(strata, arrays0)  # (passes, N)
    # Order objects so that every stratum of every pass is a contiguous block.
    # Primary key category (so categories are column ranges too), then the strata of each
    # pass, then the reporting group (so groups form few runs).
    # Within a category, objects in a random stratum come first, then those only checked
    # off-site in full, then the rest, so the key arrays cover few unused columns.
    gid0, groups = _group_index(arrays0)
    is_random = (strata.table["method"] == "random").to_numpy()
    in_random = np.zeros(arrays0.n, dtype=bool)
    in_fixed = np.zeros(arrays0.n, dtype=bool)
    for p in range(strata.n_passes):
        ok = sid0[p] >= 0
        in_random[ok] |= is_random[sid0[p][ok]]
        in_fixed[ok] |= ~is_random[sid0[p][ok]]
    kind = np.where(in_random, 0, np.where(in_fixed, 1, 2))
    order = np.lexsort((gid0, *(sid0[p] for p in reversed(strata.coarse_first)),
                        kind, arrays0.category))
    arrays = arrays0.take(order)
    sid = sid0[:, order]
    N = arrays.n
    n_strata = strata.n

    members = np.zeros(n_strata)
    offsite_members = np.zeros(n_strata)
    for p in range(strata.n_passes):
        ok = sid[p] >= 0
        members += np.bincount(sid[p][ok], minlength=n_strata)
        offsite_members += np.bincount(sid[p][ok], weights=arrays.offsite[ok], minlength=n_strata)
    if inspectors is None and any(r.basis == "per_inspector" for r in policy.quotas.rules):
        quota = static_quotas(classified, policy, strata, inspectors)  # raises: no register
    else:  # the arithmetic of quarterly_quotas on the stratum populations (tested equal)
        quota = dynamic_quotas(strata, members[None, :], policy,
                               inspectors_by_unit(inspectors, policy))[0]
    offsite_share = np.divide(offsite_members, members, out=np.zeros(n_strata), where=members > 0)
    costs = stratum_costs(strata, offsite_share, budget, policy.methods.offsite_first)
    staff = inspectors_by_unit(inspectors, policy, budget.inspector_scale)
    capacity = {u: staff[u] * budget.days_per_inspector_per_quarter for u in staff}
    if budget.enforce:
        quota, _ = apply_budget(quota, strata, costs, capacity)

    blocks = []  # (pass, stratum, start, stop, method)
    for s, row in strata.table.iterrows():
        p = int(row["pass_"])
        cols = np.flatnonzero(sid[p] == s)
        if len(cols) == 0:
            continue
        a, b = int(cols[0]), int(cols[-1]) + 1
        if b - a != len(cols):  # pragma: no cover - lexsort makes blocks contiguous
            raise AssertionError("stratum columns are not contiguous")
        blocks.append((p, s, a, b, row["method"]))
    unit_of_stratum = strata.table["unit"].map({u: i for i, u in enumerate(arrays.units)}
                                               ).to_numpy()
    offsite_first = policy.methods.offsite_first
    off_flat_cols = arrays.offsite
    overlap = policy.draw.overlap
    cap = policy.draw.yearly_cap
    avoid = policy.draw.between_levels == "avoid"
    dedupe = not avoid  # with "avoid" no object can be drawn twice in a quarter
    # Objects fully checked off-site that a random draw of another pass could also reach.
    fixed_s = (strata.table["method"] != "random").to_numpy()
    in_fixed = np.zeros(N, dtype=bool)
    passes_random = np.zeros(N, dtype=np.int64)
    for p in range(strata.n_passes):
        ok = sid[p] >= 0
        in_fixed[ok] |= fixed_s[sid[p][ok]]
        passes_random[ok] += ~fixed_s[sid[p][ok]]
    need_iq = dedupe or bool((in_fixed & (passes_random > 0)).any())

    gid = gid0[order]  # the groups of the reordered objects (same group table)
    G = len(groups)
    run_start = np.flatnonzero(np.r_[True, gid[1:] != gid[:-1]])
    run_group = gid[run_start]
    run_to_group = np.zeros((len(run_start), G))
    run_to_group[np.arange(len(run_start)), run_group] = 1.0
    cat_range = {}
    for cat in range(3):
        cols = np.flatnonzero(arrays.category == cat)
        if len(cols):
            cat_range[cat] = (int(cols[0]), int(cols[-1]) + 1)
    n_units = len(arrays.units)
    T = 4 * years

    seeds = replicate_seeds(seed, replicates)
    cov_covered = np.zeros((replicates, years, G))
    cov_insp = np.zeros((replicates, years, G))
    max_visits = 8
    visit_hist = np.zeros((3, max_visits + 1), dtype=np.int64)  # category x inspections (capped)
    gap_sum = np.zeros((replicates, 3))
    gap_4 = np.zeros((replicates, 3))
    drawn = np.zeros((replicates, T, n_strata), dtype=np.int64)
    work = np.zeros((replicates, T, n_units, 2), dtype=np.int64)  # onsite, offsite
    cat_counts = np.bincount(arrays.category, minlength=3)

    # Random numbers: each replicate fills one row of ``U`` per quarter with a single
    # ``Generator.random`` call. The row is laid out once: per pass, the iid draws of all
    # sparse blocks (``_draws_needed`` each), then the keys of the dense blocks (one per
    # object). A sparse block short of distinct eligible draws (rare) draws random keys for
    # the whole block from the replicate's stream after the quarter's row.
    # Objects an earlier pass may draw this quarter are excluded ("avoid"): their expected
    # number (and its sd) sizes the iid draws of a sparse block.
    draw_rate = np.divide(quota, members, out=np.zeros(n_strata), where=members > 0)
    draw_rate[fixed_s] = 0.0

    def expected_out(p: int, a: int, b: int) -> tuple[float, float]:
        if not avoid or p == 0:
            return 0.0, 0.0
        prob = np.zeros(b - a)
        for q in range(p):
            s_q = sid[q][a:b]
            prob += np.where(s_q >= 0, draw_rate[np.maximum(s_q, 0)], 0.0)
        prob = np.minimum(prob, 1.0)
        return float(prob.sum()), float(np.sqrt((prob * (1 - prob)).sum()))

    layout = []  # per pass: (sparse plan, dense plan, full blocks [(s, a, b)], work code)
    width_total = 0
    for p in range(strata.n_passes):
        sp, dense, full = [], [], []
        for (pp, s, a, b, method) in blocks:
            if pp != p:
                continue
            if method == "offsite_full":
                full.append((s, a, b))
                continue
            k, w = int(quota[s]), b - a
            if k <= 0:
                continue
            m = None
            if overlap == "yearly_cap":
                m = _draws_generous(k, w)
            elif overlap == "independent":
                m = _draws_needed(k, w, *expected_out(p, a, b))
            if m is not None and m <= SPARSE_MAX_DRAWS * w:
                sp.append((s, a, w, k, m))
            else:
                dense.append((s, a, w, min(k, w)))
        plan = dplan = None
        if sp:
            plan = _sparse_plan(sp, width_total)
            width_total += plan.width
        if dense:
            dplan = _dense_plan(dense, width_total)
            width_total += dplan.width
        wcode = np.where(sid[p] >= 0, unit_of_stratum[np.maximum(sid[p], 0)] * 2, 0)
        if offsite_first:
            wcode = wcode + off_flat_cols
        layout.append((plan, dplan, full, wcode.astype(np.int64)))
    full_blocks = [(a, b) for (_, _, full, _) in layout for (_, a, b) in full]
    mark_passes = avoid and strata.n_passes > 1
    last_random_pass = max([p for p, (plan, dplan, _, _) in enumerate(layout) if plan or dplan],
                           default=-1)

    bar = progress_bar(replicates * T, progress, "simulate coverage")
    if chunk_size is None:
        chunk_size = default_chunk_size(N)
    R_max = min(max(1, chunk_size), replicates)
    U_all = np.empty((R_max, width_total))
    biggest = max([lay[0].width for lay in layout if lay[0] is not None], default=0)
    scratch = np.empty(R_max * N, dtype=np.int16 if biggest < 2 ** 15 else np.int32)
    # Per pass, computed once for the largest chunk (a smaller last chunk uses a prefix):
    # flat positions of the sparse blocks' starts and of the dense keys, and the work code
    # (row, unit, off-site) of every flat position.
    row_base = (np.arange(R_max, dtype=np.int64) * N)[:, None]
    bases_all = [None if lay[0] is None else lay[0].start + row_base for lay in layout]
    dense_flat_all = [None if lay[1] is None else lay[1].cols + row_base for lay in layout]
    wdtype = np.int8 if R_max * 2 * n_units <= 127 else np.int32
    wcodes = [(lay[3] + (np.arange(R_max) * (2 * n_units))[:, None]).reshape(-1)
              .astype(wdtype) for lay in layout]
    # Per-object state, allocated once; count_year, inspected_q and mark are all zero again
    # at the end of every year / quarter, last and maxgap are zeroed for every chunk.
    state = (np.zeros((R_max, N), dtype=np.uint8),  # checks this year
             np.empty((R_max, N), dtype=np.uint8),  # quarter of the last check + 1 (0: never)
             np.empty((R_max, N), dtype=np.uint8),  # longest run without a check
             np.zeros((R_max, N), dtype=bool),  # checked this quarter (when needed)
             np.zeros((R_max, N), dtype=bool))  # drawn at random by an earlier pass this quarter
    for sl in chunks(replicates, chunk_size):
        gens = [np.random.Generator(np.random.PCG64(s)) for s in seeds[sl]]
        R = len(gens)
        U = U_all[:R]
        bases = [None if x is None else x[:R] for x in bases_all]
        dense_flat = [None if x is None else x[:R].reshape(-1) for x in dense_flat_all]
        count_year, last, maxgap, inspected_q, mark = (x[:R] for x in state)
        last[:] = 0
        maxgap[:] = 0
        iq_flat, cy_flat = inspected_q.reshape(-1), count_year.reshape(-1)
        last_flat, mg_flat = last.reshape(-1), maxgap.reshape(-1)
        mark_flat = mark.reshape(-1)
        for year in range(years):
            for qi in range(4):
                t = 4 * year + qi
                if width_total:
                    for rr, g in enumerate(gens):
                        g.random(out=U[rr])
                fresh_flat = []
                marked = []
                for p, (plan, dplan, full, _) in enumerate(layout):
                    for (s, a, b) in full:
                        # Every object of the block is checked off-site: slice updates.
                        u = unit_of_stratum[s]
                        drawn[sl, t, s] = b - a
                        if need_iq:
                            lb = last[:, a:b]
                            fresh = ~inspected_q[:, a:b]
                            work[sl, t, u, 1] += fresh.sum(axis=1)
                            count_year[:, a:b] += fresh
                            np.maximum(maxgap[:, a:b], np.where(fresh, t - lb, 0),
                                       out=maxgap[:, a:b])
                            np.copyto(lb, t + 1, where=fresh)
                            inspected_q[:, a:b] = True
                        else:  # nothing else reaches these objects: all checked every
                            # quarter (their counts and gaps are set at the end of the year)
                            work[sl, t, u, 1] += b - a
                    if plan is None and dplan is None:
                        continue
                    use_mark = mark_passes and p > 0 and bool(marked)
                    sel_flat = []
                    if plan is not None:
                        exclude = None
                        if overlap == "yearly_cap":
                            def exclude(flat, cy_flat=cy_flat):
                                return cy_flat[flat] >= cap
                        f, short = _sample_blocks(
                            U[:, plan.offset:plan.offset + plan.width], plan, scratch,
                            bases[p], exclude, marked if use_mark else ())
                        sel_flat.append(f)
                        drawn[sl, t, plan.stratum] = np.where(short, 0, plan.k)
                        if short.any():  # rare: random keys over the whole block
                            for bi, rr in zip(*np.nonzero(short.T), strict=True):
                                a, w, k = plan.spans[bi]
                                kb = gens[rr].random(w)[None, :]
                                out = np.zeros((1, w), dtype=bool)
                                if overlap == "yearly_cap":
                                    out |= count_year[rr:rr + 1, a:a + w] >= cap
                                if use_mark:
                                    out |= mark[rr:rr + 1, a:a + w]
                                kb[out] = np.inf
                                _, c2 = smallest_k(kb, k, w - out.sum(axis=1))
                                sel_flat.append(rr * N + a + c2)
                                drawn[sl.start + rr, t, plan.stratum[bi]] = len(c2)
                    if dplan is not None:
                        cols = dplan.cols
                        seen = out = None
                        if overlap == "rotation":
                            seen = count_year[:, cols] > 0
                        if overlap == "yearly_cap":
                            out = count_year[:, cols] >= cap
                        if use_mark:
                            out = mark[:, cols] if out is None else out | mark[:, cols]
                        pos, k_eff = _select_dense_blocks(
                            U[:, dplan.offset:dplan.offset + dplan.width], dplan, seen, out)
                        sel_flat.append(dense_flat[p][pos])
                        drawn[sl, t, dplan.stratum] = k_eff
                    flat = np.concatenate(sel_flat) if len(sel_flat) > 1 else sel_flat[0]
                    if dedupe:
                        flat = flat[~iq_flat[flat]]
                    if need_iq:
                        iq_flat[flat] = True
                    work[sl, t] += np.bincount(wcodes[p][flat], minlength=R * n_units * 2
                                               ).reshape(R, n_units, 2)
                    fresh_flat.append(flat)
                    if mark_passes and p < last_random_pass:
                        mark_flat[flat] = True
                        marked.append(flat)
                f = np.concatenate(fresh_flat) if fresh_flat else np.empty(0, np.int64)
                cy_flat[f] += 1
                g = t - last_flat[f]
                np.maximum(g, mg_flat[f], out=g)
                mg_flat[f] = g
                last_flat[f] = t + 1
                for m_ in marked:
                    mark_flat[m_] = False
                if need_iq:
                    iq_flat[f] = False
                    for (a, b) in full_blocks:
                        inspected_q[:, a:b] = False
                bar.update(R)
            if not need_iq:
                for (a, b) in full_blocks:
                    count_year[:, a:b] += 4
            runs = np.add.reduceat((count_year > 0).view(np.uint8), run_start, axis=1,
                                   dtype=np.int32)
            cov_covered[sl, year] = runs @ run_to_group
            runs = np.add.reduceat(count_year, run_start, axis=1, dtype=np.int32)
            cov_insp[sl, year] = runs @ run_to_group
            for cat, (a, b) in cat_range.items():
                block = count_year[:, a:b]
                top = int(block.max())
                n_v = [int(np.count_nonzero(block == v)) for v in range(1, min(top, max_visits))]
                n_v.insert(0, block.size - int(np.count_nonzero(block)))
                if top < max_visits:  # the top value: the rest
                    n_v.append(block.size - sum(n_v))
                visit_hist[cat, :len(n_v)] += n_v
                visit_hist[cat, max_visits] += block.size - sum(n_v)
            count_year[:] = 0
        if not need_iq:  # checked every quarter: last check in the last quarter, no gap
            for (a, b) in full_blocks:
                last[:, a:b] = T
        np.maximum(maxgap, T - last, out=maxgap)
        for cat, (a, b) in cat_range.items():
            gap_sum[sl, cat] = maxgap[:, a:b].sum(axis=1, dtype=np.uint32) / (b - a)
            gap_4[sl, cat] = (maxgap[:, a:b] >= 4).view(np.uint8).sum(axis=1, dtype=np.uint32
                                                                       ) / (b - a)
    bar.close()

    # Tidy tables
    rep = np.repeat(np.arange(replicates), years * G)
    yr = np.tile(np.repeat(np.arange(1, years + 1), G), replicates)
    coverage = pd.concat([groups.iloc[np.tile(np.arange(G), replicates * years)]
                          .reset_index(drop=True)], axis=1)
    coverage.insert(0, "year", yr)
    coverage.insert(0, "replicate", rep)
    coverage["covered"] = cov_covered.reshape(-1).round().astype(np.int64)
    coverage["inspections"] = cov_insp.reshape(-1).round().astype(np.int64)

    vrows = []
    for cat in range(3):
        total = visit_hist[cat].sum()
        for v in range(max_visits + 1):
            vrows.append(dict(category=CATEGORIES[cat],
                              inspections=f"{v}+" if v == max_visits else str(v),
                              objects=int(visit_hist[cat, v]),
                              share=float(visit_hist[cat, v] / total) if total else 0.0))
    visits = pd.DataFrame(vrows)
    visits = visits[visits.groupby("category")["objects"].transform("sum") > 0]

    gaps = pd.DataFrame({
        "replicate": np.repeat(np.arange(replicates), 3),
        "category": np.tile(CATEGORIES, replicates),
        "objects": np.tile(cat_counts, replicates),
        "mean_gap": gap_sum.reshape(-1), "share_gap_4plus": gap_4.reshape(-1)})
    gaps = gaps[gaps["objects"] > 0].reset_index(drop=True)

    tt = np.repeat(np.arange(T), n_strata)
    ss = np.tile(np.arange(n_strata), T)
    q = quota.astype(np.int64)[ss]
    d_min = drawn.min(axis=0).reshape(-1)
    quotas_df = pd.DataFrame({
        "year": tt // 4 + 1, "quarter": tt % 4 + 1, "stratum": ss,
        "unit": strata.table["unit"].to_numpy()[ss],
        "quota_rule": strata.table["quota_rule"].to_numpy()[ss],
        "credit_class": strata.table["credit_class"].to_numpy()[ss],
        "method": strata.table["method"].to_numpy()[ss],
        "population": members.astype(np.int64)[ss], "quota": q,
        "drawn_mean": drawn.mean(axis=0).reshape(-1), "drawn_min": d_min,
        "attainment_min": np.divide(d_min, q, out=np.ones(len(q)), where=q > 0)})

    idx = pd.MultiIndex.from_product([range(replicates), range(T), arrays.units],
                                     names=["replicate", "t", "unit"])
    workload = pd.DataFrame({"onsite": work[..., 0].reshape(-1),
                             "offsite": work[..., 1].reshape(-1)}, index=idx).reset_index()
    workload.insert(1, "year", workload["t"] // 4 + 1)
    workload.insert(2, "quarter", workload["t"] % 4 + 1)
    workload = workload.drop(columns="t")
    workload["inspector_days"] = (workload["onsite"] * budget.onsite_inspector_days
                                  + workload["offsite"] * budget.offsite_inspector_days)
    workload["capacity_days"] = workload["unit"].map(capacity).astype(float)
    settings = dict(replicates=replicates, years=years, seed=seed, overlap=overlap,
                    between_levels=policy.draw.between_levels, objects=N)
    return CoverageResult(coverage=coverage, visits=visits.reset_index(drop=True), gaps=gaps,
                          quotas=quotas_df, workload=workload, settings=settings)


# --------------------------------------------------------------------------------------
# Summaries
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
    out = g.groupby(by, sort=False).agg(
        objects=("objects", "first"), coverage=("coverage", "mean"),
        coverage_p05=("coverage", lambda x: x.quantile(0.05)),
        coverage_p95=("coverage", lambda x: x.quantile(0.95)),
        inspections_per_object=("inspections_per_object", "mean")).reset_index()
    return out


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
    """Yearly coverage of independent quarterly SRS: ``1 - (1 - n/N)^quarters``."""
    from .deterrence import yearly_coverage

    return yearly_coverage(quota, population, quarters)


def closed_form_check(result: CoverageResult, classified: pd.DataFrame, policy: Policy,
                      inspectors: pd.DataFrame | None = None) -> pd.DataFrame:
    """Simulated yearly coverage of the strata only one draw reaches, against the closed
    form: ``1 - (1 - n/N)^4`` for independent draws, ``min(1, 4n/N)`` for rotation.

    Returns one row per such random stratum: ``unit, quota_rule, credit_class, population,
    quota, closed_form, simulated, se`` (binomial standard error of the simulated share
    over replicates and years) and ``z`` = (simulated - closed_form) / se. Empty for the
    yearly cap (no closed form).
    """
    from .deterrence import rotation_coverage, yearly_coverage

    strata = build_strata(policy)
    arrays = RegisterArrays.from_frame(classified, policy)
    sid = stratum_ids(strata, arrays)
    quota = static_quotas(classified, policy, strata, inspectors)
    form = {"independent": yearly_coverage, "rotation": rotation_coverage}.get(
        policy.draw.overlap)
    cov = result.coverage.groupby(GROUP_COLUMNS)[["objects", "covered"]].sum()
    runs = result.settings["replicates"] * result.settings["years"]
    rows = []
    for s, row in strata.table.iterrows():
        if row["method"] != "random" or form is None:
            continue
        p = int(row["pass_"])
        members = sid[p] == s
        if not members.any() or any((sid[q][members] >= 0).any()
                                    for q in range(strata.n_passes) if q != p):
            continue
        groups = pd.MultiIndex.from_arrays(
            [np.array(arrays.units)[arrays.unit[members]],
             np.array(CATEGORIES)[arrays.category[members]], arrays.positive[members],
             np.array(CREDIT_CLASSES)[arrays.credit[members]]]).unique()
        sub = cov.loc[groups]
        n = int(members.sum())
        closed = float(form(quota[s], n))
        simulated = float(sub["covered"].sum() / sub["objects"].sum())
        se = float(np.sqrt(max(closed * (1 - closed), 1e-12) / (n * runs)))
        rows.append(dict(unit=row["unit"], quota_rule=row["quota_rule"],
                         credit_class=row["credit_class"], population=n, quota=int(quota[s]),
                         closed_form=closed, simulated=simulated, se=se,
                         z=(simulated - closed) / se if se > 1e-9 else 0.0))
    return pd.DataFrame(rows, columns=["unit", "quota_rule", "credit_class", "population",
                                       "quota", "closed_form", "simulated", "se", "z"])
