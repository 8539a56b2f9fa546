"""Inspection items, methods, joint checks and inspector teams with recusal (R1, R5, R6).

The algorithm, step by step (``scripts/replay_staffing.py`` replays it with the Python
standard library). ``H(text)`` is the SHA-256 digest of the UTF-8 text; ``int(H)`` reads the
32 bytes as a big-endian integer; ``seed`` is the draw's hex seed. Lists of ids are sorted
by Python's string order (code points). Tasks are processed in the draw's canonical order
(task ids ascending within a unit, units in drawing order).

0. **State before the first task** (from the record's ``inputs.history.tasks``, rows
   ``[quarter, unit, uscc, task_id, inspector_ids ";"-joined, origin, method]``):
   ``recent[uscc]`` = the set of inspectors of the history tasks of that object in the
   draw's quarter or the ``recusal_quarters`` quarters before it (none when 0);
   ``load[(inspector, bucket)]`` = the number of the quarter's history tasks of that
   inspector per cap bucket. The bucket of a task is ``offsite`` when
   ``max_offsite_tasks_per_inspector_per_quarter`` is set and the task's method is
   off-site, ``main`` otherwise; the cap of ``main`` is ``max_tasks_per_inspector_per_quarter``.
   **Pools**, once per unit ``U`` of the draw: ``P(U)`` = the certified, active inspectors of
   ``U`` (the area level: of every unit when ``draw.area_inspectors_across_units``), sorted by
   id; ``P(U, L)`` = the members of ``P(U)`` of business line ``L``, sorted by id.
   **Applicable items** of an object: items whose ``applies_to`` holds its industry or
   ``全部``; *departmental* ones have a partner ``department``, the others do not.
1. **Joint designations** (untargeted draws only), per unit, over the unit's tasks:
   a. *Inter-departmental*: ``joint.inter_departmental_per_quarter`` tasks with the smallest
      ``H("{seed}|interdept|{task_id}")`` among the unit's randomly drawn tasks (kind
      ``random``) that have an applicable departmental item (fewer candidates: infeasible).
   b. *Internal* (R5): candidates are the unit's other tasks whose applicable
      non-departmental items cover >= 2 business lines and, unless ``joint.count_offsite``,
      that are not positive-list off-site coverage (kind ``offsite_full``, off-site by R4).
      They are ordered by (0 if the task's method by step 2 *without* a designation is
      on-site else 1, ``H("{seed}|joint|{task_id}")``): visits that happen anyway come first,
      off-site-capable objects (R6 prefers technology checks "原则上") only when those run out.
      The first ``ceil(joint.internal_min_share x number of the unit's tasks)`` (the product
      rounded to 9 decimals before ``ceil``) are designated internal joint tasks; with fewer
      candidates all are designated and the shortfall shows in the R5 indicator.
   Only designated tasks are joint: ``joint_type`` is ``inter_departmental``, ``internal`` or
   ``none``; a team that happens to span two lines is not an internal joint task.
2. **Method** (R6), the first that applies: a re-inspection (origin ``follow_up``, 复查) ->
   on-site; origin in ``methods.onsite_triggers`` -> on-site;
   inter-departmental -> on-site; merged with another level's task (``merged_with``) ->
   on-site; designated internal and not ``joint.count_offsite`` -> on-site (a joint visit: the
   business lines enter once and check several items); kind ``offsite_full`` -> off-site,
   technology check if the object is off-site capable, other check otherwise;
   ``methods.offsite_first`` and off-site capable -> off-site technology check; else on-site.
3. **Eligibility** of inspector ``i`` for task ``t`` (object ``o``, bucket ``b``): the first
   reason that applies excludes it: ``in_team`` (already in ``t``'s team), ``conflict``
   (``o`` in ``i``'s declared conflicts), ``own_unit`` (``staffing.recuse_own_unit`` and
   ``i``'s unit is ``o``'s unit), ``recent`` (``i`` in ``recent[o]``), ``cap``
   (``load[(i, b)]`` >= the cap of ``b``). A line ``L`` *has an eligible inspector* when
   some member of ``P(U, L)`` is eligible (team empty).
4. **Picks.** A *pick* of one element from candidates ``C`` (a sorted list of ``n`` ids)
   under a rule that rejects some of them uses a counter ``j`` and the text prefix
   ``X``: it makes up to ``A = min(4 n, 16)`` attempts; attempt ``j`` looks at
   ``C[int(H(X + str(j))) mod n]`` and ``j`` grows by 1; an accepted element is the pick
   (recorded ``[id, j, "pool"]``), a rejected one is recorded as ``[j, id, reason]``. After
   ``A`` rejected attempts the pick is ``E[int(H(X + str(j))) mod len(E)]`` of the accepted
   elements ``E`` of ``C`` in ``C``'s order (recorded ``[id, j, "eligible"]``; ``j`` grows
   by 1); ``E`` empty: infeasible. (``str(j)`` is the decimal number.)
5. **Items**: candidates are the applicable items (departmental ones for an
   inter-departmental task, the others otherwise), sorted by id; ``X`` =
   ``"{seed}|item|{task_id}|"``, counter from 0 for the task. The *primary* item is one
   pick, rejecting items whose line has no eligible inspector (``no_inspector``; nothing
   is rejected when ``staffing.require_business_line_match`` is false). An internal joint
   task makes a second pick, continuing the counter, rejecting items of the primary's line
   (``same_line``) and items whose line has no eligible inspector (``no_inspector``).
   ``items`` records the picks (primary first), ``item_skipped`` the rejected attempts.
6. **Team**: ``X`` = ``"{seed}|inspector|{task_id}|"``, one counter from 0 for the task,
   one pick per member, rejecting by step 3 (``in_team`` included). Picks: for an internal
   joint task one per item from ``P(U, line of the item)``; otherwise, when
   ``require_business_line_match``, one from ``P(U, line of the primary item)``; then picks
   from ``P(U)`` until the team has ``staffing.min_inspectors_per_task`` members. ``team``
   records the picks, ``skipped`` the rejected attempts. The team then counts: each member's
   ``load[(i, b)]`` grows by 1 and the members join ``recent[o]``.
7. **Expert** where an item of the task needs one: the smallest
   ``H("{seed}|expert|{task_id}|{expert_id}")`` among experts of ``o``'s industry (all
   experts if none covers it). The expert register is small (tens), so the expert keeps the
   smallest-ticket rule over its pool rather than picks (step 4).

Cost: a task makes a few item picks and ``>= min_inspectors_per_task`` inspector picks
(one SHA-256 each unless rejected), not one hash per item or inspector of the pool; an
inspector's eligibility is a few set and dict look-ups; whether a line has an eligible
inspector scans that line's pool until the first eligible one (cached per task). The record
of a task is bounded: its items and team, the rejected attempts (at most 16 per pick) and
``pool_size`` (``|P(U)|``); the replay recomputes eligibility.

An infeasible task raises :class:`~dsr_analysis.errors.InfeasibleError` naming the task,
the constraint and the numbers (eligible inspectors, pool size, excluded by reason), which
are counted over the pool on that path only.
"""

