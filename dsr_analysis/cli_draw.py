"""``dsr commit``, ``dsr draw``, ``dsr verify`` and ``dsr export``: the verifiable draws and their ledger."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .cli import (add_ledger, add_outputs, add_policy, add_quarter, add_registers, load_inputs,
                  outputs_dir)
from .draw import DRAW_MODE_ZH, RECORD_FORMAT, commit_quarter, draw_and_record, parse_target
from .draw.beacon import load_round
from .draw.imports import IMPORT_FORMAT
from .draw.ledger import head
from .draw.record import METHOD_ZH
from .errors import DsrError
from .i18n import _, ngettext
from .policy import Policy, load_policy
from .presentation import SEED_FORMS, entry_formats
from .workflows import check_ledger, rebuild_ledger_files


def _request(args: argparse.Namespace):
    policy, registers = load_inputs(args)
    units = [u.strip() for u in args.units.split(",")] if args.units else None
    if getattr(args, "follow_ups", None) and (args.target or args.campaign
                                              or args.origin != "routine"):
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
            date=args.date, units=units, beacon=args.beacon)
        if not _follow_up_plan(plan, policy):
            return 0
        record, entry, page = done
    else:
        record, entry, page = commit_quarter(
            policy, registers, args.quarter, args.seed_source, Path(args.ledger),
            Path(args.outputs), units=units, target=target, campaign=args.campaign,
            origin=args.origin, seed_form=args.seed_form, reason=args.reason, date=args.date,
            beacon=args.beacon)
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
        source=record['seed_source']['description'] or '—',
        form=_(SEED_FORMS.get(record['seed_source']['form'], record['seed_source']['form']))))
    drand = record['seed_source'].get('beacon')
    if drand:
        print(_("  drand round {round} of chain {chain}: produced at {time} (UTC)").format(
            round=drand['round'], chain=drand['chain_hash'], time=drand['time']))
    print(_("ledger head {head}").format(head=head(args.ledger)))
    print(_("wrote the announcement {path} (and .docx, .pdf), issued by {issuer}, dated "
            "{date}").format(path=page, issuer=record['issuer'], date=record['date']))
    return 0


def _beacon_round(args: argparse.Namespace):
    """The drand round given to ``dsr draw`` (None without ``--beacon-signature``)."""
    if not args.beacon_signature:
        return None
    return load_round(args.beacon_signature, args.beacon_previous_signature)


def cmd_draw(args: argparse.Namespace) -> int:
    policy, registers, units, target = _request(args)
    if args.follow_ups:
        from .draw.reinspection import draw_reinspections

        plan, done = draw_reinspections(
            policy, registers, args.quarter, args.follow_ups, args.seed_material,
            Path(args.ledger), Path(args.outputs), registers_dir=args.registers, units=units,
            beacon_round=_beacon_round(args))
        if not _follow_up_plan(plan, policy):
            return 0
        result, entry, paths = done
    else:
        result, entry, paths = draw_and_record(
            policy, registers, args.quarter, args.seed_material, Path(args.ledger),
            Path(args.outputs), units=units, target=target, campaign=args.campaign,
            origin=args.origin, registers_dir=args.registers, reason=args.reason,
            beacon_round=_beacon_round(args))
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


def cmd_verify(args: argparse.Namespace) -> int:
    check = check_ledger(args.ledger, outputs_dir(args), replay=not args.no_replay,
                         files=not args.no_files, head=args.head, tsa_trust=args.tsa_trust)
    for line in check.recovered:
        print(line)
    for note in check.notes:
        print(note)
    n, problems = check.entries, check.problems
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
    print(_("ledger {ledger}: {n} entries ({formats}), {what} OK").format(
        ledger=args.ledger, n=n, formats=entry_formats(check.formats), what=what))
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
    formats = check.formats
    if formats.get(IMPORT_FORMAT):
        print(_("{n} draw(s) imported from other bureaus' ledgers: each checked against the "
                "kept chain up to the head it was imported at and replayed from its public "
                "record (scripts/replay_draw.py)").format(n=formats[IMPORT_FORMAT]))
    if any(k.startswith("dsr-draw-record/") and k != RECORD_FORMAT for k in formats):
        print(_("records of an earlier format were replayed with the algorithm they were drawn "
                "with (scripts/replay_draw_v1.py, scripts/replay_draw_v2.py)"))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    recovered, written = rebuild_ledger_files(args.ledger, outputs_dir(args),
                                              load_policy(args.policy), quarter=args.quarter)
    for line in recovered:
        print(line)
    for p in written:
        print(_("wrote {path}").format(path=p))
    print(_("{n} files rebuilt from the ledger {ledger} (head {head})").format(
        n=len(written), ledger=args.ledger, head=head(args.ledger)))
    return 0


def _request_args(p: argparse.ArgumentParser) -> None:
    add_policy(p)
    add_registers(p)
    add_quarter(p)
    p.add_argument("--units", help=_("comma-separated unit ids (default: every unit)"))
    p.add_argument("--target", help=_("targeted draw: 'industry=畜禽养殖,食品制造;town=…'"))
    p.add_argument("--campaign", help=_("label of a targeted draw (task ids; default T)"))
    p.add_argument("--origin", default="routine",
                   help=_("task origin (routine, complaint, data_lead…; default %(default)s)"))
    p.add_argument("--reason", help=_("why a quarter already drawn is drawn again (required "
                                      "for a re-draw; recorded and published)"))
    add_ledger(p)
    add_outputs(p)
    p.add_argument("--follow-ups", metavar="RESULTS",
                   help=_("the quarter's re-inspection (复查) draw: the firms ordered to correct "
                          "in earlier quarters and not yet closed or re-inspected, from this "
                          "results register and the ledger (campaign FU, origin follow_up, "
                          "every firm drawn; --target, --campaign and --origin do not apply)"))


def commit_parser(p: argparse.ArgumentParser) -> None:
    _request_args(p)
    p.add_argument("--beacon", metavar="drand:ROUND",
                   help=_("a drand round as (part of) the seed: drand:ROUND (League of Entropy "
                          "mainnet) or drand:CHAIN_HASH:ROUND; its time must come after the "
                          "announcement's day"))
    p.add_argument("--seed-source", default="",
                   help=_("where the seed material will come from: a named future public event "
                          "(e.g. 福彩双色球第2023010期开奖号码) or a witnessed dice roll"))
    p.add_argument("--date", default=None,
                   help=_("the day the announcement is published, YYYY-MM-DD (default: today; "
                          "recorded in the commitment and printed on the announcement)"))
    p.add_argument("--seed-form", choices=("text", "numbers"), default="text",
                   help=_("canonical form of the seed material: text, or numbers in RFC 3797 "
                          "form (default %(default)s)"))
    p.set_defaults(func=cmd_commit)


def draw_parser(p: argparse.ArgumentParser) -> None:
    _request_args(p)
    p.add_argument("--seed-material",
                   help=_("the seed material published by the committed source"))
    p.add_argument("--beacon-signature", metavar="HEX|FILE",
                   help=_("the committed drand round: its signature (hex) or its JSON file as "
                          "drand's HTTP API returns it (verified offline)"))
    p.add_argument("--beacon-previous-signature", metavar="HEX",
                   help=_("the previous round's signature (chained chains, with a hex "
                          "--beacon-signature)"))
    p.set_defaults(func=cmd_draw)


def verify_parser(p: argparse.ArgumentParser) -> None:
    add_ledger(p)
    p.add_argument("--head", help=_("published ledger head N:HASH to check the ledger against"))
    add_outputs(p, by_ledger=True)
    p.add_argument("--no-replay", action="store_true", help=_("check the hash chain only"))
    p.add_argument("--no-files", action="store_true", help=_("do not check the draws' files"))
    p.add_argument("--tsa-trust", metavar=_("FILE"),
                   help=_("PEM file of the trusted TSA root certificates: the stored RFC 3161 "
                          "tokens' signatures are checked against it (default: the file named "
                          "by DSR_TSA_TRUST)"))
    p.set_defaults(func=cmd_verify)


def export_parser(p: argparse.ArgumentParser) -> None:
    add_ledger(p)
    add_outputs(p, by_ledger=True)
    add_quarter(p, required=False, help=_("only this quarter (default: every quarter)"))
    add_policy(p, help=_("policy naming the units and the issuer of announcements of "
                         "commitments made before they were recorded (default: %(default)s)"))
    p.set_defaults(func=cmd_export)
