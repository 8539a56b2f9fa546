"""Shared pieces of the simulation engines (coverage and deterrence), R3, R4.

Both engines draw as the official draw does: a drawing stratum is one unit x one quota rule
(:mod:`dsr_analysis.quotas`), its quota comes from the quota arithmetic of
:mod:`dsr_analysis.quotas`, every eligible object gets the inclusion probability ``lambda``
of its credit class (:func:`dsr_analysis.quotas.inclusion_probabilities`, computed on the
objects eligible at draw time) and the quota is filled by the smallest Pareto ranking keys
(:func:`dsr_analysis.quotas.pareto_keys`, ranked with
:func:`dsr_analysis.overlap.ranking_keys` under rotation). Drawing order and overlap rules
come from :mod:`dsr_analysis.overlap`; the uniforms come from each replicate's own
``numpy`` stream (SPEC 7), not from SHA-256 tickets.

This module holds what both engines need: the register as integer arrays, the strata and
their lookup, quotas (static and per replicate), budget cuts, the general selection kernel
and the replicate streams.
"""

from __future__ import annotations

import dataclasses
import functools
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import PolicyError
from ..i18n import _
from ..export import write_csv
from ..overlap import LEVEL_CODE, LEVELS, OverlapRules, ranking_keys
from ..policy import CATEGORIES, CREDIT_CLASSES, Policy
from . import kernels
from ..quotas import (
    active_inspectors,
    class_bases,
    inclusion_probabilities,
    pareto_keys,
    quarterly_quotas,
    stratum_label,
    stratum_quota,
    unit_rules,
)

CATEGORY_CODE = {c: i for i, c in enumerate(CATEGORIES)}  # special 0, key 1, general 2
CREDIT_CODE = {c: i for i, c in enumerate(CREDIT_CLASSES)}  # A 0 ... D 3
N_CLASSES = len(CREDIT_CLASSES)
N_STATES = len(CATEGORIES) * 2 * N_CLASSES  # category x positive list x credit class


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
            raise PolicyError(_("{file}: register units {bad} are not units of the policy "
                                "({units})").format(file=policy.path, bad=bad,
                                                    units=", ".join(units)))
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
    """Drawing strata of a policy (unit x quota rule) and the lookup from an object's state.

    A *pass* is one level in drawing order (:data:`dsr_analysis.overlap.LEVELS`: the
    counties first, then the area level); the strata of one pass are disjoint.

    Attributes
    ----------
    table : DataFrame
        One row per stratum, in drawing order: ``stratum, pass_, unit, unit_name, level,
        draws_from, quota_rule, label, category, subset, method, credit_weighted``.
    lookup : ndarray of int16, shape (passes, units, N_STATES)
        Stratum id of an object of unit ``u`` in state ``code`` in each pass (-1: none).
    bases : ndarray, shape (strata, 4)
        Relative inclusion weight per credit class (:func:`dsr_analysis.quotas.class_bases`).
    """

    table: pd.DataFrame
    lookup: np.ndarray
    bases: np.ndarray

    @property
    def n_passes(self) -> int:
        return self.lookup.shape[0]

    @property
    def n(self) -> int:
        return len(self.table)

    @functools.cached_property
    def random(self) -> np.ndarray:
        """Bool per stratum: drawn at random (not full off-site coverage)."""
        return (self.table["method"] == "random").to_numpy()


def _state_members(rule) -> list[int]:
    """State codes (:func:`state_code`) in a rule's category and subset."""
    out = []
    for code in range(N_STATES):
        cat, pos = code // 8, (code // 4) % 2
        if CATEGORIES[cat] != rule.category:
            continue
        if (rule.subset == "positive_list" and not pos) or (
                rule.subset == "not_positive_list" and pos):
            continue
        out.append(code)
    return out