from __future__ import annotations

import gc
import hashlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pandas as pd

from ..errors import InfeasibleError
from ..i18n import _
from ..items import item_applies
from ..overlap import FOLLOW_UP
from ..periods import Quarter
from ..policy import Policy
from ..quotas import ceil_quota
from ..registers import Registers
from ..schema import ALL_INDUSTRIES  # noqa: F401 - 全部 (the register reads 全部行业, 所有行业 as it)

#: Most attempts of one pick before the accepted candidates are listed (step 4).
MAX_PICK_ATTEMPTS = 16
#: Exclusion reasons of step 3, in the order they are tested.
REASONS = ("in_team", "conflict", "own_unit", "recent", "cap")
_J = [str(j).encode() for j in range(64)]  # the counter's decimal text, precomputed


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


def _extended(prefix: Any, text: str) -> bytes:
    """The digest of the prefix's text followed by ``text`` (the prefix hashed once)."""
    h = prefix.copy()
    h.update(text.encode("utf-8"))
    return h.digest()


def applicable_items(items: Mapping[str, Mapping], industry: str, departmental: bool) -> list[str]:
    """Item ids applying to an industry; with a partner department or without one."""
    out = []
    for item_id in sorted(items):
        it = items[item_id]
        if bool(it["department"]) != departmental:
            continue
        if item_applies(it["applies_to"], industry):
            out.append(item_id)
    return out


