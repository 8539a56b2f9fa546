#!/usr/bin/env python3
"""Replay a draw record of format dsr-draw-record/1 (Python standard library only).

    python3 scripts/replay_draw_v1.py record.json [--frame frame.csv]

Format 1 (draws made until 2026-12) split each quota into per-credit-class sub-quotas and
filled each by the smallest tickets. ``scripts/replay_draw.py`` replays format 2 and hands
format-1 records to this script, whose algorithm stays as it was so that old ledgers still
verify (format 2 reuses its input checks and staffing replay, which did not change).

Independently of the dsr_analysis package, this script re-derives the seed from the seed
material and the input hashes, recomputes every object ticket and which objects fill each
stratum's quota (after the recorded overlap control, which it re-derives from the record's
history), rebuilds the task list, and re-runs the staffing rules (items, methods, joint
designations, recusal, caps, teams, experts). With ``--frame`` it also checks that the
published canonical enterprise frame hashes to the record's ``frame_sha256``.

Exit status 0 when everything matches; 1 naming the first mismatching field otherwise.
The algorithm is documented in docs/reference/draws.md ("The algorithm").
"""

import argparse
import hashlib
import json
import math
import sys

ALL = "全部"


class Mismatch(Exception):
    pass


def H(text):
    return hashlib.sha256(text.encode("utf-8")).digest()


def expect(where, recorded, replayed):
    if recorded != replayed:
        raise Mismatch(f"{where}: record has {json.dumps(recorded, ensure_ascii=False)[:200]}, "
                       f"replay gives {json.dumps(replayed, ensure_ascii=False)[:200]}")


def previous_quarter(label):
    year, q = int(label[:4]), int(label[5])
    return f"{year - 1}Q4" if q == 1 else f"{year}Q{q - 1}"


def qkey(label):
    return int(label[:4]), int(label[5])


