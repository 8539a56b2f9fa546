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

Exit status 0 when everything matches; 1 naming the first mismatching field otherwise.
The algorithm is documented in README.md ("Draws: how to replay a published draw").
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
from replay_draw_v1 import Mismatch, check_inputs, compare_tasks, expect  # noqa: E402
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