def build_strata(policy: Policy) -> Strata:
    """Strata of ``policy``: one per drawing unit x quota rule, in drawing order."""
    units = list(policy.units)
    unit_index = {u.id: i for i, u in enumerate(units)}
    lookup = np.full((len(LEVELS), len(units), N_STATES), -1, dtype=np.int16)
    rows, bases = [], []
    for unit in sorted(units, key=lambda u: LEVEL_CODE[u.level]):  # overlap.drawing_order
        p = LEVEL_CODE[unit.level]
        covered = range(len(units)) if unit.draws_from == "all" else [unit_index[unit.id]]
        for rule in unit_rules(policy, unit.id):
            sid = len(rows)
            rows.append(dict(stratum=sid, pass_=p, unit=unit.id, unit_name=unit.name,
                             level=unit.level, draws_from=unit.draws_from, quota_rule=rule.id,
                             label=stratum_label(rule), category=rule.category,
                             subset=rule.subset, method=rule.method,
                             credit_weighted=bool(rule.credit_weighted)))
            bases.append(class_bases(policy, rule))
            for code in _state_members(rule):
                for fu in covered:
                    if lookup[p, fu, code] >= 0:
                        raise PolicyError(_("{file}: quota rule {rule} of unit {unit} overlaps "
                                            "another rule of the same level").format(
                            file=policy.path, rule=rule.id, unit=unit.id))
                    lookup[p, fu, code] = sid
    return Strata(table=pd.DataFrame(rows), lookup=lookup,
                  bases=np.array(bases, dtype=float).reshape(-1, N_CLASSES))


def stratum_ids(strata: Strata, arrays: RegisterArrays, code: np.ndarray | None = None,
                ) -> np.ndarray:
    """Stratum of every object in every pass, shape (passes, ..., objects) (-1: none)."""
    if code is None:
        code = state_code(arrays.category, arrays.positive, arrays.credit)
    if code.ndim == 1:
        return strata.lookup[:, arrays.unit, code]
    return np.stack([strata.lookup[p][arrays.unit[None, :], code]
                     for p in range(strata.n_passes)])


def quota_table(classified: pd.DataFrame, policy: Policy, strata: Strata,
                inspectors: pd.DataFrame | None = None, table: pd.DataFrame | None = None
                ) -> pd.DataFrame:
    """:func:`dsr_analysis.quotas.quarterly_quotas` (first quarter) in the order of
    ``strata.table`` (one row per stratum); ``table``: that quota table if already made."""
    if table is None:
        table = quarterly_quotas(classified, policy, f"{policy.year}Q1", inspectors)
    merged = strata.table[["unit", "quota_rule"]].merge(
        table, on=["unit", "quota_rule"], how="left", validate="one_to_one")
    return merged


def static_quotas(classified: pd.DataFrame, policy: Policy, strata: Strata,
                  inspectors: pd.DataFrame | None = None) -> np.ndarray:
    """Quota of each stratum from :func:`dsr_analysis.quotas.quarterly_quotas`."""
    return quota_table(classified, policy, strata, inspectors)["quota"].fillna(0).to_numpy(
        np.int64)


def class_counts(sid: np.ndarray, credit: np.ndarray, n_strata: int,
                 mask: np.ndarray | None = None, weights: np.ndarray | None = None
                 ) -> np.ndarray:
    """Objects per stratum and credit class, per row: shape (rows, strata, 4).

    ``sid`` and ``credit`` are (rows, objects) (``sid`` -1: in no stratum); ``mask`` keeps
    only some objects (e.g. the eligible ones), ``weights`` counts a value per object.
    """
    R = sid.shape[0]
    if weights is None:  # compiled count (the same integers as the bincount below)
        counts = np.zeros((R, n_strata, N_CLASSES), dtype=np.int64)
        kernels.stratum_class_counts(
            sid, np.broadcast_to(credit, sid.shape),
            _NO_MASK if mask is None else np.broadcast_to(mask, sid.shape), mask is not None,
            n_strata, N_CLASSES, counts)
        return counts
    keep = sid >= 0 if mask is None else (sid >= 0) & mask
    rows = np.broadcast_to(np.arange(R)[:, None], sid.shape)
    code = (rows * n_strata + sid) * N_CLASSES + np.broadcast_to(credit, sid.shape)
    w = np.broadcast_to(weights, sid.shape)[keep]
    counts = np.bincount(code[keep], weights=w, minlength=R * n_strata * N_CLASSES)
    return counts.reshape(R, n_strata, N_CLASSES)


_NO_MASK = np.zeros((1, 1), dtype=bool)


def dynamic_quotas(strata: Strata, counts: np.ndarray, policy: Policy,
                   inspectors_by_unit: Mapping[str, int] | None = None) -> np.ndarray:
    """Quota per row and stratum from class counts (rows, strata, 4), with
    :func:`dsr_analysis.quotas.stratum_quota` itself (cached by counts)."""
    counts = np.asarray(counts, dtype=np.int64)
    rules = {r.id: r for r in policy.quotas.rules}
    staff = inspectors_by_unit or {}
    cache: dict[tuple, int] = {}
    out = np.zeros(counts.shape[:2], dtype=np.int64)
    table = strata.table
    for s, (unit, rule_id) in enumerate(zip(table["unit"], table["quota_rule"], strict=True)):
        rule = rules[rule_id]
        for r in range(counts.shape[0]):
            key = (s, *counts[r, s].tolist())
            if key not in cache:
                cache[key] = stratum_quota(rule, policy, key[1:], staff.get(unit, 0))[0]
            out[r, s] = cache[key]
    return out