def staff_tasks(
    tasks: Sequence[dict],
    *,
    seed: str,
    policy: Policy,
    registers: Registers,
    objects: Mapping[str, Mapping[str, Any]],
    history: Sequence[Any],
    tables: Mapping[str, Mapping] | None = None,
) -> list[dict]:
    """Give every task its items, method, joint type, team and expert.

    Parameters
    ----------
    tasks : sequence of dict
        Drawn tasks in canonical order (from :func:`dsr_analysis.draw.draw_quarter`).
    seed : str
    policy, registers
    objects : mapping uscc -> {name, unit, industry, offsite_capable}
    history : sequence of HistoryTask
        Earlier tasks (recusal, caps).
    tables : mapping, optional
        :func:`register_tables` of ``registers``, when the caller has them already.

    Returns
    -------
    list of dict
        The record form of the tasks.
    """
    tables = tables if tables is not None else register_tables(registers)
    inspectors, items, experts = tables["inspectors"], tables["items"], tables["experts"]
    return staff(tasks, seed=seed, params=_params(policy), unit_levels={
        u.id: u.level for u in policy.units}, inspectors=inspectors, items=items,
        experts=experts, objects=objects, history=[h.as_list() for h in history])


def register_tables(registers: Registers) -> dict[str, dict]:
    """The record's plain tables of the inspector, item and expert registers."""
    return {"inspectors": inspector_table(registers.inspectors),
            "items": item_table(registers.items), "experts": expert_table(registers.experts)}


def inspector_table(frame: pd.DataFrame) -> dict:
    out = {}
    f = frame.sort_values("inspector_id")
    for i, name, unit, line, certified, active, conflicts in zip(
            *(f[c].tolist() for c in ("inspector_id", "name", "unit", "business_line",
                                      "certified", "active", "conflicts")), strict=True):
        out[i] = {"name": name, "unit": unit, "business_line": line,
                  "certified": bool(certified), "active": bool(active),
                  "conflicts": sorted(conflicts)}
    return out


def item_table(frame: pd.DataFrame) -> dict:
    out = {}
    for r in frame.sort_values("item_id").itertuples(index=False):
        out[r.item_id] = {"name": r.name, "business_line": r.business_line,
                          "applies_to": list(r.applies_to), "department": r.department,
                          "needs_expert": bool(r.needs_expert)}
    return out


def expert_table(frame: pd.DataFrame) -> dict:
    out = {}
    for r in frame.sort_values("expert_id").itertuples(index=False):
        out[r.expert_id] = {"name": r.name, "industries": list(r.industries)}
    return out


def _params(policy: Policy) -> dict:
    s, d, j, m = policy.staffing, policy.draw, policy.joint, policy.methods
    return {
        "min_inspectors": s.min_inspectors_per_task,
        "require_match": s.require_business_line_match,
        "recusal_quarters": s.recusal_quarters,
        "recuse_own_unit": s.recuse_own_unit,
        "cap": s.max_tasks_per_inspector_per_quarter,
        "offsite_cap": s.max_offsite_tasks_per_inspector_per_quarter,
        "across_units": d.area_inspectors_across_units,
        "internal_min_share": j.internal_min_share,
        "inter_departmental_per_quarter": j.inter_departmental_per_quarter,
        "count_offsite": j.count_offsite,
        "offsite_first": m.offsite_first,
        "onsite_triggers": list(m.onsite_triggers),
    }


def _quarter_window(quarter: str, n: int) -> set[str]:
    if n <= 0:
        return set()
    q = Quarter.parse(quarter)
    out = {q.label}
    for _attempt in range(n):
        q = q.previous()
        out.add(q.label)
    return out


