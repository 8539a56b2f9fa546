"""Inspection items, methods, joint checks and inspector teams with recusal (R1, R5, R6).

Tasks are processed in the draw's canonical order (task ids ascending within a unit, units
in drawing order). For a task of unit ``U``, object ``o``:

1. **Joint designations** (untargeted draws only; done per unit before staffing).
   ``policy.joint.inter_departmental_per_quarter`` tasks with the smallest
   ``SHA-256("{seed}|interdept|{task_id}")`` among the unit's randomly drawn tasks that have an
   applicable item with a partner ``department`` become inter-departmental joint tasks;
   then ``ceil(policy.joint.internal_min_share x tasks of the unit)`` of the remaining tasks
   with the smallest ``SHA-256("{seed}|joint|{task_id}")`` must be staffed across >= 2
   business lines (internal joint). Any other team that happens to span two lines is an
   internal joint task too.
2. **Pool**: certified, active inspectors of ``U`` (the area level: of every unit when
   ``policy.draw.area_inspectors_across_units``). **Recusal** removes, with the first
   applicable reason: ``conflict`` (declared conflict with ``o``), ``own_unit`` (the
   inspector belongs to ``o``'s unit and ``policy.staffing.recuse_own_unit``), ``recent``
   (inspected ``o`` in this quarter or the ``recusal_quarters`` before it), ``cap`` (already
   ``max_tasks_per_inspector_per_quarter`` tasks this quarter).
3. **Item**: among the items applying to ``o``'s industry (``全部`` = all) - with a
   ``department`` for an inter-departmental task, without one otherwise - and, when
   ``require_business_line_match``, whose business line has an eligible inspector: the
   smallest ``SHA-256("{seed}|item|{task_id}|{item_id}")``.
4. **Team**: inspector tickets ``SHA-256("{seed}|inspector|{task_id}|{inspector_id}")``.
   First member: the smallest ticket among eligible inspectors of the item's business line
   (any line if no match is required); second member of an internal joint task: the
   smallest among those of another line; the rest: the smallest remaining tickets, up to
   ``min_inspectors_per_task``.
5. **Expert** where the item needs one: the smallest
   ``SHA-256("{seed}|expert|{task_id}|{expert_id}")`` among experts of ``o``'s industry
   (all experts if none covers it).
6. **Method** (R6): on-site for origins in ``policy.methods.onsite_triggers``, for
   inter-departmental and merged joint visits, and for objects without off-site capability;
   otherwise off-site: technology check (科技检查) for objects with off-site capability,
   other check (其他检查) for positive-list coverage of an object without it.

An infeasible task raises :class:`~dsr_analysis.errors.InfeasibleError` naming the task,
the constraint and the numbers.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from ..errors import InfeasibleError
from ..periods import Quarter
from ..policy import Policy
from ..registers import Registers

ALL_INDUSTRIES = "全部"


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


def applicable_items(items: Mapping[str, Mapping], industry: str, departmental: bool) -> list[str]:
    """Item ids applying to an industry; with a partner department or without one."""
    out = []
    for item_id in sorted(items):
        it = items[item_id]
        if bool(it["department"]) != departmental:
            continue
        if ALL_INDUSTRIES in it["applies_to"] or industry in it["applies_to"]:
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
) -> list[dict]:
    """Give every task its item, method, joint type, team and expert.

    Parameters
    ----------
    tasks : sequence of dict
        Drawn tasks in canonical order (from :func:`dsr_analysis.draw.draw_quarter`).
    seed : str
    policy, registers
    objects : mapping uscc -> {name, unit, industry, offsite_capable}
    history : sequence of HistoryTask
        Earlier tasks (recusal, caps).

    Returns
    -------
    list of dict
        The record form of the tasks.
    """
    inspectors = inspector_table(registers.inspectors)
    items = item_table(registers.items)
    experts = expert_table(registers.experts)
    return staff(tasks, seed=seed, params=_params(policy), unit_levels={
        u.id: u.level for u in policy.units}, inspectors=inspectors, items=items,
        experts=experts, objects=objects, history=[h.as_list() for h in history])


def inspector_table(frame: pd.DataFrame) -> dict:
    out = {}
    for r in frame.sort_values("inspector_id").itertuples(index=False):
        out[r.inspector_id] = {"name": r.name, "unit": r.unit, "business_line": r.business_line,
                               "certified": bool(r.certified), "active": bool(r.active),
                               "conflicts": sorted(r.conflicts)}
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
        "offsite_first": m.offsite_first,
        "onsite_triggers": list(m.onsite_triggers),
    }


def _quarter_window(quarter: str, n: int) -> set[str]:
    if n <= 0:
        return set()
    q = Quarter.parse(quarter)
    out = {q.label}
    for _ in range(n):
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

    Steps per task, in task-id order: method → eligible inspectors (recusal, caps) → item →
    team → expert; each team counts towards the caps and recusal of the tasks after it."""
    if not tasks:
        return []
    quarter = tasks[0]["quarter"]
    recent, load = staffing_state(history, quarter, params)
    pools = inspector_pools(tasks, inspectors, unit_levels, params)
    designation = _designate(tasks, seed, params, items, objects)
    out = []
    for t in tasks:
        obj = objects[t["uscc"]]
        joint = designation.get(t["task_id"], "")
        method = _method(t, obj, joint, params)
        bucket = _bucket(method[0], params)
        eligible, excluded = eligible_inspectors(t, obj, pools[t["unit"]], inspectors,
                                                 recent.get(t["uscc"], []), load, bucket, params)
        item_id, item_ticket = choose_item(t, obj, joint, seed, items, inspectors, eligible,
                                           excluded, len(pools[t["unit"]]), params)
        team, tickets = choose_team(t, items[item_id], joint, seed, inspectors, eligible,
                                    excluded, len(pools[t["unit"]]), params)
        for i in team:
            load[(i, bucket)] = load.get((i, bucket), 0) + 1
        recent.setdefault(t["uscc"], []).append((t["task_id"], tuple(team)))
        expert = choose_expert(t, obj, item_id, items[item_id], seed, experts)
        out.append(_task_record(t, joint, method, item_id, item_ticket, items[item_id],
                                team, tickets, inspectors, len(pools[t["unit"]]),
                                len(eligible), excluded, expert))
    return out


