"""``dsr draw`` and ``dsr verify``, and the draw step of ``dsr demo``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .draw import (DRAW_MODE_ZH, RECORD_FORMAT, commit_quarter, draw_and_record,
                   export_announcements, parse_target)
from .draw.ledger import DEFAULT_LEDGER, entries, exclusive, head
from .draw.record import METHOD_ZH
from .draw.outputs import STAGING, check_outputs, export, recover
from .draw.imports import IMPORT_FORMAT, write_public_ledger
from .draw.verify import policy_file_changes, record_formats, verify_ledger
from .i18n import _, ngettext
from .presentation import SEED_FORMS, entry_formats
from .sample import DEMO_SEED_MATERIAL
from .workflows import demo_fieldwork, demo_year
from .paths import DEFAULT_POLICY, OUTPUTS_DIR
from .policy import Policy, load_policy
from .registers import Registers, load_registers

def _request(args: argparse.Namespace):
    from .cli import register_dir

    policy = load_policy(args.policy)
    registers = load_registers(register_dir(args.registers), units=policy.unit_names)
    units = [u.strip() for u in args.units.split(",")] if args.units else None
    if getattr(args, "follow_ups", None) and (args.target or args.campaign
                                              or args.origin != "routine"):
        from .errors import DsrError

        raise DsrError(_("--follow-ups draws the re-inspections (复查) due: --target, "
                         "--campaign and --origin do not apply to it"))
    return policy, registers, units, parse_target(args.target)


def _follow_up_plan(plan, policy: Policy) -> bool:
    """Print a re-inspection draw's firms and what was left out; False when none is due."""
    from .draw.reinspection import due_zh

    for line in plan.warnings():
        print(_("warning: {message}").format(message=line), file=sys.stderr)
    if plan.due.empty:
        print(_("no re-inspection (复查) is due in {quarter}: nothing was written").format(
            quarter=plan.quarter))
        return False
    print(_("re-inspections (复查) due in {quarter}: {tasks} original task(s), {firms} "
            "firm(s), campaign {campaign}").format(
        quarter=plan.quarter, tasks=len(plan.due),
        firms=sum(len(f) for f in plan.follow_ups.values()), campaign=plan.campaign))
    print(due_zh(plan.due, policy.unit_names).to_string(index=False))
    return True


def cmd_commit(args: argparse.Namespace) -> int:
    policy, registers, units, target = _request(args)
    if args.follow_ups:
        from .draw.reinspection import commit_reinspections

        plan, done = commit_reinspections(
            policy, registers, args.quarter, args.follow_ups, Path(args.ledger),
            Path(args.outputs), seed_source=args.seed_source, seed_form=args.seed_form,
            date=args.date, units=units)
        if not _follow_up_plan(plan, policy):
            return 0
        record, entry, page = done
    else:
        record, entry, page = commit_quarter(
            policy, registers, args.quarter, args.seed_source, Path(args.ledger),
            Path(args.outputs), units=units, target=target, campaign=args.campaign,
            origin=args.origin, seed_form=args.seed_form, reason=args.reason, date=args.date)
    names = policy.unit_names
    print(_("commitment {quarter} (units {units}): ledger entry #{seq}, hash {hash}").format(
        quarter=record['quarter'], units="、".join(names.get(u, u) for u in record['units']),
        seq=entry.seq, hash=entry.entry_hash))
    print(_("  SHA-256 of the registers (sampling frame): {hash}").format(
        hash=record['inputs']['frame_sha256']))
    print(_("  SHA-256 of the plan parameters: {hash}").format(
        hash=record['inputs']['policy_sha256']))
    print(_("  SHA-256 of the earlier draws: {hash}").format(
        hash=record['inputs']['history_sha256']))
    print(_("  seed source: {source} ({form})").format(
        source=record['seed_source']['description'],
        form=_(SEED_FORMS.get(record['seed_source']['form'], record['seed_source']['form']))))
    print(_("ledger head {head}").format(head=head(args.ledger)))
    print(_("wrote the announcement {path} (and .docx, .pdf), issued by {issuer}, dated "
            "{date}").format(path=page, issuer=record['issuer'], date=record['date']))
    return 0