def staff(
    tasks: Sequence[dict],
    *,
    seed: str,
    params: Mapping[str, Any],
    unit_levels: Mapping[str, str],
    inspectors: Mapping[str, Mapping],
    items: Mapping[str, Mapping],
    experts: Mapping[str, Mapping],
    objects: Mapping[str, Mapping],
    history: Sequence[Sequence],
) -> list[dict]:
    """Staff tasks from plain tables (the record's ``inputs``); see the module docstring.

    Steps per task, in task-id order: method → items → team → expert; each team counts
    towards the caps and recusal of the tasks after it."""
    if not tasks:
        return []
    # The loop allocates many small acyclic lists and dicts: without the cyclic collector it
    # does not traverse the draw's millions of live objects again and again (about a third
    # of the time at 1,000,000 enterprises); reference counting still frees everything.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _staff(tasks, seed, params, unit_levels, inspectors, items, experts, objects,
                      history)
    finally:
        if enabled:
            gc.enable()


def _staff(tasks: Sequence[dict], seed: str, params: Mapping[str, Any],
           unit_levels: Mapping[str, str], inspectors: Mapping[str, Mapping],
           items: Mapping[str, Mapping], experts: Mapping[str, Mapping],
           objects: Mapping[str, Mapping], history: Sequence[Sequence]) -> list[dict]:
    quarter = tasks[0]["quarter"]
    recent, load = staffing_state(history, quarter, params)
    loads: dict[str, dict[str, int]] = {"main": {}, "offsite": {}}  # bucket -> inspector -> n
    for (i, b), n in load.items():
        loads[b][i] = n
    pools = inspector_pools(tasks, inspectors, unit_levels, params)
    applicable = ApplicableItems(items)
    designation = _designate(tasks, seed, params, items, objects, applicable)
    conflicts = {i: set(v["conflicts"]) for i, v in inspectors.items() if v["conflicts"]}
    unit_of = {i: v["unit"] for i, v in inspectors.items()}
    line_of = {i: v["business_line"] for i, v in inspectors.items()}
    expert_pools: dict[str, tuple[list[str], bool]] = {}
    out = []
    for t in tasks:
        obj = objects[t["uscc"]]
        joint = designation.get(t["task_id"], "")
        method = _method(t, obj, joint, params)
        bucket = _bucket(method[0], params)
        cap = params["offsite_cap"] if bucket == "offsite" else params["cap"]
        uscc = t["uscc"]
        past = recent.setdefault(uscc, set())
        own_unit = obj["unit"] if params["recuse_own_unit"] else None
        bucket_load = loads[bucket]

        def reason(i: str, uscc: str = uscc, past: set = past, own_unit: str | None = own_unit,
                   bucket_load: dict = bucket_load, cap: int = cap) -> str | None:
            """Step 3 without ``in_team``: the first reason excluding ``i``, or None."""
            c = conflicts.get(i)
            if c is not None and uscc in c:
                return "conflict"
            if own_unit is not None and unit_of[i] == own_unit:
                return "own_unit"
            if i in past:
                return "recent"
            if bucket_load.get(i, 0) >= cap:
                return "cap"
            return None

        pool_all, pool_lines = pools[t["unit"]]
        item_picks, item_skipped = choose_items(t, obj, joint, seed, items, applicable,
                                                pool_all, pool_lines, reason, line_of, params)
        item_ids = [p[0] for p in item_picks]
        team, skipped = choose_team(t, item_ids, joint, seed, items, pool_all, pool_lines,
                                    reason, line_of, params)
        for m in team:
            bucket_load[m[0]] = bucket_load.get(m[0], 0) + 1
            past.add(m[0])
        expert = choose_expert(t, obj, item_ids, items, seed, experts, expert_pools)
        out.append(_task_record(t, joint, method, item_picks, item_skipped, items, team,
                                skipped, len(pool_all), expert))
    return out