def staffing_state(history: Sequence[Sequence], quarter: str, params: Mapping[str, Any]
                   ) -> tuple[dict[str, list[tuple[str, tuple[str, ...]]]], dict[tuple[str, str], int]]:
    """Recent inspections (uscc -> [(task id, inspector ids)] within the recusal window) and
    the quarter's load per (inspector, cap bucket), from the history tasks."""
    window = _quarter_window(quarter, params["recusal_quarters"])
    recent: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
    load: dict[tuple[str, str], int] = {}
    for hq, _unit, uscc, task_id, ids, _origin, method in history:
        ids_t = tuple(i for i in ids.split(";") if i)
        if hq in window:
            recent.setdefault(uscc, []).append((task_id, ids_t))
        if hq == quarter:
            for i in ids_t:
                key = (i, _bucket(method, params))
                load[key] = load.get(key, 0) + 1
    return recent, load


def inspector_pools(tasks: Sequence[Mapping], inspectors: Mapping[str, Mapping],
                    unit_levels: Mapping[str, str], params: Mapping[str, Any]) -> dict[str, list[str]]:
    """Unit -> its pool: certified, active inspectors of the unit (the area level: of every
    unit when ``across_units``), sorted by id."""
    pools: dict[str, list[str]] = {}
    for unit in dict.fromkeys(t["unit"] for t in tasks):
        across = unit_levels[unit] == "area" and params["across_units"]
        pools[unit] = [i for i in sorted(inspectors) if inspectors[i]["certified"]
                       and inspectors[i]["active"]
                       and (across or inspectors[i]["unit"] == unit)]
    return pools


def eligible_inspectors(t: Mapping, obj: Mapping, pool: Sequence[str],
                        inspectors: Mapping[str, Mapping], past: Sequence[tuple[str, tuple]],
                        load: Mapping[tuple[str, str], int], bucket: str,
                        params: Mapping[str, Any]) -> tuple[list[str], list[list[str]]]:
    """The pool minus recusals and capped inspectors, with the first reason that applies."""
    cap = params["offsite_cap"] if bucket == "offsite" else params["cap"]
    excluded: list[list[str]] = []
    eligible: list[str] = []
    for i in pool:
        ins = inspectors[i]
        if t["uscc"] in ins["conflicts"]:
            excluded.append([i, f"conflict: declared conflict with {t['uscc']}"])
        elif params["recuse_own_unit"] and ins["unit"] == obj["unit"]:
            excluded.append([i, f"own_unit: object belongs to {obj['unit']}"])
        elif any(i in ids for _, ids in past):
            which = next(task_id for task_id, ids in past if i in ids)
            excluded.append([i, f"recent: inspected {t['uscc']} in {which}"])
        elif load.get((i, bucket), 0) >= cap:
            excluded.append([i, f"cap: {load[(i, bucket)]} {bucket_label(bucket)}tasks "
                                f"this quarter (max {cap})"])
        else:
            eligible.append(i)
    return eligible, excluded


