#!/usr/bin/env python3
"""Replay a draw record of format dsr-draw-record/2 (Python standard library only).

    python3 scripts/replay_draw_v2.py record.json [--frame frame.csv]

Records of format 2 (drawn until 2026-12) are replayed with the algorithm they were drawn
with; newer records with scripts/replay_draw.py.

Independently of the dsr_analysis package, this script re-derives the seed from the seed
material and the input hashes, re-applies the overlap control (from the record's history),
recomputes every stratum's inclusion probabilities per credit class, every object's ticket,
uniform and Pareto key and which objects fill the quota, rebuilds the task list, and re-runs
the staffing rules (items, methods, joint designations, recusal, caps, teams, experts). With
``--frame`` it also checks that the
published canonical enterprise frame hashes to the record's ``frame_sha256``.

Exit status 0 when everything matches; 1 naming the first mismatching field otherwise.
The algorithm is documented in docs/reference/draws.md ("The algorithm").
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# Format 2 changed the object draw only: the input checks, items, methods, joint designations,
# recusal and teams are replayed by the format-1 code, from the script beside this one.
from replay_draw_v1 import (H, Mismatch, check_inputs, compare_tasks, expect,  # noqa: E402
                            replay_staffing)

import replay_draw_v1  # noqa: E402

FORMAT = "dsr-draw-record/2"
CLASSES = ("A", "B", "C", "D")













def inclusion_probabilities(counts, quota, bases):
    """lambda per class (docs/reference/draws.md, step 7): iterative capping in IEEE-754 doubles."""
    n = min(quota, sum(counts))
    certain = [False] * len(counts)
    lam = [0.0] * len(counts)
    for _ in range(len(counts) + 1):
        free = [counts[j] > 0 and not certain[j] for j in range(len(counts))]
        n_rest = float(n - sum(counts[j] for j in range(len(counts)) if certain[j]))
        mass = 0.0
        for j in range(len(counts)):
            mass = mass + (float(counts[j]) * bases[j] if free[j] else 0.0)
        safe = mass if mass > 0 else 1.0
        lam = [(n_rest * bases[j]) / safe if free[j] else 0.0 for j in range(len(counts))]
        new = [free[j] and lam[j] >= 1.0 for j in range(len(counts))]
        if not any(new):
            break
        certain = [certain[j] or new[j] for j in range(len(counts))]
    return [1.0 if certain[j] else lam[j] for j in range(len(counts))]


def uniform(digest):
    """U = (2m + 1) / 2**53 with m the first 52 bits of the ticket."""
    return (2 * int(digest.hex()[:13], 16) + 1) / 2**53


def pareto_key(u, lam):
    """Q = (U / (1 - U)) / (lambda / (1 - lambda)); 0 when lambda = 1."""
    if lam >= 1.0:
        return 0.0
    return (u / (1.0 - u)) / (lam / (1.0 - lam))


def earlier_checks(hist, unit, year, levels, draw, exempt):
    """This year's earlier checks as `unit` counts them (scope unit or all_levels)."""
    scope = draw.get("overlap_scope", "unit")
    rounds, counted = {}, {}
    for hq, hunit, uscc, _tid, _ids, horigin, _m in hist:
        if int(hq[:4]) != year:
            continue
        if (scope == "unit" and hunit != unit) or (scope == "all_levels" and hunit not in levels):
            continue
        rounds[uscc] = rounds.get(uscc, 0) + 1
        if horigin not in exempt:
            counted[uscc] = counted.get(uscc, 0) + 1
    return rounds, counted