def replay_strata(rec, seed):
    """Check every stratum; return the task skeletons in canonical order."""
    inp = rec["inputs"]
    quarter, year = rec["quarter"], int(rec["quarter"][:4])
    draw = inp["policy"]["draw"]
    levels = inp["unit_levels"]
    origin = inp["origin"]
    exempt = set(draw["cap_exemptions"])
    hist = inp["history"]["tasks"]  # [quarter, unit, uscc, task_id, ids, origin, method]
    count, rounds = {}, {}
    for hq, unit, uscc, _tid, _ids, horigin, _m in hist:
        if int(hq[:4]) != year:
            continue
        rounds[(unit, uscc)] = rounds.get((unit, uscc), 0) + 1
        if horigin not in exempt:
            count[(unit, uscc)] = count.get((unit, uscc), 0) + 1
    drawn_q = {"area": {}, "county": {}}
    for hq, unit, uscc, tid, _ids, _o, _m in hist:
        if hq == quarter and unit in levels:
            drawn_q[levels[unit]].setdefault(uscc, tid)
    capped = draw["overlap"] == "yearly_cap" and origin not in exempt
    targeted = inp["draw_mode"] == "targeted"
    # Drawing order: counties first (in the record's order), then the area level.
    expect("units (drawing order)", rec["units"],
           sorted(rec["units"], key=lambda u: (levels[u] != "county", rec["units"].index(u))))
    skeletons = []
    strata = rec["strata"]
    for unit in rec["units"]:
        level = levels[unit]
        other = "county" if level == "area" else "area"
        seq = 0
        unit_tasks = []
        for i, s in enumerate(strata):
            if s["unit"] != unit:
                continue
            where = f"strata[{i}] ({unit} {s['stratum']})"
            label = f"{s['category']}/{s['subset']}/{s['credit_class']}"
            expect(where + ".stratum", s["stratum"], label)
            cands = s["candidates"]
            expect(where + ".candidates (sorted, unique)", cands, sorted(set(cands)))
            expect(where + ".population", s["population"], len(cands))
            excluded, eligible = [], list(cands)
            if draw["between_levels"] == "avoid" and level == "area":
                keep = []
                for c in eligible:
                    if c in drawn_q[other]:
                        excluded.append([c, f"between_levels: drawn this quarter by "
                                            f"{drawn_q[other][c]}"])
                    else:
                        keep.append(c)
                eligible = keep
            if capped and s["method"] != "offsite_full":
                keep = []
                for c in eligible:
                    n = count.get((unit, c), 0)
                    if n >= draw["yearly_cap"]:
                        excluded.append([c, f"yearly_cap: inspected {n} times in {year} "
                                            f"(cap {draw['yearly_cap']})"])
                    else:
                        keep.append(c)
                eligible = keep
            expect(where + ".excluded", s["excluded"], sorted(excluded))
            expect(where + ".eligible_count", s["eligible_count"], len(eligible))
            if s["method"] == "offsite_full":
                picked = [[c, ""] for c in eligible]
                probs = {c: 1.0 for c in eligible}
            else:
                k = min(s["quota"], len(eligible))
                rot = draw["overlap"] == "rotation"
                r_of = {c: (rounds.get((unit, c), 0) if rot else 0) for c in eligible}
                expect(where + ".rounds", s["rounds"],
                       {c: r for c, r in r_of.items() if r} if rot else {})
                tickets = {c: H(f"{seed}|{unit}|{s['stratum']}|{c}") for c in eligible}
                order = sorted(eligible, key=lambda c: (r_of[c], int(tickets[c].hex(), 16)))
                picked = [[c, tickets[c].hex()] for c in order[:k]]
                group_p, left = {}, k
                for r in sorted(set(r_of.values())):
                    n = sum(1 for v in r_of.values() if v == r)
                    take = min(left, n)
                    group_p[r] = take / n
                    left -= take
                if not rot:
                    group_p = {0: (k / len(eligible)) if eligible else 0.0}
                expect(where + ".inclusion_probability", s["inclusion_probability"],
                       {str(r): p for r, p in group_p.items()})
                probs = {c: group_p[r_of[c]] for c in eligible}
            expect(where + ".drawn", s["drawn"], picked)
            for code, ticket in picked:
                seq += 1
                camp = inp["campaign"] or "T"
                tid = (f"{quarter}-{unit}-{seq:04d}" if not targeted
                       else f"{quarter}-{unit}-{camp}-{seq:04d}")
                unit_tasks.append({
                    "task_id": tid, "quarter": quarter, "unit": unit, "level": level,
                    "uscc": code, "stratum": label, "category": s["category"],
                    "subset": s["subset"], "credit_class": s["credit_class"],
                    "kind": "offsite_full" if s["method"] == "offsite_full" else "random",
                    "ticket": ticket, "inclusion_probability": probs[code],
                    "draw_mode": inp["draw_mode"], "origin": origin, "merged_with": ""})
        for t in unit_tasks:
            drawn_q[level].setdefault(t["uscc"], t["task_id"])
        skeletons.extend(unit_tasks)
    if draw["between_levels"] == "merge":
        county = {t["uscc"]: t["task_id"] for t in skeletons if t["level"] == "county"}
        for hq, unit, uscc, tid, _i, _o, _m in hist:
            if hq == quarter and levels.get(unit) == "county":
                county.setdefault(uscc, tid)
        area = {t["uscc"]: t["task_id"] for t in skeletons if t["level"] == "area"}
        for t in skeletons:
            if t["level"] == "area" and t["uscc"] in county:
                t["merged_with"] = county[t["uscc"]]
            elif t["level"] == "county" and t["uscc"] in area:
                t["merged_with"] = area[t["uscc"]]
    return skeletons


def items_for(items, industry, departmental):
    return [i for i in sorted(items) if bool(items[i]["department"]) == departmental
            and (ALL in items[i]["applies_to"] or industry in items[i]["applies_to"])]


def method_of(t, obj, joint, methods):
    if t["origin"] in methods["onsite_triggers"]:
        return "onsite", "onsite", f"origin {t['origin']}: on-site trigger (R6)"
    if joint == "inter_departmental":
        return "onsite", "onsite", "inter-departmental joint visit (R5)"
    if t["merged_with"]:
        return "onsite", "onsite", f"joint visit merged with {t['merged_with']} (R4)"
    if t["kind"] == "offsite_full":
        if obj["offsite_capable"]:
            return "offsite", "technology", "positive list: off-site coverage (R4, R6)"
        return "offsite", "other", "positive list without off-site facilities: other check (R4, R6)"
    if methods["offsite_first"] and obj["offsite_capable"]:
        return "offsite", "technology", "off-site capable: technology check first (R6)"
    return "onsite", "onsite", "off-site facilities incomplete: on-site (R6)"