def inspectors_by_unit(inspectors: pd.DataFrame | None, policy: Policy,
                       scale: float = 1.0) -> dict[str, int]:
    """Active, certified inspectors per unit (x ``scale``, rounded): the counts of
    :func:`dsr_analysis.quotas.active_inspectors`, in one pass over the register."""
    ok = active_inspectors(inspectors)
    counts = ok["unit"].value_counts() if len(ok) else pd.Series(dtype=np.int64)
    return {u.id: int(round(int(counts.get(u.id, 0)) * scale)) for u in policy.units}


# --------------------------------------------------------------------------------------
# Inclusion probabilities, costs and the budget
# --------------------------------------------------------------------------------------
def offsite_share(lam: np.ndarray, counts: np.ndarray, offsite_counts: np.ndarray
                  ) -> np.ndarray:
    """Expected share of off-site-capable objects among a stratum's draws (last axis =
    classes): ``sum(lambda N_off) / sum(lambda N)``."""
    drawn = (lam * counts).sum(axis=-1)
    off = (lam * offsite_counts).sum(axis=-1)
    return np.divide(off, drawn, out=np.zeros(np.shape(drawn)), where=drawn > 0)


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
    random = strata.random
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


def budget_quotas(quota: np.ndarray, strata: Strata, counts: np.ndarray,
                  offsite_counts: np.ndarray, budget: Budget, capacity: Mapping[str, float],
                  offsite_first: bool) -> np.ndarray:
    """Quotas (..., strata) cut to capacity when ``budget.enforce`` (else unchanged); the
    cost of a draw uses the expected off-site share under the plan's lambda."""
    if not budget.enforce:
        return quota
    lam = inclusion_probabilities(counts, quota, strata.bases)
    costs = stratum_costs(strata, offsite_share(lam, counts, offsite_counts), budget,
                          offsite_first)
    return apply_budget(quota, strata, costs, capacity)[0]


# --------------------------------------------------------------------------------------
# Selection: Pareto order sampling, general form
# --------------------------------------------------------------------------------------
def draw_keys(u: np.ndarray, lam: np.ndarray, rounds: np.ndarray | None,
              rules: OverlapRules) -> np.ndarray:
    """Ranking keys of objects: Pareto keys of uniforms ``u`` at inclusion probabilities
    ``lam``, ordered by ``(round, key)`` under rotation (:func:`overlap.ranking_keys`).
    An object with ``lam = 0`` (a stratum with quota 0) gets the key ``inf``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        keys = ranking_keys(pareto_keys(u, lam), rounds, rules)
    return np.where(np.isnan(keys), np.inf, keys)


def select_by_stratum(keys: np.ndarray, stratum: np.ndarray, quota: np.ndarray) -> np.ndarray:
    """Selection mask: per row and stratum, the ``quota`` objects with the smallest keys.

    Parameters
    ----------
    keys : ndarray, shape (R, N)
        Ranking keys (``inf`` = not eligible).
    stratum : ndarray of int, shape (R, N)
        Stratum of each object (-1 = in none).
    quota : ndarray of int, shape (R, S)

    Returns
    -------
    ndarray of bool, shape (R, N)

    Compiled (:func:`dsr_analysis.simulation.kernels.stratum_select`): a counting sort by
    stratum and a k-th smallest per stratum instead of a sort of every key - the same
    selection as :func:`select_by_stratum_lexsort`, in O(N) time and O(N) work space per
    row.
    """
    out = np.zeros(keys.shape, dtype=bool)
    kernels.stratum_select(np.asarray(keys, dtype=float), stratum,
                           np.asarray(quota, dtype=np.int64), out)
    return out


def select_by_stratum_lexsort(keys: np.ndarray, stratum: np.ndarray, quota: np.ndarray
                              ) -> np.ndarray:
    """:func:`select_by_stratum` as a stable ``np.lexsort`` of all keys (the reference the
    compiled selection is tested against; memory: several (R, N) int64 arrays)."""
    R, N = keys.shape
    S = quota.shape[1]
    eligible = (stratum >= 0) & np.isfinite(keys)
    s_ext = np.where(eligible, stratum, S)
    order = np.lexsort((keys, s_ext), axis=-1)
    s_sorted = np.take_along_axis(s_ext, order, axis=1)
    pos = np.broadcast_to(np.arange(N), (R, N))
    new_run = np.ones((R, N), dtype=bool)
    new_run[:, 1:] = s_sorted[:, 1:] != s_sorted[:, :-1]
    run_start = np.maximum.accumulate(np.where(new_run, pos, 0), axis=1)
    q_ext = np.concatenate([quota, np.zeros((R, 1), dtype=quota.dtype)], axis=1)
    take = (pos - run_start) < np.take_along_axis(q_ext, s_sorted, axis=1)
    out = np.zeros((R, N), dtype=bool)
    np.put_along_axis(out, order, take, axis=1)
    return out


def smallest_in_groups(group: np.ndarray, key: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Indices of the ``k[g]`` smallest keys of every group ``g`` (flat candidate arrays;
    keys >= 0, ties by position), in increasing index order - the compiled selection of the
    coverage engine (:func:`dsr_analysis.simulation.kernels.select_groups` on the composite
    ``group + key / (1 + key)``, exact ``(key, position)`` order where that ties)."""
    group = np.asarray(group, dtype=np.int64)
    if not len(group):
        return np.zeros(0, dtype=np.int64)
    key = np.asarray(key, dtype=float)
    k = np.asarray(k, dtype=np.int64)
    order = np.argsort(group, kind="stable")
    ptr = np.zeros(len(k) + 1, dtype=np.int64)
    np.cumsum(np.bincount(group, minlength=len(k)), out=ptr[1:])
    ks = key[order]
    comp = kernels.rotation_composites(ks, group[order].astype(float))
    sel = np.zeros(len(group), dtype=bool)
    kernels.select_groups(comp, ks, ptr, k, sel)
    return np.sort(order[sel])


