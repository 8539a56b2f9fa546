"""``dsr render`` and the report step of ``dsr demo``."""

from __future__ import annotations

import argparse
from pathlib import Path

from .i18n import _
from .draw.ledger import load_draw_tasks
from .errors import DsrError
from .paths import DEFAULT_POLICY, OUTPUTS_DIR
from .periods import month_quarter, quarters_of
from .policy import Policy, load_policy
from .registers import Registers
from .render import render
from .followups import load_followups
from .results import load_results
from .workflows import demo_followups


def notice_quarter(month: str, policy: Policy) -> str:
    """The policy quarter a monthly notice is rendered under: the month's own quarter in the
    policy year, the year's last quarter for a month after it."""
    q = month_quarter(month)
    if q.year < policy.year:
        raise DsrError(_("--month {month} precedes the plan's year {year}").format(
            month=month, year=policy.year))
    return min(q, quarters_of(policy.year)[-1]).label


def months_after_year(results, year: int) -> list[str]:
    """Months after ``year`` in which results of its checks were published (YYYY-MM)."""
    dates = [d for d in results["date_published"] if d is not None and d == d and d.year > year]
    return sorted({f"{d.year}-{d.month:02d}" for d in dates})


def _print_summary(summary) -> None:
    for line in summary.recovered:  # what an interrupted render of the quarter left
        print(_("[render] {line}").format(line=line))
    print(_("[render] {quarter}: {reports} report(s) on {workers} worker(s) in {seconds:.1f} s; "
            "index {index}").format(quarter=summary.quarter, reports=len(summary.rendered),
                                    workers=summary.workers, seconds=summary.seconds,
                                    index=summary.index))


def check_inputs(args: argparse.Namespace) -> None:
    """Every input of a render checked before the first notebook starts: demo data only on
    the embedded sample; a ledger that exists and reads, with its results register, which
    must validate (:class:`RegisterError`: exit 1, every problem listed, nothing written)."""
    if args.registers and not args.ledger:
        raise DsrError(_(
            "--registers {registers} without --ledger: the reports would show the demo "
            "draw and invented results on your register. Give the ledger of your draws "
            "(--ledger) and your results register (--results); demo data renders on the "
            "embedded sample only").format(registers=args.registers))
    followups = getattr(args, "followups", None)
    if (args.results or args.deliveries or followups) and not args.ledger:
        raise DsrError(_("--results/--deliveries/--followups need the ledger of the draws "
                         "they belong to (--ledger)"))
    if args.ledger:
        if not args.results:
            raise DsrError(_("--ledger {ledger} needs the results register of its draws "
                             "(--results): results are never invented for a real "
                             "draw").format(ledger=args.ledger))
        tasks = load_draw_tasks(args.ledger)  # LedgerError: missing or not a ledger
        results = load_results(args.results, tasks)
        if followups:
            load_followups(followups, results)


def cmd_render(args: argparse.Namespace) -> int:
    from .cli import register_dir

    register_dir(args.registers)  # missing: exit 2; a file: exit 3
    check_inputs(args)
    params = {}
    for name in ("registers", "ledger", "results", "deliveries", "followups"):
        value = getattr(args, name, None)
        if value:
            params[name] = str(Path(value).resolve())
    units = "all" if args.unit == "all" else [u.strip() for u in args.unit.split(",")]
    reports = "all" if args.report == "all" else [r.strip() for r in args.report.split(",")]
    policy = args.policy
    if Path(policy).exists():
        policy = str(Path(policy).resolve())
    quarter = args.quarter
    if args.month:
        quarter = notice_quarter(args.month, load_policy(policy))
    elif not quarter:
        raise DsrError(_("give --quarter (e.g. 2023Q1) or --month (e.g. 2024-01)"))
    summary = render(quarter, units, reports, Path(args.outputs), params, policy,
                     workers=args.workers, month=args.month or "", progress=True,
                     as_of=args.as_of or "")
    _print_summary(summary)
    return 0


def register(sub) -> None:
    p = sub.add_parser("render", help=_("render the official reports (papermill): HTML, XLSX, index"))
    p.add_argument("--quarter", default=None, help=_("quarter, e.g. 2023Q1"))
    p.add_argument("--month", default=None,
                   help=_("the results notice of one month, e.g. 2024-01 (may follow the policy "
                        "year: December's checks published in January); instead of --quarter"))
    p.add_argument("--as-of", default=None,
                   help=_("数据截止日期 of the statistics table, YYYY-MM-DD (default: its deadline)"))
    p.add_argument("--unit", default="all", help=_("unit id(s), comma-separated, or all (default)"))
    p.add_argument("--report", default="all",
                   help=_("statistics, summary, evaluation, notice, annual_plan (comma-separated) "
                        "or all (default)"))
    p.add_argument("--policy", default=str(DEFAULT_POLICY),
                   help=_("policy YAML, or a name in parameters/policies/ (default: %(default)s)"))
    p.add_argument("--registers", default=None,
                   help=_("register directory; with --ledger its files must be the ones the "
                        "quarter's draws were made on (default: the directory the ledger "
                        "recorded; without --ledger: the embedded synthetic sample)"))
    p.add_argument("--ledger", default=None,
                   help=_("draw ledger (default: the demo draws, made in memory)"))
    p.add_argument("--results", default=None, help=_("results register (required with --ledger)"))
    p.add_argument("--deliveries", default=None, help=_("report deliveries CSV (for the evaluation)"))
    p.add_argument("--followups", default=None,
                   help=_("follow-up file (CSV/XLSX): dated updates of the follow-up cases "
                        "(summary, evaluation, notices)"))
    p.add_argument("--outputs", default=str(OUTPUTS_DIR),
                   help=_("output root; reports go to OUTPUTS/QUARTER/ (default: %(default)s)"))
    p.add_argument("--workers", type=int, default=None,
                   help=_("parallel notebooks (default: the number of cores)"))
    p.set_defaults(func=cmd_render)


def demo_step(args: argparse.Namespace, policy: Policy, registers: Registers,
              out_dir: Path) -> None:
    """Every report of every quarter of the demo year, each quarter under the plan it was
    drawn under, with the year's follow-up file."""
    out_dir = Path(out_dir).resolve()
    year = args.demo_year
    followups = demo_followups(policy, year, out_dir)
    args.demo_followups = followups
    print(f"[follow-ups] the follow-up file of the year (receiving bodies' feedback, reminders "
          f"on overdue cases): {followups}")
    params = {"ledger": str(year.ledger), "results": str(year.results.results_path),
              "deliveries": str(year.results.deliveries_path), "followups": str(followups)}
    if getattr(args, "registers", None):
        params["registers"] = str(Path(args.registers).resolve())
    quarters = quarters_of(policy.year)
    for q in quarters:
        summary = render(q.label, "all", "all", out_dir, params,
                         str(year.policies[q.label].path), progress=True)
        _print_summary(summary)
    # Results of the year's checks published after it (December's checks in January).
    for month in months_after_year(year.results.results, policy.year):
        summary = render(quarters[-1].label, "all", "notice", out_dir, params,
                         str(year.policies[quarters[-1].label].path), month=month,
                         progress=True)
        _print_summary(summary)
    print(f"[render] open {out_dir}/{quarters[0].label}/index.html … "
          f"{out_dir}/{quarters[-1].label}/index.html")