def replay_staffing(rec, seed, skeletons):
    inp = rec["inputs"]
    pol = inp["policy"]
    st, jo, me = pol["staffing"], pol["joint"], pol["methods"]
    across = pol["draw"]["area_inspectors_across_units"]
    ins, items, experts, objects = (inp["inspectors"], inp["items"], inp["experts"],
                                    inp["objects"])
    levels = inp["unit_levels"]
    quarter = rec["quarter"]
    offsite_cap = st.get("max_offsite_tasks_per_inspector_per_quarter")

    def bucket(method):
        return "offsite" if offsite_cap is not None and method == "offsite" else "main"

    window = set()
    if st["recusal_quarters"] > 0:
        q = quarter
        window.add(q)
        for _ in range(st["recusal_quarters"]):
            q = previous_quarter(q)
            window.add(q)
    recent, load = {}, {}
    for hq, _u, uscc, tid, ids, _o, method in inp["history"]["tasks"]:
        ids = [i for i in ids.split(";") if i]
        if hq in window:
            recent.setdefault(uscc, []).append((tid, ids))
        if hq == quarter:
            for i in ids:
                load[(i, bucket(method))] = load.get((i, bucket(method)), 0) + 1
    # Joint designations (untargeted draws only), per unit.
    designation = {}
    by_unit = {}
    for t in skeletons:
        if t["draw_mode"] == "untargeted":
            by_unit.setdefault(t["unit"], []).append(t)
    for unit, ts in by_unit.items():
        n = jo["inter_departmental_per_quarter"]
        cands = [t for t in ts if t["kind"] == "random"
                 and items_for(items, objects[t["uscc"]]["industry"], True)]
        if n > len(cands):
            raise Mismatch(f"unit {unit}: fewer than {n} tasks can be inter-departmental, "
                           "yet the draw was recorded")
        cands.sort(key=lambda t: H(f"{seed}|interdept|{t['task_id']}"))
        for t in cands[:n]:
            designation[t["task_id"]] = "inter_departmental"
        n_int = int(math.ceil(round(jo["internal_min_share"] * len(ts), 9)))
        rest = sorted((t for t in ts if t["task_id"] not in designation),
                      key=lambda t: H(f"{seed}|joint|{t['task_id']}"))
        for t in rest[:n_int]:
            designation[t["task_id"]] = "internal"

    out = []
    for t in skeletons:
        tid, obj = t["task_id"], objects[t["uscc"]]
        joint = designation.get(tid, "")
        method, detail, why = method_of(t, obj, joint, me)
        b = bucket(method)
        cap = offsite_cap if b == "offsite" else st["max_tasks_per_inspector_per_quarter"]
        pool = [i for i in sorted(ins) if ins[i]["certified"] and ins[i]["active"]
                and ((levels[t["unit"]] == "area" and across) or ins[i]["unit"] == t["unit"])]
        excluded, eligible = [], []
        past = recent.get(t["uscc"], [])
        for i in pool:
            if t["uscc"] in ins[i]["conflicts"]:
                excluded.append([i, f"conflict: declared conflict with {t['uscc']}"])
            elif st["recuse_own_unit"] and ins[i]["unit"] == obj["unit"]:
                excluded.append([i, f"own_unit: object belongs to {obj['unit']}"])
            elif any(i in ids for _, ids in past):
                which = next(x for x, ids in past if i in ids)
                excluded.append([i, f"recent: inspected {t['uscc']} in {which}"])
            elif load.get((i, b), 0) >= cap:
                label = "off-site " if b == "offsite" else ""
                excluded.append([i, f"cap: {load[(i, b)]} {label}tasks this quarter (max {cap})"])
            else:
                eligible.append(i)
        lines = {ins[i]["business_line"] for i in eligible}
        usable = [c for c in items_for(items, obj["industry"], joint == "inter_departmental")
                  if not st["require_business_line_match"] or items[c]["business_line"] in lines]
        if not usable:
            raise Mismatch(f"task {tid}: no usable item on replay, yet the draw was recorded")
        item_t = {c: H(f"{seed}|item|{tid}|{c}") for c in usable}
        item_id = min(usable, key=lambda c: item_t[c])
        item = items[item_id]
        tick = {i: H(f"{seed}|inspector|{tid}|{i}") for i in eligible}
        order = sorted(eligible, key=lambda i: tick[i])
        team = []
        if st["require_business_line_match"]:
            team.append(next(i for i in order if ins[i]["business_line"] == item["business_line"]))
        elif order:
            team.append(order[0])
        if joint == "internal" and team:
            base = ins[team[0]]["business_line"]
            team.append(next(i for i in order if ins[i]["business_line"] != base))
        for i in order:
            if len(team) >= st["min_inspectors_per_task"]:
                break
            if i not in team:
                team.append(i)
        for i in team:
            load[(i, b)] = load.get((i, b), 0) + 1
        recent.setdefault(t["uscc"], []).append((tid, team))
        team_lines = {ins[i]["business_line"] for i in team}
        joint_type = ("inter_departmental" if joint == "inter_departmental"
                      else "internal" if len(team_lines) >= 2 else "none")
        expert_id = expert_ticket = expert_reason = ""
        if item["needs_expert"]:
            match = [e for e in sorted(experts) if obj["industry"] in experts[e]["industries"]]
            epool = match or sorted(experts)
            et = {e: H(f"{seed}|expert|{tid}|{e}") for e in epool}
            expert_id = min(epool, key=lambda e: et[e])
            expert_ticket = et[expert_id].hex()
            expert_reason = ("industry match" if match
                             else f"no expert of {obj['industry']}: drawn from all experts")
        out.append(dict(t, designation=joint or "none", item_id=item_id,
                        item_ticket=item_t[item_id].hex(), method=method, method_detail=detail,
                        method_reason=why, joint_type=joint_type,
                        partner_department=(item["department"]
                                            if joint_type == "inter_departmental" else ""),
                        team=[[i, tick[i].hex()] for i in team], pool_size=len(pool),
                        eligible_count=len(eligible), excluded_inspectors=excluded,
                        expert_id=expert_id, expert_ticket=expert_ticket,
                        expert_reason=expert_reason))
    return out


