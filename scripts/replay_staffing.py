#!/usr/bin/env python3
"""Replay the staffing of a draw record (format dsr-draw-record/3; Python standard library only).

    from replay_staffing import replay_staffing
    tasks = replay_staffing(rec, seed, skeletons)

``skeletons`` are the drawn tasks in canonical order (``replay_strata`` of
``scripts/replay_draw.py``); the result is the record's ``tasks`` as the algorithm gives
them, to be compared field by field (``compare_tasks``). Everything is recomputed from the
record's plain tables (``inputs``: ``inspectors``, ``items``, ``experts``, ``objects``,
``unit_levels``, ``history.tasks``, ``policy.{staffing, joint, methods, draw}``): joint
designations, methods, eligibility (recusal, caps), items, the O(k) inspector picks with
their skipped picks, and experts.

The algorithm (the module docstring of ``dsr_analysis.draw.staffing`` states it in full):

0. State: inspectors of each object in the recusal window, load per inspector and cap
   bucket (``offsite`` when an off-site cap is set and the task is off-site, else ``main``);
   pools P(U) (certified, active; the area level every unit's when
   ``area_inspectors_across_units``) and P(U, line), sorted by id.
1. Designations per unit (untargeted draws): inter-departmental by the smallest
   SHA-256("{seed}|interdept|{task_id}"); internal joint: tasks with applicable items of >= 2
   lines (positive-list ``offsite_full`` tasks only when ``joint.count_offsite``), ordered by
   (not on-site before designation, SHA-256("{seed}|joint|{task_id}")), the first
   ceil(internal_min_share x tasks).
2. Method (R6), designated internal joint tasks on-site unless ``joint.count_offsite``.
3. Eligibility: in_team, conflict, own_unit, recent, cap (the first reason that applies).
4. Picks: from a sorted candidate list C with a text prefix X and a counter j, up to
   min(4 len(C), 16) attempts C[int(SHA-256(X + str(j))) mod len(C)] (each j once; a
   rejected attempt is recorded as [j, id, reason]), then E[int(SHA-256(X + str(j))) mod
   len(E)] of the accepted candidates E.
5. Items (X = "{seed}|item|{task_id}|", j from 0): the primary among the applicable items,
   rejecting those whose line has no eligible inspector (when a match is required); an
   internal joint task adds one of another line with an eligible inspector.
6. Team (X = "{seed}|inspector|{task_id}|", j from 0 across the picks): one pick per
   joint item's line (else the primary's line when a match is required) from P(U, line),
   then picks from P(U) until the minimum.
7. Expert where an item needs one: the smallest SHA-256("{seed}|expert|{task_id}|{id}") among
   experts of the object's industry (all if none).
"""

import hashlib
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
try:  # the replay scripts share one exception (replay_draw.py catches it)
    from replay_draw_v1 import Mismatch
except ImportError:  # pragma: no cover - this file alone
    class Mismatch(Exception):
        pass

ALL = "全部"
MAX_ATTEMPTS = 16


def H(text):
    return hashlib.sha256(text.encode("utf-8")).digest()


def big(digest):
    return int.from_bytes(digest, "big")


def previous_quarter(label):
    year, q = int(label[:4]), int(label[5])
    return f"{year - 1}Q4" if q == 1 else f"{year}Q{q - 1}"


def items_for(items, industry, departmental):
    return [i for i in sorted(items) if bool(items[i]["department"]) == departmental
            and (ALL in items[i]["applies_to"] or industry in items[i]["applies_to"])]


def method_of(t, obj, joint, methods, count_offsite):
    if t["origin"] == "follow_up":  # a re-inspection (复查): always a site visit
        return "onsite", "onsite", "re-inspection (复查) of a rectification order: on-site (R7)"
    if t["origin"] in methods["onsite_triggers"]:
        return "onsite", "onsite", f"origin {t['origin']}: on-site trigger (R6)"
    if joint == "inter_departmental":
        return "onsite", "onsite", "inter-departmental joint visit (R5)"
    if t["merged_with"]:
        return "onsite", "onsite", f"joint visit merged with {t['merged_with']} (R4)"
    if joint == "internal" and not count_offsite:
        return "onsite", "onsite", "internal joint visit: several business lines, one visit (R5)"
    if t["kind"] == "offsite_full":
        if obj["offsite_capable"]:
            return "offsite", "technology", "positive list: off-site coverage (R4, R6)"
        return "offsite", "other", "positive list without off-site facilities: other check (R4, R6)"
    if methods["offsite_first"] and obj["offsite_capable"]:
        return "offsite", "technology", "off-site capable: technology check first (R6)"
    return "onsite", "onsite", "off-site facilities incomplete: on-site (R6)"


