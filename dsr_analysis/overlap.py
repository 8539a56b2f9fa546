"""Drawing order and overlap control (R4, R6): the one owner of these rules.

The official draw, the coverage engine, the deterrence engine and the planner's analytic
estimate all take these rules from here:

**Drawing order.** County units in policy order, then the area level (the counties' R4 ratios
are the binding ones; the area level draws from what they leave under ``avoid``).

**Overlap across quarters** (``policy.draw.overlap``), applied before inclusion probabilities
are computed:

``independent``
    nothing is excluded;
``rotation``
    the stratum is ranked by ``(earlier checks this year, Pareto key)``: nobody is drawn
    again while others of the stratum are waiting;
``yearly_cap``
    objects with ``yearly_cap`` counted checks this year are excluded; tasks whose origin is
    in ``draw.cap_exemptions`` neither count nor are capped. Full off-site coverage strata
    (the positive list) are never capped.

**Whose checks count** (``policy.draw.overlap_scope``): ``unit`` (each inspecting body counts
its own checks - the State Council's 2024 rule on enterprise inspections, 国办发〔2024〕54号,
frames frequency caps per body; the default) or ``all_levels`` (checks by any unit count).

**Between levels in a quarter** (``policy.draw.between_levels``): ``avoid`` excludes from the
area level's draw every object a county drew this quarter; ``merge`` lets both draw, and an
object drawn by both gets one joint on-site visit.

A policy lets at most one unit draw from all objects (checked by the loader), so an object
is drawn by at most one unit per level: per-level check counts are per-unit counts.

Three forms: scalar (the draw; mirrored by ``scripts/replay_draw.py``), vectorised over
replicates x objects (the engines) and over groups of objects (the planner's estimate).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .errors import DsrError
from .i18n import _
from .policy import Policy

#: Levels in drawing order (index = level code in the engines).
LEVELS: tuple[str, ...] = ("county", "area")
LEVEL_CODE = {lv: i for i, lv in enumerate(LEVELS)}


#: Origin of a re-inspection task (复查, :mod:`dsr_analysis.draw.reinspection`): whatever the
#: policy lists, never counted by or subject to the yearly cap, never excluded by overlap
#: control, always on-site.
FOLLOW_UP = "follow_up"


@dataclass(frozen=True)
class OverlapRules:
    """The overlap settings of a policy.

    Attributes
    ----------
    mode : str
        ``independent``, ``rotation`` or ``yearly_cap``.
    yearly_cap : int
        Counted checks per object and year at which it is excluded (``yearly_cap`` only).
    exemptions : frozenset of str
        Task origins the yearly cap neither counts nor applies to.
    scope : str
        ``unit`` or ``all_levels``: whose earlier checks count.
    between : str
        ``avoid`` or ``merge``.
    """

    mode: str
    yearly_cap: int
    exemptions: frozenset[str]
    scope: str
    between: str

    @classmethod
    def from_policy(cls, policy: Policy) -> OverlapRules:
        d = policy.draw
        return cls(mode=d.overlap, yearly_cap=int(d.yearly_cap),
                   exemptions=frozenset(d.cap_exemptions) | {FOLLOW_UP}, scope=d.overlap_scope,
                   between=d.between_levels)

    def capped(self, origin: str = "routine", method: str = "random") -> bool:
        """Whether the yearly cap applies to a draw of this origin and stratum method."""
        return (self.mode == "yearly_cap" and origin not in self.exemptions
                and method != "offsite_full")

    def avoids(self, level: str) -> bool:
        """Whether a unit of ``level`` excludes objects the other level drew this quarter."""
        return self.between == "avoid" and level == "area"


def drawing_order(policy: Policy, units: Sequence[str] | None = None) -> list[str]:
    """Unit ids in drawing order: county units in policy order, then the area level."""
    chosen = [u for u in policy.units if units is None or u.id in units]
    if units is not None:
        unknown = sorted(set(units) - {u.id for u in chosen})
        if unknown:
            raise DsrError(_("unknown unit(s) {units} (valid: {valid})").format(
                units=", ".join(unknown), valid=", ".join(policy.unit_names)))
    return [u.id for u in sorted(chosen, key=lambda u: LEVEL_CODE[u.level])]


# --------------------------------------------------------------------------------------
# Scalar form: the official draw
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EarlierChecks:
    """Earlier checks of this year as one drawing unit sees them.

    Attributes
    ----------
    rounds : dict uscc -> int
        Every earlier check that counts for the unit (rotation ranks by it).
    counted : dict uscc -> int
        The same without cap-exempt origins (the yearly cap compares it with the cap).
    """

    rounds: dict[str, int]
    counted: dict[str, int]


def earlier_checks(tasks: Iterable[tuple[str, str, str]], unit: str, level_of: Mapping[str, str],
                   rules: OverlapRules) -> EarlierChecks:
    """Count this year's earlier checks for ``unit``.

    Parameters
    ----------
    tasks : iterable of (unit, uscc, origin)
        The year's earlier tasks (earlier quarters and earlier draws of this quarter).
    unit : str
        The drawing unit.
    level_of : mapping unit -> level
    rules : OverlapRules
    """
    rounds: dict[str, int] = {}
    counted: dict[str, int] = {}
    for t_unit, uscc, origin in tasks:
        if rules.scope == "unit" and t_unit != unit:
            continue
        if rules.scope == "all_levels" and t_unit not in level_of:
            continue
        rounds[uscc] = rounds.get(uscc, 0) + 1
        if origin not in rules.exemptions:
            counted[uscc] = counted.get(uscc, 0) + 1
    return EarlierChecks(rounds, counted)


def exclusions(candidates: np.ndarray, *, level: str, rules: OverlapRules,
               checks: EarlierChecks, drawn_by_other_level: Mapping[str, str],
               year: int, origin: str = "routine", method: str = "random",
               ) -> tuple[np.ndarray, list[list[str]]]:
    """Which of a stratum's candidates are eligible, and the exclusions with reasons.

    The between-level rule comes first, then the yearly cap. ``candidates`` is an array of
    USCCs; returns ``(eligible mask, excluded)`` with ``excluded`` as ``[uscc, reason]``
    sorted by uscc.
    """
    codes = np.asarray(candidates, dtype=object)
    listed = codes.tolist()  # dictionary look-ups per object: no text index built
    eligible = np.ones(len(codes), dtype=bool)
    excluded: list[list[str]] = []
    if rules.avoids(level) and drawn_by_other_level:
        hit = np.fromiter(map(drawn_by_other_level.__contains__, listed), dtype=bool,
                          count=len(listed))
        excluded += [[c, f"between_levels: drawn this quarter by {drawn_by_other_level[c]}"]
                     for c in codes[hit].tolist()]
        eligible &= ~hit
    if rules.capped(origin, method) and checks.counted:
        get = checks.counted.get
        n = np.fromiter((get(c, 0) for c in listed), dtype=np.int64, count=len(listed))
        hit = eligible & (n >= rules.yearly_cap)
        excluded += [[c, f"yearly_cap: inspected {k} times in {year} (cap {rules.yearly_cap})"]
                     for c, k in zip(codes[hit].tolist(), n[hit].tolist(), strict=True)]
        eligible &= ~hit
    excluded.sort()
    return eligible, excluded


def rounds_of(eligible: Sequence[str], rules: OverlapRules, checks: EarlierChecks) -> np.ndarray:
    """Rotation round of each eligible object (0 for all unless ``rotation``)."""
    if rules.mode != "rotation" or not checks.rounds:
        return np.zeros(len(eligible), dtype=np.int64)
    get = checks.rounds.get
    return np.fromiter((get(c, 0) for c in list(eligible)), dtype=np.int64, count=len(eligible))


def selection_order(rounds: Sequence[int], keys: np.ndarray, tickets: Sequence[bytes]) -> np.ndarray:
    """Indices ranked by ``(round, Pareto key, ticket)`` - the draw fills its quota from the
    front."""
    n = len(keys)
    if n == 0:
        return np.zeros(0, dtype=int)
    t = np.array(tickets, dtype="S32") if len(tickets) else np.zeros(n, dtype="S32")
    return np.lexsort((t, np.asarray(keys, dtype=float), np.asarray(rounds, dtype=np.int64)))


# --------------------------------------------------------------------------------------
# Vectorised form: the engines (replicates x objects)
# --------------------------------------------------------------------------------------
def counted_checks(checks_by_level: Sequence[np.ndarray], level: int, rules: OverlapRules
                   ) -> np.ndarray:
    """Earlier checks this year that count for a unit of level code ``level``.

    ``checks_by_level[l]`` holds, per object, the checks made by the level-``l`` unit that
    draws it (at most one per level). ``unit`` scope counts the unit's own level, ``all_levels``
    every level.
    """
    if rules.scope == "unit":
        return checks_by_level[level]
    total = checks_by_level[0].astype(np.int16)
    for arr in checks_by_level[1:]:
        total = total + arr
    return total


def eligible_mask(counted: np.ndarray, drawn_other_level: np.ndarray | None, level: int,
                  rules: OverlapRules, method: str = "random") -> np.ndarray | None:
    """Objects eligible for a unit's draw (``None`` when nothing is excluded).

    ``counted``: counted checks this year (:func:`counted_checks`, cap-exempt origins aside);
    ``drawn_other_level``: objects the other level drew this quarter (bool, may be ``None``).
    """
    mask = None
    if rules.capped("routine", method):
        mask = counted < rules.yearly_cap
    if rules.avoids(LEVELS[level]) and drawn_other_level is not None:
        mask = ~drawn_other_level if mask is None else mask & ~drawn_other_level
    return mask


def ranking_keys(pareto: np.ndarray, rounds: np.ndarray | None, rules: OverlapRules
                 ) -> np.ndarray:
    """One float key per object ordering as ``(round, Pareto key)``: ``round + Q / (1 + Q)``
    under rotation (``Q / (1 + Q)`` is in [0, 1) and increasing in ``Q``), ``Q`` otherwise."""
    if rules.mode != "rotation" or rounds is None:
        return pareto
    return rounds + pareto / (1.0 + pareto)