class ApplicableItems:
    """Applicable items per (industry, departmental), computed once per industry."""

    def __init__(self, items: Mapping[str, Mapping]) -> None:
        self.items = items
        self._cache: dict[tuple[str, bool], list[str]] = {}
        self._lines: dict[str, set[str]] = {}

    def __call__(self, industry: str, departmental: bool) -> list[str]:
        key = (industry, departmental)
        got = self._cache.get(key)
        if got is None:
            got = self._cache[key] = applicable_items(self.items, industry, departmental)
        return got

    def lines(self, industry: str) -> set[str]:
        """Business lines of the applicable non-departmental items."""
        got = self._lines.get(industry)
        if got is None:
            got = self._lines[industry] = {self.items[c]["business_line"]
                                           for c in self(industry, False)}
        return got


def staffing_state(history: Sequence[Sequence], quarter: str, params: Mapping[str, Any]
                   ) -> tuple[dict[str, set[str]], dict[tuple[str, str], int]]:
    """Recent inspectors per object (uscc -> inspector ids within the recusal window) and
    the quarter's load per (inspector, cap bucket), from the history tasks (step 0)."""
    window = _quarter_window(quarter, params["recusal_quarters"])
    recent: dict[str, set[str]] = {}
    load: dict[tuple[str, str], int] = {}
    for hq, _unit, uscc, _task_id, ids, _origin, method in history:
        ids_t = [i for i in ids.split(";") if i]
        if hq in window:
            recent.setdefault(uscc, set()).update(ids_t)
        if hq == quarter:
            for i in ids_t:
                key = (i, _bucket(method, params))
                load[key] = load.get(key, 0) + 1
    return recent, load


def inspector_pools(tasks: Sequence[Mapping], inspectors: Mapping[str, Mapping],
                    unit_levels: Mapping[str, str], params: Mapping[str, Any]
                    ) -> dict[str, tuple[list[str], dict[str, list[str]]]]:
    """Unit -> (``P(U)``, line -> ``P(U, L)``): certified, active inspectors of the unit (the
    area level: of every unit when ``across_units``), sorted by id (step 0)."""
    active = [i for i in sorted(inspectors)
              if inspectors[i]["certified"] and inspectors[i]["active"]]
    pools: dict[str, tuple[list[str], dict[str, list[str]]]] = {}
    for unit in dict.fromkeys(t["unit"] for t in tasks):
        across = unit_levels[unit] == "area" and params["across_units"]
        pool = [i for i in active if across or inspectors[i]["unit"] == unit]
        by_line: dict[str, list[str]] = {}
        for i in pool:
            by_line.setdefault(inspectors[i]["business_line"], []).append(i)
        pools[unit] = (pool, by_line)
    return pools


Reason = Callable[[str], "str | None"]


def _exclusions(candidates: Sequence[str], reason: Reason) -> tuple[int, str]:
    """(eligible count, "n reason, ..." of the excluded) over candidates (failure path)."""
    counts: dict[str, int] = {}
    eligible = 0
    for i in candidates:
        why = reason(i)
        if why is None:
            eligible += 1
        else:
            counts[why] = counts.get(why, 0) + 1
    return eligible, ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "none"


def pick(candidates: Sequence[str], prefix: Any, j: int, reject: Reason,
         skipped: list[list], taken: Sequence[str] = ()) -> tuple[list | None, int]:
    """One O(k) pick (step 4): ``([id, j, "pool"|"eligible"]`` or None, next ``j``).

    ``prefix`` is the SHA-256 state of ``"{seed}|{kind}|{task_id}|"``; ``reject(id)`` gives the
    reason that excludes a candidate or None; rejected picks are appended to ``skipped`` as
    ``[j, id, reason]``; candidates in ``taken`` are rejected as ``in_team``."""
    n = len(candidates)
    for _attempt in range(min(4 * n, MAX_PICK_ATTEMPTS)):
        h = prefix.copy()
        h.update(_J[j] if j < 64 else str(j).encode())
        c = candidates[int.from_bytes(h.digest(), "big") % n]
        why = "in_team" if c in taken else reject(c)
        if why is None:
            return [c, j, "pool"], j + 1
        skipped.append([j, c, why])
        j += 1
    eligible = [c for c in candidates if c not in taken and reject(c) is None]
    if not eligible:
        return None, j
    h = prefix.copy()
    h.update(str(j).encode())
    return [eligible[int.from_bytes(h.digest(), "big") % len(eligible)], j, "eligible"], j + 1