def designations(skeletons, seed, items, objects, joint, methods):
    """Task id -> inter_departmental / internal (step 1)."""
    count_offsite = joint.get("count_offsite", False)
    out, by_unit = {}, {}
    for t in skeletons:
        if t["draw_mode"] == "untargeted":
            by_unit.setdefault(t["unit"], []).append(t)
    for unit, ts in by_unit.items():
        n = joint["inter_departmental_per_quarter"]
        cands = [t for t in ts if t["kind"] == "random"
                 and items_for(items, objects[t["uscc"]]["industry"], True)]
        if n > len(cands):
            raise Mismatch(f"unit {unit}: fewer than {n} tasks can be inter-departmental, "
                           "yet the draw was recorded")
        cands.sort(key=lambda t: H(f"{seed}|interdept|{t['task_id']}"))
        for t in cands[:n]:
            out[t["task_id"]] = "inter_departmental"
        n_int = int(math.ceil(round(joint["internal_min_share"] * len(ts), 9)))
        rest = []
        for t in ts:
            lines = {items[c]["business_line"]
                     for c in items_for(items, objects[t["uscc"]]["industry"], False)}
            if (t["task_id"] not in out and len(lines) >= 2
                    and (count_offsite or t["kind"] != "offsite_full")):
                onsite = method_of(t, objects[t["uscc"]], "", methods, count_offsite)[0]
                rest.append(((onsite != "onsite", H(f"{seed}|joint|{t['task_id']}")), t))
        rest.sort(key=lambda p: p[0])
        for _key, t in rest[:n_int]:
            out[t["task_id"]] = "internal"
    return out


