#!/usr/bin/env python3
"""Replay a published double-random draw from its record alone (Python standard library only).

    python3 scripts/replay_draw.py outputs/draws/2023Q1/public/record.json
        [--internal outputs/draws/2023Q1/internal/internal.json] [--frame frame.csv]
        [--ledger-digest SHA256]

Independently of the dsr_analysis package, this script re-derives the seed from the seed
material and the input hashes, re-applies the overlap control (from the record's history),
recomputes every stratum's inclusion probabilities per credit class, every object's ticket,
uniform and Pareto key and which objects fill the quota, and rebuilds the task list: the
public record alone checks the whole object draw. With ``--internal`` (the internal part,
released after the quarter's visits or handed to an auditor) it checks that the part is the
one the public record names and re-runs the staffing rules (items, methods, joint
designations, recusal, caps, teams, experts). ``--frame`` checks that a published canonical
enterprise frame hashes to the record's ``frame_sha256``; ``--ledger-digest`` that the
record's digest (SHA-256 of the public record file) is the one a published ledger lists.
Records of formats 1 and 2 are replayed by replay_draw_v1.py and replay_draw_v2.py.

A re-inspection draw (复查: origin ``follow_up``, ``inputs.follow_ups`` = unit -> the firms it
re-inspects, with the original task ids) takes every listed firm with certainty: per unit and
category one stratum ``{category}/follow_up`` whose quota is its population, no exclusion,
inclusion probability 1, Pareto key 0, so the tasks follow the tickets' order.

Exit status 0 when everything matches; 1 naming the first mismatching field otherwise.
The algorithm is documented in docs/reference/draws.md ("The algorithm").
"""

import argparse
import hashlib
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# The input checks and the task comparison are those of format 1; the object draw is that of
# format 2 (format 3 kept it); the staffing is format 3's (replay_staffing.py), all from the
# scripts beside this one.
from replay_draw_v1 import H, Mismatch, check_inputs, compare_tasks, expect  # noqa: E402
from replay_draw_v2 import replay_strata  # noqa: E402
from replay_staffing import replay_staffing  # noqa: E402

import replay_draw_v1  # noqa: E402
import replay_draw_v2  # noqa: E402

FORMAT = "dsr-draw-record/3"
SKELETON_KEYS = ("task_id", "quarter", "unit", "level", "uscc", "stratum", "category",
                 "subset", "credit_class", "kind", "ticket", "inclusion_probability",
                 "draw_mode", "origin", "merged_with")
PUBLIC_TASK_KEYS = {"task_id", "quarter", "unit", "level", "uscc", "stratum", "category",
                    "subset", "credit_class", "kind", "ticket", "inclusion_probability",
                    "draw_mode", "origin", "merged_with", "designation", "item_id",
                    "items", "method", "method_detail", "method_reason",
                    "joint_type", "partner_department"}


CLASSES = ("A", "B", "C", "D")
FOLLOW_UP = "follow_up"