def choose_items(t: Mapping, obj: Mapping, joint: str, seed: str, items: Mapping[str, Mapping],
                 applicable: ApplicableItems, pool: Sequence[str],
                 pool_lines: Mapping[str, Sequence[str]], reason: Reason,
                 line_of: Mapping[str, str], params: Mapping[str, Any]
                 ) -> tuple[list[list], list[list]]:
    """The task's items (step 5), primary first: (picks ``[id, k, how]``, skipped
    ``[k, id, reason]``)."""
    tid = t["task_id"]
    departmental = joint == "inter_departmental"
    cands = applicable(obj["industry"], departmental)
    prefix = hashlib.sha256(f"{seed}|item|{tid}|".encode())
    has_eligible: dict[str, bool] = {}

    def line_ok(line: str) -> bool:
        got = has_eligible.get(line)
        if got is None:
            got = False
            for i in pool_lines.get(line, ()):
                if reason(i) is None:
                    got = True
                    break
            has_eligible[line] = got
        return got

    def lines_text() -> str:
        lines = sorted({line_of[i] for i in pool if reason(i) is None})
        n_eligible, detail = _exclusions(pool, reason)
        return _("eligible inspectors cover the lines {lines} ({eligible} eligible of {pool}; "
                 "excluded: {detail})").format(lines=", ".join(lines) or _("none"),
                                               eligible=n_eligible, pool=len(pool),
                                               detail=detail)

    require = params["require_match"]

    def first(c: str) -> str | None:
        return None if not require or line_ok(items[c]["business_line"]) else "no_inspector"

    skipped: list[list] = []
    primary, k = pick(cands, prefix, 0, first, skipped)
    if primary is None:
        message = (_("task {task} ({uscc}, industry {industry}): constraint 'item with an "
                     "eligible inspector of its business line': {n} applicable item(s) with a "
                     "partner department ({items}), {lines}") if departmental else
                   _("task {task} ({uscc}, industry {industry}): constraint 'item with an "
                     "eligible inspector of its business line': {n} applicable item(s) "
                     "({items}), {lines}"))
        raise InfeasibleError(message.format(
            task=tid, uscc=t["uscc"], industry=obj["industry"], n=len(cands),
            items=", ".join(cands) or _("none"), lines=lines_text()))
    chosen = [primary]
    if joint == "internal":
        base = items[primary[0]]["business_line"]

        def second_ok(c: str) -> str | None:
            line = items[c]["business_line"]
            if line == base:
                return "same_line"
            return None if line_ok(line) else "no_inspector"

        second, k = pick(cands, prefix, k, second_ok, skipped)
        if second is None:
            others = [c for c in cands if items[c]["business_line"] != base]
            raise InfeasibleError(_(
                "task {task} ({uscc}, industry {industry}): constraint 'internal joint "
                "inspection: an item of a second business line with an eligible inspector': "
                "primary item {primary} ({line}), {n} applicable item(s) of other lines "
                "({items}), {lines}").format(
                    task=tid, uscc=t["uscc"], industry=obj["industry"], primary=primary[0],
                    line=base, n=len(others), items=", ".join(others) or _("none"),
                    lines=lines_text()))
        chosen.append(second)
    return chosen, skipped