def replay_staffing(rec, seed, skeletons):
    """The staffed tasks (record form) of the skeletons, by the algorithm above."""
    inp = rec["inputs"]
    pol = inp["policy"]
    st, jo, me = pol["staffing"], pol["joint"], pol["methods"]
    count_offsite = jo.get("count_offsite", False)
    across = pol["draw"]["area_inspectors_across_units"]
    ins, items, experts, objects = (inp["inspectors"], inp["items"], inp["experts"],
                                    inp["objects"])
    levels = inp["unit_levels"]
    quarter = rec["quarter"]
    offsite_cap = st.get("max_offsite_tasks_per_inspector_per_quarter")
    need = st["min_inspectors_per_task"]

    def bucket(method):
        return "offsite" if offsite_cap is not None and method == "offsite" else "main"

    # Step 0: recusal window, load, pools.
    window = set()
    if st["recusal_quarters"] > 0:
        q = quarter
        window.add(q)
        for _ in range(st["recusal_quarters"]):
            q = previous_quarter(q)
            window.add(q)
    recent, load = {}, {}
    for hq, _u, uscc, _tid, ids, _o, method in inp["history"]["tasks"]:
        ids = [i for i in ids.split(";") if i]
        if hq in window:
            recent.setdefault(uscc, set()).update(ids)
        if hq == quarter:
            for i in ids:
                load[(i, bucket(method))] = load.get((i, bucket(method)), 0) + 1
    pools, line_pools = {}, {}
    for t in skeletons:
        u = t["unit"]
        if u not in pools:
            pools[u] = [i for i in sorted(ins) if ins[i]["certified"] and ins[i]["active"]
                        and ((levels[u] == "area" and across) or ins[i]["unit"] == u)]
            line_pools[u] = {}
            for i in pools[u]:
                line_pools[u].setdefault(ins[i]["business_line"], []).append(i)

    designation = designations(skeletons, seed, items, objects, jo, me)
    out = []
    for t in skeletons:
        tid, uscc, obj = t["task_id"], t["uscc"], objects[t["uscc"]]
        joint = designation.get(tid, "")
        method, detail, why = method_of(t, obj, joint, me, count_offsite)
        b = bucket(method)
        cap = offsite_cap if b == "offsite" else st["max_tasks_per_inspector_per_quarter"]
        past = recent.setdefault(uscc, set())
        pool = pools[t["unit"]]

        def reason(i, team, uscc=uscc, obj=obj, past=past, b=b, cap=cap):
            # Step 3: the first reason that excludes inspector i, None when eligible.
            if i in team:
                return "in_team"
            if uscc in ins[i]["conflicts"]:
                return "conflict"
            if st["recuse_own_unit"] and ins[i]["unit"] == obj["unit"]:
                return "own_unit"
            if i in past:
                return "recent"
            if load.get((i, b), 0) >= cap:
                return "cap"
            return None

        def of_line(line, lines=line_pools[t["unit"]]):
            return lines.get(line, [])

        def line_has_eligible(line):
            return any(reason(i, ()) is None for i in of_line(line))

        def pick(cands, prefix, j, reject, skipped, tid=tid):
            # Step 4: up to min(4n, 16) attempts, then the accepted candidates.
            n = len(cands)
            for _ in range(min(4 * n, MAX_ATTEMPTS)):
                c = cands[big(H(f"{prefix}{j}")) % n]
                r = reject(c)
                if r is None:
                    return [c, j, "pool"], j + 1
                skipped.append([j, c, r])
                j += 1
            accepted = [c for c in cands if reject(c) is None]
            if not accepted:
                raise Mismatch(f"task {tid}: a pick finds no candidate on replay ({prefix}), "
                               "yet the draw was recorded")
            return [accepted[big(H(f"{prefix}{j}")) % len(accepted)], j, "eligible"], j + 1

        # Step 5: items.
        cands = items_for(items, obj["industry"], joint == "inter_departmental")
        item_prefix = f"{seed}|item|{tid}|"
        item_skipped = []

        def primary_ok(c):
            if not st["require_business_line_match"]:
                return None
            return None if line_has_eligible(items[c]["business_line"]) else "no_inspector"

        first, k = pick(cands, item_prefix, 0, primary_ok, item_skipped)
        chosen = [first]
        if joint == "internal":
            base = items[first[0]]["business_line"]

            def second_ok(c, base=base):
                if items[c]["business_line"] == base:
                    return "same_line"
                return None if line_has_eligible(items[c]["business_line"]) else "no_inspector"

            second, k = pick(cands, item_prefix, k, second_ok, item_skipped)
            chosen.append(second)
        item_ids = [c[0] for c in chosen]

        # Step 6: team, one counter j across the picks.
        if joint == "internal":
            phases = [of_line(items[c]["business_line"]) for c in item_ids]
        elif st["require_business_line_match"]:
            phases = [of_line(items[item_ids[0]]["business_line"])]
        else:
            phases = []
        team, skipped, j = [], [], 0
        ins_prefix = f"{seed}|inspector|{tid}|"
        while phases or len(team) < need:
            cand = phases.pop(0) if phases else pool
            ids = [m[0] for m in team]
            member, j = pick(cand, ins_prefix, j, lambda i, ids=ids: reason(i, ids), skipped)
            team.append(member)
        for m in team:
            load[(m[0], b)] = load.get((m[0], b), 0) + 1
            past.add(m[0])

        # Step 7: expert.
        expert_id = expert_ticket = expert_reason = ""
        if any(items[c]["needs_expert"] for c in item_ids):
            match = [e for e in sorted(experts) if obj["industry"] in experts[e]["industries"]]
            epool = match or sorted(experts)
            if not epool:
                raise Mismatch(f"task {tid}: no expert on replay, yet the draw was recorded")
            et = {e: H(f"{seed}|expert|{tid}|{e}") for e in epool}
            expert_id = min(epool, key=lambda e: et[e])
            expert_ticket = et[expert_id].hex()
            expert_reason = ("industry match" if match
                             else f"no expert of {obj['industry']}: drawn from all experts")
        joint_type = joint or "none"
        out.append(dict(t, designation=joint_type, item_id=item_ids[0], items=chosen,
                        item_skipped=item_skipped, method=method,
                        method_detail=detail, method_reason=why, joint_type=joint_type,
                        partner_department=(items[item_ids[0]]["department"]
                                            if joint_type == "inter_departmental" else ""),
                        team=team, skipped=skipped, pool_size=len(pool),
                        expert_id=expert_id, expert_ticket=expert_ticket,
                        expert_reason=expert_reason))
    return out