# --------------------------------------------------------------------------------------
# Closed forms of yearly coverage
# --------------------------------------------------------------------------------------
def yearly_coverage(quota, population, quarters: int = 4) -> np.ndarray:
    """Share of a stratum inspected at least once in a year when every object has the same
    quarterly inclusion probability ``n/N``, independently each quarter:
    ``1 - (1 - n/N)^quarters``."""
    n = np.asarray(quota, dtype=float)
    N = np.asarray(population, dtype=float)
    share = np.divide(n, N, out=np.zeros(np.broadcast(n, N).shape), where=N > 0)
    return 1.0 - (1.0 - np.clip(share, 0.0, 1.0)) ** quarters


def rotation_coverage(quota, population, quarters: int = 4) -> np.ndarray:
    """Yearly coverage of a stratum under rotation (no object drawn twice before all were
    drawn): ``min(1, quarters x n/N)``."""
    n = np.asarray(quota, dtype=float)
    N = np.asarray(population, dtype=float)
    share = np.divide(n, N, out=np.zeros(np.broadcast(n, N).shape), where=N > 0)
    return np.minimum(1.0, quarters * share)


# --------------------------------------------------------------------------------------
# Replicate streams, chunks, progress, tables
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
    """Default replicates per chunk: about :data:`CHUNK_OBJECTS` / ``objects``, between 1
    and 256 (8 for 100,000 objects)."""
    return int(min(256, max(1, round(CHUNK_OBJECTS / max(objects, 1)))))


def chunks(replicates: int, chunk_size: int) -> Iterator[slice]:
    for start in range(0, replicates, max(1, chunk_size)):
        yield slice(start, min(replicates, start + max(1, chunk_size)))


def fill_rows(out: np.ndarray, generators: Sequence[np.random.Generator]) -> np.ndarray:
    """Fill row ``r`` of ``out`` with uniforms from ``generators[r]`` (fixed per-replicate order)."""
    for r, g in enumerate(generators):
        g.random(out=out[r])
    return out


class NoBar:
    """Stand-in for a disabled progress bar (tqdm is not even imported)."""

    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def progress_bar(total: int, enabled: bool, desc: str):
    """A tqdm bar on standard error (disabled: a no-op bar)."""
    if not enabled:
        return NoBar()
    from tqdm.auto import tqdm  # optional heavy dependency

    return tqdm(total=total, disable=not enabled, desc=desc, file=sys.stderr, leave=False)


def save_tables(result, names, directory, prefix: str) -> list:
    """Write the DataFrame attributes ``names`` of ``result`` as ``{prefix}-{name}.csv``
    (UTF-8) into ``directory``; returns the paths."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in names:
        path = directory / f"{prefix}-{name}.csv"
        write_csv(getattr(result, name), path)
        paths.append(path)
    return paths