def choose_item(t: Mapping, obj: Mapping, joint: str, seed: str, items: Mapping[str, Mapping],
                inspectors: Mapping[str, Mapping], eligible: Sequence[str],
                excluded: Sequence, pool_size: int, params: Mapping[str, Any]) -> tuple[str, str]:
    """The item with the smallest ticket among the usable ones, and its ticket (hex)."""
    tid = t["task_id"]
    lines = {inspectors[i]["business_line"] for i in eligible}
    departmental = joint == "inter_departmental"
    cands = applicable_items(items, obj["industry"], departmental)
    usable = [c for c in cands if not params["require_match"]
              or items[c]["business_line"] in lines]
    if not usable:
        kind = "with a partner department " if departmental else ""
        raise InfeasibleError(
            f"task {tid} ({t['uscc']}, industry {obj['industry']}): constraint "
            f"'item with an eligible inspector of its business line': {len(cands)} "
            f"applicable item(s) {kind}({', '.join(cands) or 'none'}), eligible inspectors "
            f"cover the lines {', '.join(sorted(lines)) or 'none'} "
            f"({len(eligible)} eligible of {pool_size}; "
            f"{len(excluded)} recused or at cap)")
    item_tickets = {c: _digest(f"{seed}|item|{tid}|{c}") for c in usable}
    item_id = min(usable, key=lambda c: item_tickets[c])
    return item_id, item_tickets[item_id].hex()


def choose_team(t: Mapping, item: Mapping, joint: str, seed: str,
                inspectors: Mapping[str, Mapping], eligible: Sequence[str],
                excluded: Sequence[Sequence[str]], pool_size: int, params: Mapping[str, Any]
                ) -> tuple[list[str], dict[str, bytes]]:
    """The team by inspector tickets (see the module docstring) and the tickets."""
    tid = t["task_id"]
    tickets = {i: _digest(f"{seed}|inspector|{tid}|{i}") for i in eligible}
    by_ticket = sorted(eligible, key=lambda i: tickets[i])
    team: list[str] = []
    need = params["min_inspectors"]
    if params["require_match"]:
        # Exists: the item was chosen among the lines eligible inspectors cover.
        team.append(next(i for i in by_ticket
                         if inspectors[i]["business_line"] == item["business_line"]))
    elif by_ticket:
        team.append(by_ticket[0])
    if joint == "internal" and team:
        base_line = inspectors[team[0]]["business_line"]
        other = [i for i in by_ticket if inspectors[i]["business_line"] != base_line]
        if not other:
            raise InfeasibleError(
                f"task {tid} ({t['uscc']}): constraint 'internal joint inspection across "
                f">= 2 business lines': no eligible inspector outside the line "
                f"{base_line} ({len(eligible)} eligible of {pool_size}, all "
                f"of that line)")
        team.append(other[0])
    for i in by_ticket:
        if len(team) >= need:
            break
        if i not in team:
            team.append(i)
    if len(team) < need:
        reasons: dict[str, int] = {}
        for _, why in excluded:
            key = why.split(":", 1)[0]
            reasons[key] = reasons.get(key, 0) + 1
        detail = ", ".join(f"{n} {k}" for k, n in sorted(reasons.items())) or "none"
        raise InfeasibleError(
            f"task {tid} ({t['uscc']}): constraint 'at least {need} certified, active "
            f"inspectors': {len(eligible)} eligible of {pool_size} in the pool "
            f"of {t['unit']} (excluded: {detail})")
    return team, tickets


def choose_expert(t: Mapping, obj: Mapping, item_id: str, item: Mapping, seed: str,
                  experts: Mapping[str, Mapping]) -> tuple[str, str, str]:
    """(expert id, ticket, reason) where the item needs an expert; blanks otherwise."""
    if not item["needs_expert"]:
        return "", "", ""
    tid = t["task_id"]
    matching = [e for e in sorted(experts) if obj["industry"] in experts[e]["industries"]]
    pool = matching or sorted(experts)
    if not pool:
        raise InfeasibleError(
            f"task {tid} ({t['uscc']}): constraint 'expert for item {item_id}': the "
            "expert register is empty")
    e_tickets = {e: _digest(f"{seed}|expert|{tid}|{e}") for e in pool}
    expert_id = min(pool, key=lambda e: e_tickets[e])
    reason = ("industry match" if matching
              else f"no expert of {obj['industry']}: drawn from all experts")
    return expert_id, e_tickets[expert_id].hex(), reason