def choose_team(t: Mapping, item_ids: Sequence[str], joint: str, seed: str,
                items: Mapping[str, Mapping], pool: Sequence[str],
                pool_lines: Mapping[str, Sequence[str]], reason: Reason,
                line_of: Mapping[str, str], params: Mapping[str, Any]
                ) -> tuple[list[list], list[list]]:
    """The team by O(k) picks (step 6): (members ``[id, j, how]``, skipped ``[j, id, why]``)."""
    tid = t["task_id"]
    prefix = hashlib.sha256(f"{seed}|inspector|{tid}|".encode())
    need = params["min_inspectors"]
    if joint == "internal":
        phase_lines = [items[c]["business_line"] for c in item_ids]
    elif params["require_match"]:
        phase_lines = [items[item_ids[0]]["business_line"]]
    else:
        phase_lines = []
    team: list[list] = []
    ids: list[str] = []
    skipped: list[list] = []
    j = 0
    for line in phase_lines:
        member, j = pick(pool_lines.get(line, []), prefix, j, reason, skipped, ids)
        if member is None:  # step 5 saw an eligible inspector of every item's line
            n_eligible, detail = _exclusions(pool_lines.get(line, []), reason)
            raise InfeasibleError(_(
                "task {task} ({uscc}): constraint 'an inspector of the line {line}': {eligible} "
                "eligible of {total} of that line in the pool of {unit} (excluded: {detail})"
            ).format(task=tid, uscc=t["uscc"], line=line, eligible=n_eligible,
                     total=len(pool_lines.get(line, [])), unit=t["unit"], detail=detail))
        team.append(member)
        ids.append(member[0])
    while len(team) < need:
        member, j = pick(pool, prefix, j, reason, skipped, ids)
        if member is None:
            n_eligible, detail = _exclusions(pool, reason)
            raise InfeasibleError(_(
                "task {task} ({uscc}): constraint 'at least {need} certified, active "
                "inspectors': {eligible} eligible of {total} in the pool of {unit} (excluded: "
                "{detail})").format(task=tid, uscc=t["uscc"], need=need, eligible=n_eligible,
                                    total=len(pool), unit=t["unit"], detail=detail))
        team.append(member)
        ids.append(member[0])
    return team, skipped


def choose_expert(t: Mapping, obj: Mapping, item_ids: Sequence[str],
                  items: Mapping[str, Mapping], seed: str, experts: Mapping[str, Mapping],
                  cache: dict[str, tuple[list[str], bool]] | None = None
                  ) -> tuple[str, str, str]:
    """(expert id, ticket, reason) where an item needs an expert (step 7); blanks otherwise.
    ``cache`` keeps each industry's expert pool."""
    needing = [c for c in item_ids if items[c]["needs_expert"]]
    if not needing:
        return "", "", ""
    tid = t["task_id"]
    industry = obj["industry"]
    got = cache.get(industry) if cache is not None else None
    if got is None:
        matching = [e for e in sorted(experts) if industry in experts[e]["industries"]]
        got = (matching or sorted(experts), bool(matching))
        if cache is not None:
            cache[industry] = got
    pool, matched = got
    if not pool:
        raise InfeasibleError(_(
            "task {task} ({uscc}): constraint 'expert for item {item}': the expert register "
            "is empty").format(task=tid, uscc=t["uscc"], item=needing[0]))
    e_tickets = {e: _digest(f"{seed}|expert|{tid}|{e}") for e in pool}
    expert_id = min(pool, key=e_tickets.__getitem__)
    reason = ("industry match" if matched
              else f"no expert of {industry}: drawn from all experts")
    return expert_id, e_tickets[expert_id].hex(), reason


def _task_record(t: Mapping, joint: str, method: tuple[str, str, str], item_picks: list[list],
                 item_skipped: list[list], items: Mapping[str, Mapping], team: list[list],
                 skipped: list[list], pool_size: int, expert: tuple[str, str, str]) -> dict:
    joint_type = joint or "none"
    return {
        "task_id": t["task_id"], "quarter": t["quarter"], "unit": t["unit"],
        "level": t["level"], "uscc": t["uscc"], "stratum": t["stratum"],
        "category": t["category"], "subset": t["subset"], "credit_class": t["credit_class"],
        "kind": t["kind"], "ticket": t["ticket"],
        "inclusion_probability": t["inclusion_probability"], "draw_mode": t["draw_mode"],
        "origin": t["origin"],
        "merged_with": t.get("merged_with", ""),
        "designation": joint_type,
        "item_id": item_picks[0][0], "items": item_picks, "item_skipped": item_skipped,
        "method": method[0], "method_detail": method[1], "method_reason": method[2],
        "joint_type": joint_type,
        "partner_department": (items[item_picks[0][0]]["department"]
                               if joint_type == "inter_departmental" else ""),
        "team": team, "skipped": skipped, "pool_size": pool_size,
        "expert_id": expert[0], "expert_ticket": expert[1], "expert_reason": expert[2],
    }