def replay_follow_up_strata(rec, seed):
    """Check every stratum of a re-inspection draw; return the task skeletons in order."""
    inp = rec["inputs"]
    quarter, levels = rec["quarter"], inp["unit_levels"]
    follow_ups = inp["follow_ups"]
    expect("inputs.draw_mode", inp["draw_mode"], "targeted")
    expect("units (those with firms to re-inspect)", sorted(rec["units"]), sorted(follow_ups))
    expect("inputs.target (the firms to re-inspect)", inp["target"],
           {"uscc": sorted({c for firms in follow_ups.values() for c in firms})})
    expect("units (drawing order)", rec["units"],
           sorted(rec["units"], key=lambda u: (levels[u] != "county", rec["units"].index(u))))
    camp = inp["campaign"] or "T"
    skeletons = []
    for unit in rec["units"]:
        unit_tasks, seen = [], []
        for i, s in enumerate(rec["strata"]):
            if s["unit"] != unit:
                continue
            where = f"strata[{i}] ({unit} {s['stratum']})"
            expect(where + ".subset", s["subset"], FOLLOW_UP)
            label = f"{s['category']}/{FOLLOW_UP}"
            expect(where + ".stratum", s["stratum"], label)
            expect(where + ".credit_weighted", s["credit_weighted"], False)
            expect(where + ".bases", s["bases"], dict.fromkeys(CLASSES, 1.0))
            class_of = {c: k for k in CLASSES for c in s["candidates"][k]}
            for k in CLASSES:
                got = s["candidates"][k]
                expect(where + f".candidates.{k} (sorted, unique)", got, sorted(set(got)))
            cands = sorted(class_of)
            seen.extend(cands)
            expect(where + ".population", s["population"], len(cands))
            expect(where + ".quota (every firm)", s["quota"], len(cands))
            expect(where + ".excluded (none: a re-inspection is owed)", s["excluded"], [])
            expect(where + ".eligible_count", s["eligible_count"], len(cands))
            counts = {k: sum(1 for c in cands if class_of[c] == k) for k in CLASSES}
            expect(where + ".eligible_by_class", s["eligible_by_class"], counts)
            lam = {k: 1.0 if counts[k] else 0.0 for k in CLASSES}
            expect(where + ".inclusion_probability", s["inclusion_probability"], lam)
            expect(where + ".expected", s["expected"], {k: counts[k] * lam[k] for k in CLASSES})
            expect(where + ".rounds", s["rounds"], {})
            tickets = {c: H(f"{seed}|{unit}|{label}|{c}") for c in cands}
            order = sorted(cands, key=lambda c: tickets[c])
            picked = [[c, tickets[c].hex(), 0.0] for c in order]
            expect(where + ".drawn", s["drawn"], picked)
            for code in order:
                unit_tasks.append({
                    "task_id": f"{quarter}-{unit}-{camp}-{len(unit_tasks) + 1:04d}",
                    "quarter": quarter, "unit": unit, "level": levels[unit], "uscc": code,
                    "stratum": label, "category": s["category"], "subset": FOLLOW_UP,
                    "credit_class": class_of[code], "kind": "random",
                    "ticket": tickets[code].hex(), "inclusion_probability": 1.0,
                    "draw_mode": "targeted", "origin": FOLLOW_UP, "merged_with": ""})
        expect(f"strata of {unit}: the firms it re-inspects, each once",
               sorted(seen), sorted(follow_ups[unit]))
        skeletons.extend(unit_tasks)
    if inp["policy"]["draw"]["between_levels"] == "merge":
        county = {t["uscc"]: t["task_id"] for t in skeletons if t["level"] == "county"}
        for hq, unit, uscc, tid, _i, _o, _m in inp["history"]["tasks"]:
            if hq == quarter and levels.get(unit) == "county":
                county.setdefault(uscc, tid)
        area = {t["uscc"]: t["task_id"] for t in skeletons if t["level"] == "area"}
        for t in skeletons:
            if t["level"] == "area" and t["uscc"] in county:
                t["merged_with"] = county[t["uscc"]]
            elif t["level"] == "county" and t["uscc"] in area:
                t["merged_with"] = area[t["uscc"]]
    return skeletons


def canonical(obj):
    """The canonical JSON bytes of a format-3 record or part: sorted keys, compact (``,`` and
    ``:``), UTF-8, a final newline."""
    return (json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
            + "\n").encode()


def merge(public, internal):
    """The whole record from the public and the internal part (format 3)."""
    expect("internal_sha256 (the internal part given)", public.get("internal_sha256"),
           hashlib.sha256(canonical(internal)).hexdigest())
    expect("internal.format", internal.get("format"), FORMAT + "/internal")
    rec = json.loads(json.dumps(public))
    del rec["internal_sha256"]
    for name in ("inspectors", "experts"):
        if name in internal:
            rec["inputs"][name] = internal[name]
    hist = rec["inputs"]["history"]["tasks"]
    expect("internal.history_inspectors (one per history task)",
           len(internal["history_inspectors"]), len(hist))
    for h, ids in zip(hist, internal["history_inspectors"], strict=True):
        h[4] = ids
    expect("internal.tasks (one per task)", len(internal["tasks"]), len(rec["tasks"]))
    for t, extra in zip(rec["tasks"], internal["tasks"], strict=True):
        expect(f"internal.tasks ({t['task_id']})", extra.get("task_id"), t["task_id"])
        t.update({k: v for k, v in extra.items() if k != "task_id"})
    return rec