def _task_record(t: Mapping, joint: str, method: tuple[str, str, str], item_id: str,
                 item_ticket: str, item: Mapping, team: Sequence[str],
                 tickets: Mapping[str, bytes], inspectors: Mapping[str, Mapping],
                 pool_size: int, n_eligible: int, excluded: list,
                 expert: tuple[str, str, str]) -> dict:
    team_lines = {inspectors[i]["business_line"] for i in team}
    if joint == "inter_departmental":
        joint_type = "inter_departmental"
    elif len(team_lines) >= 2:
        joint_type = "internal"
    else:
        joint_type = "none"
    return {
        **{k: t[k] for k in ("task_id", "quarter", "unit", "level", "uscc", "stratum",
                             "category", "subset", "credit_class", "kind", "ticket",
                             "inclusion_probability", "draw_mode", "origin")},
        "merged_with": t.get("merged_with", ""),
        "designation": joint or "none",
        "item_id": item_id, "item_ticket": item_ticket,
        "method": method[0], "method_detail": method[1], "method_reason": method[2],
        "joint_type": joint_type,
        "partner_department": item["department"] if joint_type == "inter_departmental" else "",
        "team": [[i, tickets[i].hex()] for i in team],
        "pool_size": pool_size, "eligible_count": n_eligible,
        "excluded_inspectors": excluded,
        "expert_id": expert[0], "expert_ticket": expert[1], "expert_reason": expert[2],
    }


def _designate(tasks: Sequence[dict], seed: str, params: Mapping[str, Any],
               items: Mapping[str, Mapping], objects: Mapping[str, Mapping]) -> dict[str, str]:
    """Task id -> 'inter_departmental' or 'internal' (untargeted draws only)."""
    out: dict[str, str] = {}
    by_unit: dict[str, list[dict]] = {}
    for t in tasks:
        if t["draw_mode"] == "untargeted":
            by_unit.setdefault(t["unit"], []).append(t)
    for unit, unit_tasks in by_unit.items():
        n_dept = params["inter_departmental_per_quarter"]
        cands = [t for t in unit_tasks if t["kind"] == "random"
                 and applicable_items(items, objects[t["uscc"]]["industry"], True)]
        if n_dept > len(cands):
            raise InfeasibleError(
                f"unit {unit}: constraint 'at least {n_dept} inter-departmental joint "
                f"task(s) per quarter' (R5): only {len(cands)} randomly drawn task(s) have an "
                "item with a partner department")
        cands.sort(key=lambda t: _digest(f"{seed}|interdept|{t['task_id']}"))
        for t in cands[:n_dept]:
            out[t["task_id"]] = "inter_departmental"
        n_internal = int(math.ceil(round(params["internal_min_share"] * len(unit_tasks), 9)))
        rest = [t for t in unit_tasks if t["task_id"] not in out]
        rest.sort(key=lambda t: _digest(f"{seed}|joint|{t['task_id']}"))
        for t in rest[:n_internal]:
            out[t["task_id"]] = "internal"
    return out


def _bucket(method: str, params: Mapping) -> str:
    """Which per-quarter cap a task counts against."""
    return "offsite" if params["offsite_cap"] is not None and method == "offsite" else "main"


def bucket_label(bucket: str) -> str:
    return "off-site " if bucket == "offsite" else ""


def _method(task: Mapping, obj: Mapping, joint: str, params: Mapping) -> tuple[str, str, str]:
    """(method, method_detail, reason) per R6; ``joint`` is the task's designation."""
    if task["origin"] in params["onsite_triggers"]:
        return "onsite", "onsite", f"origin {task['origin']}: on-site trigger (R6)"
    if joint == "inter_departmental":
        return "onsite", "onsite", "inter-departmental joint visit (R5)"
    if task.get("merged_with"):
        return "onsite", "onsite", f"joint visit merged with {task['merged_with']} (R4)"
    if task["kind"] == "offsite_full":
        if obj["offsite_capable"]:
            return "offsite", "technology", "positive list: off-site coverage (R4, R6)"
        return "offsite", "other", "positive list without off-site facilities: other check (R4, R6)"
    if params["offsite_first"] and obj["offsite_capable"]:
        return "offsite", "technology", "off-site capable: technology check first (R6)"
    return "onsite", "onsite", "off-site facilities incomplete: on-site (R6)"