def cmd_draw(args: argparse.Namespace) -> int:
    policy, registers, units, target = _request(args)
    if args.follow_ups:
        from .draw.reinspection import draw_reinspections

        plan, done = draw_reinspections(
            policy, registers, args.quarter, args.follow_ups, args.seed_material,
            Path(args.ledger), Path(args.outputs), registers_dir=args.registers, units=units)
        if not _follow_up_plan(plan, policy):
            return 0
        result, entry, paths = done
    else:
        result, entry, paths = draw_and_record(
            policy, registers, args.quarter, args.seed_material, Path(args.ledger),
            Path(args.outputs), units=units, target=target, campaign=args.campaign,
            origin=args.origin, registers_dir=args.registers, reason=args.reason)
    rec = result.record
    tasks = result.tasks
    print(_("draw {quarter} ({mode}) under commitment #{commitment}, seed material "
            "'{material}', seed {seed}").format(
        quarter=rec['quarter'], mode=DRAW_MODE_ZH[rec['inputs']['draw_mode']],
        commitment=rec['inputs']['commitment']['seq'],
        material=rec['inputs']['seed_material'], seed=rec['inputs']['seed']))
    names = policy.unit_names
    counts = tasks.groupby(["unit", "method_detail"]).size().unstack(fill_value=0)
    counts.index = [names.get(u, u) for u in counts.index]
    counts.columns = [METHOD_ZH.get(m, m) for m in counts.columns]
    counts.index.name = _("unit")
    counts.columns.name = _("method")
    print(counts.to_string())
    if entry.redraw_of:
        print(_("ledger {ledger}: entry #{seq}, re-draw of #{redraw}, hash {hash}").format(
            ledger=args.ledger, seq=entry.seq, redraw=entry.redraw_of, hash=entry.entry_hash))
    else:
        print(_("ledger {ledger}: entry #{seq}, hash {hash}").format(
            ledger=args.ledger, seq=entry.seq, hash=entry.entry_hash))
    print(_("ledger head {head}").format(head=head(args.ledger)))
    print(_("public: {path}").format(path=paths['record']))
    print(_("internal (confidential until the visits): {path}, {csv}").format(
        path=paths['internal'], csv=paths['csv']))
    print(_("task sheets and the printable task list: {command}").format(
        command=f"dsr tasks --quarter {rec['quarter']} --ledger {args.ledger} "
                f"--outputs {args.outputs}"))
    return 0


def _outputs(args: argparse.Namespace) -> Path:
    """--outputs, by default the ledger's folder."""
    return Path(args.outputs) if args.outputs else Path(args.ledger).parent


def cmd_verify(args: argparse.Namespace) -> int:
    args.outputs = _outputs(args)
    done = []
    if (args.outputs / "draws" / STAGING).is_dir() and Path(args.ledger).exists():
        with exclusive(args.ledger):
            done = recover(args.outputs, args.ledger)
    for line in done:
        print(line)
    findings = verify_ledger(args.ledger, replay=not args.no_replay, head=args.head)
    n = len(entries(args.ledger))
    problems = [str(f) for f in findings]
    if not args.no_files:
        problems += check_outputs(args.ledger, args.outputs)
    for note in policy_file_changes(args.ledger):
        print(note)
    if problems:
        for p in problems:
            print(p, file=sys.stderr)
        print(ngettext("ledger {ledger}: {count} finding in {n} entries: NOT verified",
                       "ledger {ledger}: {count} findings in {n} entries: NOT verified",
                       len(problems)).format(ledger=args.ledger, count=len(problems), n=n),
              file=sys.stderr)
        return 1
    if args.no_replay:
        what = _("chain") if args.no_files else _("chain, files of the latest draws")
    else:
        what = (_("chain and replay of every record") if args.no_files else
                _("chain and replay of every record, files of the latest draws"))
    formats = entry_formats(record_formats(args.ledger))
    print(_("ledger {ledger}: {n} entries ({formats}), {what} OK").format(
        ledger=args.ledger, n=n, formats=formats, what=what))
    if args.head:
        published = int(args.head.split(':')[0])
        if n > published:
            print(_("the ledger extends the published head {head} by {more} entries").format(
                head=args.head.strip(), more=n - published))
        else:
            print(_("the ledger extends the published head {head}").format(
                head=args.head.strip()))
    else:
        print(_("no published head given (--head N:HASH): only the ledger's internal "
                "consistency was checked - a ledger truncated or rebuilt as a whole cannot be "
                "told apart; its head is {head}").format(head=head(args.ledger)))
    formats = record_formats(args.ledger)
    if formats.get(IMPORT_FORMAT):
        print(_("{n} draw(s) imported from other bureaus' ledgers: each checked against the "
                "kept chain up to the head it was imported at and replayed from its public "
                "record (scripts/replay_draw.py)").format(n=formats[IMPORT_FORMAT]))
    if any(k.startswith("dsr-draw-record/") and k != RECORD_FORMAT for k in formats):
        print(_("records of an earlier format were replayed with the algorithm they were drawn "
                "with (scripts/replay_draw_v1.py, scripts/replay_draw_v2.py)"))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    args.outputs = _outputs(args)
    entries(args.ledger)  # a missing ledger is refused before its lock file is made
    with exclusive(args.ledger):
        for line in recover(args.outputs, args.ledger):
            print(line)
        written = export(args.ledger, args.outputs, quarter=args.quarter)
        written += export_announcements(args.ledger, args.outputs, load_policy(args.policy),
                                        quarter=args.quarter)
        written += write_public_ledger(args.ledger, args.outputs)  # what others import
    for p in written:
        print(_("wrote {path}").format(path=p))
    print(_("{n} files rebuilt from the ledger {ledger} (head {head})").format(
        n=len(written), ledger=args.ledger, head=head(args.ledger)))
    return 0