def replay(rec, frame_path=None, internal=None):
    """Replay a record (a dict: the public part, or a whole record); raise Mismatch naming
    the first difference. Returns (seed, tasks); without the internal part the tasks are
    the object draw's (no items, methods or teams).

    Records of formats 1 and 2 are replayed by the scripts of their format."""
    if rec.get("format") == "dsr-draw-record/1":
        try:
            return replay_draw_v1.replay(rec, frame_path)
        except Mismatch as exc:
            raise Mismatch(f"(format 1) {exc}") from None
    if rec.get("format") == "dsr-draw-record/2":
        try:
            return replay_draw_v2.replay(rec, frame_path)
        except Mismatch as exc:
            raise Mismatch(f"(format 2) {exc}") from None
    expect("format", rec.get("format"), FORMAT)
    if internal is not None:
        rec = merge(rec, internal)
    seed = check_inputs(rec, frame_path)
    if rec["inputs"].get("origin") == FOLLOW_UP:
        skeletons = replay_follow_up_strata(rec, seed)
    else:
        expect("inputs.follow_ups (only in a re-inspection draw)",
               rec["inputs"].get("follow_ups"), None)
        skeletons = replay_strata(rec, seed)
    if "inspectors" not in rec["inputs"]:  # public part only: the object draw
        expect("number of tasks", len(rec["tasks"]), len(skeletons))
        for i, (a, b) in enumerate(zip(rec["tasks"], skeletons, strict=True)):
            for key in SKELETON_KEYS:
                expect(f"tasks[{i}] ({b['task_id']}).{key}", a.get(key), b.get(key))
            extra = sorted(set(a) - PUBLIC_TASK_KEYS)
            expect(f"tasks[{i}] ({b['task_id']}): fields beyond the public ones", extra, [])
        return seed, skeletons
    tasks = replay_staffing(rec, seed, skeletons)
    compare_tasks(rec, tasks)
    return seed, tasks


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("record", help="record.json of a draw (the public part)")
    ap.add_argument("--internal", help="the internal part (internal.json) to check the staffing")
    ap.add_argument("--frame", help="published canonical enterprise frame (frame.csv) to check")
    ap.add_argument("--ledger-digest", help="the record's SHA-256 as a published ledger lists it")
    args = ap.parse_args(argv)
    with open(args.record, "rb") as fh:
        data = fh.read()
    rec = json.loads(data.decode("utf-8"))
    internal = None
    if args.internal:
        with open(args.internal, encoding="utf-8") as fh:
            internal = json.load(fh)
    try:
        if args.ledger_digest:
            expect("the record's SHA-256 against --ledger-digest",
                   args.ledger_digest.strip().lower(), hashlib.sha256(data).hexdigest())
        seed, tasks = replay(rec, args.frame, internal)
    except Mismatch as exc:
        print(f"MISMATCH in {args.record}: {exc}", file=sys.stderr)
        return 1
    drawn = sum(len(s["drawn"]) for s in rec["strata"])
    print(f"replayed {args.record} ({rec.get('format')}): quarter {rec['quarter']}, seed {seed}")
    what = ("tasks with items, methods and teams" if internal is not None or
            rec.get("format") != FORMAT else "tasks of the object draw (public part; give "
            "--internal to check the staffing too)")
    print(f"  {len(rec['strata'])} strata, {drawn} objects drawn, {len(tasks)} {what}: all "
          "match the record")
    if args.ledger_digest:
        print("  the record is the one the published ledger lists")
    return 0


if __name__ == "__main__":
    sys.exit(main())