def replay_strata(rec, seed):
    """Check every stratum; return the task skeletons in canonical order."""
    inp = rec["inputs"]
    quarter, year = rec["quarter"], int(rec["quarter"][:4])
    draw = inp["policy"]["draw"]
    levels = inp["unit_levels"]
    origin = inp["origin"]
    # re-inspections (复查, origin follow_up; only in records of format 3) are never counted
    exempt = set(draw["cap_exemptions"]) | {"follow_up"}
    hist = inp["history"]["tasks"]  # [quarter, unit, uscc, task_id, ids, origin, method]
    drawn_q = {"area": {}, "county": {}}
    for hq, unit, uscc, tid, _ids, _o, _m in hist:
        if hq == quarter and unit in levels:
            drawn_q[levels[unit]].setdefault(uscc, tid)
    targeted = inp["draw_mode"] == "targeted"
    # Drawing order: counties first (in the record's order), then the area level.
    expect("units (drawing order)", rec["units"],
           sorted(rec["units"], key=lambda u: (levels[u] != "county", rec["units"].index(u))))
    skeletons = []
    strata = rec["strata"]
    for unit in rec["units"]:
        level = levels[unit]
        other = "county" if level == "area" else "area"
        rounds, counted = earlier_checks(hist, unit, year, levels, draw, exempt)
        unit_tasks = []
        for i, s in enumerate(strata):
            if s["unit"] != unit:
                continue
            where = f"strata[{i}] ({unit} {s['stratum']})"
            label = f"{s['category']}/{s['subset']}"
            expect(where + ".stratum", s["stratum"], label)
            expect(where + ".candidates (per credit class)", sorted(s["candidates"]), list(CLASSES))
            class_of = {c: k for k in CLASSES for c in s["candidates"][k]}
            for k in CLASSES:
                got = s["candidates"][k]
                expect(where + f".candidates.{k} (sorted, unique)", got, sorted(set(got)))
            cands = sorted(class_of)
            expect(where + ".candidates (each object once)", len(cands),
                   sum(len(v) for v in s["candidates"].values()))
            expect(where + ".population", s["population"], len(cands))
            excluded, eligible = [], []
            capped = (draw["overlap"] == "yearly_cap" and origin not in exempt
                      and s["method"] != "offsite_full")
            for c in cands:
                if draw["between_levels"] == "avoid" and level == "area" and c in drawn_q[other]:
                    excluded.append([c, f"between_levels: drawn this quarter by "
                                        f"{drawn_q[other][c]}"])
                elif capped and counted.get(c, 0) >= draw["yearly_cap"]:
                    excluded.append([c, f"yearly_cap: inspected {counted[c]} times in {year} "
                                        f"(cap {draw['yearly_cap']})"])
                else:
                    eligible.append(c)
            expect(where + ".excluded", s["excluded"], sorted(excluded))
            expect(where + ".eligible_count", s["eligible_count"], len(eligible))
            counts = [sum(1 for c in eligible if class_of[c] == k) for k in CLASSES]
            expect(where + ".eligible_by_class", s["eligible_by_class"], dict(zip(CLASSES, counts)))
            bases = [s["bases"][k] for k in CLASSES]
            if not s["credit_weighted"]:
                expect(where + ".bases (not credit-weighted: equal)", bases, [1.0] * 4)
            if s["method"] == "offsite_full":
                lam = [1.0 if n else 0.0 for n in counts]
                picked = [[c, "", 0.0] for c in eligible]
                r_of = {}
            else:
                lam = inclusion_probabilities(counts, s["quota"], bases)
                lam_of = dict(zip(CLASSES, lam))
                rot = draw["overlap"] == "rotation"
                r_of = {c: rounds.get(c, 0) for c in eligible} if rot else {}
                tickets = {c: H(f"{seed}|{unit}|{label}|{c}") for c in eligible}
                keys = {c: pareto_key(uniform(tickets[c]), lam_of[class_of[c]]) for c in eligible}
                order = sorted(eligible, key=lambda c: (r_of.get(c, 0), keys[c], tickets[c]))
                k = min(s["quota"], len(eligible))
                picked = [[c, tickets[c].hex(), keys[c]] for c in order[:k]]
            lam_of = dict(zip(CLASSES, lam))
            expect(where + ".rounds", s["rounds"], {c: r for c, r in r_of.items() if r})
            expect(where + ".inclusion_probability", s["inclusion_probability"], lam_of)
            expect(where + ".expected", s["expected"],
                   {k: n * lam_of[k] for k, n in zip(CLASSES, counts)})
            expect(where + ".drawn", s["drawn"], picked)
            for code, ticket, _key in picked:
                seq = len(unit_tasks) + 1
                camp = inp["campaign"] or "T"
                tid = (f"{quarter}-{unit}-{seq:04d}" if not targeted
                       else f"{quarter}-{unit}-{camp}-{seq:04d}")
                unit_tasks.append({
                    "task_id": tid, "quarter": quarter, "unit": unit, "level": level,
                    "uscc": code, "stratum": label, "category": s["category"],
                    "subset": s["subset"], "credit_class": class_of[code],
                    "kind": "offsite_full" if s["method"] == "offsite_full" else "random",
                    "ticket": ticket, "inclusion_probability": lam_of[class_of[code]],
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


def replay(rec, frame_path=None):
    """Replay a record (a dict); raise Mismatch naming the first difference.

    A record of format dsr-draw-record/1 is replayed by replay_draw_v1.py (its algorithm)."""
    if rec.get("format") == "dsr-draw-record/1":
        try:
            return replay_draw_v1.replay(rec, frame_path)
        except Mismatch as exc:
            raise Mismatch(f"(format 1) {exc}") from None
    expect("format", rec.get("format"), FORMAT)
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
    print(f"replayed {args.record} ({rec.get('format')}): quarter {rec['quarter']}, seed {seed}")
    print(f"  {len(rec['strata'])} strata, {drawn} objects drawn, {len(tasks)} tasks with "
          f"items, methods and teams: all match the record")
    return 0


if __name__ == "__main__":
    sys.exit(main())