def _request_args(p, seed: bool) -> None:
    p.add_argument("--policy", default=str(DEFAULT_POLICY),
                   help=_("policy YAML, or a name in parameters/policies/ (default: %(default)s)"))
    p.add_argument("--registers", default=None,
                   help=_("register directory (default: the embedded synthetic sample)"))
    p.add_argument("--quarter", required=True, help=_("quarter, e.g. 2023Q1"))
    p.add_argument("--units", help=_("comma-separated unit ids (default: every unit)"))
    p.add_argument("--target", help=_("targeted draw: 'industry=畜禽养殖,食品制造;town=…'"))
    p.add_argument("--campaign", help=_("label of a targeted draw (task ids; default T)"))
    p.add_argument("--origin", default="routine",
                   help=_("task origin (routine, complaint, data_lead…; default %(default)s)"))
    p.add_argument("--reason", help=_("why a quarter already drawn is drawn again (required "
                                    "for a re-draw; recorded and published)"))
    p.add_argument("--ledger", default=str(DEFAULT_LEDGER), help=_("ledger (default %(default)s)"))
    p.add_argument("--outputs", default=str(OUTPUTS_DIR), help=_("output directory"))
    p.add_argument("--follow-ups", metavar="RESULTS",
                   help=_("the quarter's re-inspection (复查) draw: the firms ordered to correct "
                        "in earlier quarters and not yet closed or re-inspected, from this "
                        "results register and the ledger (campaign FU, origin follow_up, "
                        "every firm drawn; --target, --campaign and --origin do not apply)"))