def _designate(tasks: Sequence[dict], seed: str, params: Mapping[str, Any],
               items: Mapping[str, Mapping], objects: Mapping[str, Mapping],
               applicable: ApplicableItems | None = None) -> dict[str, str]:
    """Task id -> 'inter_departmental' or 'internal' (step 1; untargeted draws only)."""
    applicable = applicable or ApplicableItems(items)
    out: dict[str, str] = {}
    by_unit: dict[str, list[dict]] = {}
    for t in tasks:
        if t["draw_mode"] == "untargeted":
            by_unit.setdefault(t["unit"], []).append(t)
    for unit, unit_tasks in by_unit.items():
        n_dept = params["inter_departmental_per_quarter"]
        cands = [t for t in unit_tasks if t["kind"] == "random"
                 and applicable(objects[t["uscc"]]["industry"], True)]
        if n_dept > len(cands):
            raise InfeasibleError(_(
                "unit {unit}: constraint 'at least {n} inter-departmental joint task(s) per "
                "quarter': only {found} randomly drawn task(s) have an item with a partner "
                "department").format(unit=unit, n=n_dept, found=len(cands)))
        interdept = hashlib.sha256(f"{seed}|interdept|".encode())
        cands.sort(key=lambda t: _extended(interdept, t["task_id"]))
        for t in cands[:n_dept]:
            out[t["task_id"]] = "inter_departmental"
        n_internal = ceil_quota(params["internal_min_share"] * len(unit_tasks))
        rest = [t for t in unit_tasks if t["task_id"] not in out
                and (params["count_offsite"] or t["kind"] != "offsite_full")
                and len(applicable.lines(objects[t["uscc"]]["industry"])) >= 2]
        joint = hashlib.sha256(f"{seed}|joint|".encode())
        rest.sort(key=lambda t: (
            _method(t, objects[t["uscc"]], "", params)[0] != "onsite",
            _extended(joint, t["task_id"])))
        for t in rest[:n_internal]:
            out[t["task_id"]] = "internal"
    return out


def _bucket(method: str, params: Mapping) -> str:
    """Which per-quarter cap a task counts against."""
    return "offsite" if params["offsite_cap"] is not None and method == "offsite" else "main"


def bucket_label(bucket: str) -> str:
    return "off-site " if bucket == "offsite" else ""


def _method(task: Mapping, obj: Mapping, joint: str, params: Mapping) -> tuple[str, str, str]:
    """(method, method_detail, reason) per R6 (step 2); ``joint`` is the task's designation."""
    if task["origin"] == FOLLOW_UP:
        return "onsite", "onsite", "re-inspection (复查) of a rectification order: on-site (R7)"
    if task["origin"] in params["onsite_triggers"]:
        return "onsite", "onsite", f"origin {task['origin']}: on-site trigger (R6)"
    if joint == "inter_departmental":
        return "onsite", "onsite", "inter-departmental joint visit (R5)"
    if task.get("merged_with"):
        return "onsite", "onsite", f"joint visit merged with {task['merged_with']} (R4)"
    if joint == "internal" and not params["count_offsite"]:
        return "onsite", "onsite", "internal joint visit: several business lines, one visit (R5)"
    if task["kind"] == "offsite_full":
        if obj["offsite_capable"]:
            return "offsite", "technology", "positive list: off-site coverage (R4, R6)"
        return "offsite", "other", "positive list without off-site facilities: other check (R4, R6)"
    if params["offsite_first"] and obj["offsite_capable"]:
        return "offsite", "technology", "off-site capable: technology check first (R6)"
    return "onsite", "onsite", "off-site facilities incomplete: on-site (R6)"