def check_inputs(rec, frame_path=None):
    """The published frame (with --frame), the policy hash and the seed; returns the seed."""
    inp = rec["inputs"]
    if frame_path:
        with open(frame_path, "rb") as fh:
            got = hashlib.sha256(fh.read()).hexdigest()
        expect("inputs.frame_sha256 (against --frame)", inp["frame_sha256"], got)
    expect("inputs.policy_sha256", inp["policy_sha256"], inp["policy"]["sha256"])
    seed = hashlib.sha256(f"{inp['seed_material']}|{inp['frame_sha256']}|"
                          f"{inp['policy_sha256']}|{rec['quarter']}".encode()).hexdigest()
    expect("inputs.seed", inp["seed"], seed)
    return seed


def compare_tasks(rec, tasks):
    """The record's tasks against the replayed ones, field by field."""
    expect("number of tasks", len(rec["tasks"]), len(tasks))
    for i, (a, b) in enumerate(zip(rec["tasks"], tasks, strict=False)):
        for key in sorted(set(a) | set(b)):
            expect(f"tasks[{i}] ({b['task_id']}).{key}", a.get(key), b.get(key))


def replay(rec, frame_path=None):
    """Replay a record (a dict); raise Mismatch naming the first difference."""
    seed = check_inputs(rec, frame_path)
    tasks = replay_staffing(rec, seed, replay_strata(rec, seed))
    compare_tasks(rec, tasks)
    return seed, tasks


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("record", help="record.json of a draw")
    ap.add_argument("--frame", help="published canonical enterprise frame (frame.csv) to check")
    args = ap.parse_args(argv)
    with open(args.record, encoding="utf-8") as fh:
        rec = json.load(fh)
    try:
        seed, tasks = replay(rec, args.frame)
    except Mismatch as exc:
        print(f"MISMATCH in {args.record}: {exc}", file=sys.stderr)
        return 1
    drawn = sum(len(s["drawn"]) for s in rec["strata"])
    print(f"replayed {args.record}: quarter {rec['quarter']}, seed {seed}")
    print(f"  {len(rec['strata'])} strata, {drawn} objects drawn, {len(tasks)} tasks with "
          f"items, methods and teams: all match the record")
    return 0


if __name__ == "__main__":
    sys.exit(main())