def register(sub) -> None:
    p = sub.add_parser("commit", help=_("step 1: fix and publish a draw's inputs and seed source "
                                      "before the randomness exists"))
    _request_args(p, seed=False)
    p.add_argument("--seed-source", required=True,
                   help=_("where the seed material will come from: a named future public event "
                        "(e.g. 福彩双色球第2023010期开奖号码) or a witnessed dice roll"))
    p.add_argument("--date", default=None,
                   help=_("the day the announcement is published, YYYY-MM-DD (default: today; "
                        "recorded in the commitment and printed on the announcement)"))
    p.add_argument("--seed-form", choices=("text", "numbers"), default="text",
                   help=_("canonical form of the seed material: text, or numbers in RFC 3797 "
                        "form (default %(default)s)"))
    p.set_defaults(func=cmd_commit)

    p = sub.add_parser("draw", help=_("step 2: the verifiable draw of a quarter under its "
                                    "commitment: objects, items, teams"))
    _request_args(p, seed=True)
    p.add_argument("--seed-material", required=True,
                   help=_("the seed material published by the committed source"))
    p.set_defaults(func=cmd_draw)

    p = sub.add_parser("verify", help=_("check the ledger's chain, replay every record, check "
                                      "the files and (with --head) a published head"))
    p.add_argument("--ledger", default=str(DEFAULT_LEDGER), help=_("ledger (default %(default)s)"))
    p.add_argument("--head", help=_("published ledger head N:HASH to check the ledger against"))
    p.add_argument("--outputs", help=_("output directory (default: the ledger's folder)"))
    p.add_argument("--no-replay", action="store_true", help=_("check the hash chain only"))
    p.add_argument("--no-files", action="store_true", help=_("do not check the draws' files"))
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser("export", help=_("rebuild the files of the ledger's draws (public and "
                                      "internal parts, task lists)"))
    p.add_argument("--ledger", default=str(DEFAULT_LEDGER), help=_("ledger (default %(default)s)"))
    p.add_argument("--outputs", help=_("output directory (default: the ledger's folder)"))
    p.add_argument("--quarter", help=_("only this quarter (default: every quarter)"))
    p.add_argument("--policy", default=str(DEFAULT_POLICY),
                   help=_("policy naming the units and the issuer of announcements of commitments "
                        "made before they were recorded (default: %(default)s)"))
    p.set_defaults(func=cmd_export)


def demo_step(args: argparse.Namespace, policy: Policy, registers: Registers,
              out_dir: Path) -> None:
    """The year's draws into a fresh ledger (:func:`~dsr_analysis.workflows.demo_year`: plan,
    item list, routine and re-inspection draws, results quarter by quarter, the amendment),
    verified; the first quarter's task sheets."""
    print(f"[draw] verifiable draws {policy.year} (R1, R4-R6), seed material "
          f"'{DEMO_SEED_MATERIAL}':")
    demo = demo_year(policy, registers, out_dir, getattr(args, "registers", None))
    args.demo_year = demo  # the later demo steps render and close this year
    if demo.previous is not None:
        print(f"[draw] previous ledger moved to {demo.previous}; the demo started a fresh ledger")
    print(f"[plan] the {policy.year} plan and the item list published: {demo.plan_files[0]}, "
          f"{demo.item_list[0]}; amended for 2023Q3 (第1次调整): {demo.amendment_files[0]}")
    for quarter, result, entry in demo.draws:
        t = result.tasks
        joint = (t["joint_type"] != "none").mean()
        dept = int((t["joint_type"] == "inter_departmental").sum())
        print(f"    {quarter}: {len(t)} tasks ({int((t['method'] == 'onsite').sum())} on-site), "
              f"internal+inter-departmental joint {joint:.0%}, inter-departmental {dept}; "
              f"seed {result.record['inputs']['seed'][:16]}…; ledger #{entry.seq}; "
              f"plan {demo.policies[quarter].path}")
    for quarter, result, entry in demo.reinspections:
        print(f"    {quarter}: {len(result.tasks)} re-inspection task(s) (复查, origin follow_up) "
              f"of the orders to correct still open; ledger #{entry.seq}")
    for quarter, result, entry in demo.complaints:
        print(f"    {quarter}: {len(result.tasks)} task(s) of a targeted draw after complaints "
              f"(定向抽查, origin complaint); ledger #{entry.seq}")
    for line in demo.withheld:
        print(f"    note: {line}")
    print(f"[draw] ledger {demo.ledger}: {demo.entries} entries, chain and replay verified; "
          f"public records in {out_dir}/draws/<quarter>/public/, task lists (internal) in "
          f"{out_dir}/draws/<quarter>/internal/tasks.csv")
    res = demo.results
    print(f"[results] results templates of each quarter ({res.templates[0]} …) filled with "
          f"synthetic results of the {len(res.tasks)} demo tasks: {len(res.results)} checks, "
          f"{int((res.results['outcome'] == 'violation').sum())} violations, "
          f"{int(res.results['confidential'].sum())} confidential; the year's register "
          f"{res.results_path}; deliveries {res.deliveries_path}")
    first = demo.draws[0][0]
    sheets = demo_fieldwork(policy, demo.ledger, out_dir, first)
    print(f"[tasks] {first}: task sheets (检查任务单) and printable task lists of every unit "
          f"(internal), {len(sheets)} files, e.g. {sheets[0]}")
