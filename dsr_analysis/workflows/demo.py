"""``dsr demo``: the main job on the embedded sample, step by step, as progress lines."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from pathlib import Path

from ..i18n import _
from ..periods import Quarter, month_quarter, quarters_of
from ..policy import Policy
from ..registers import Registers
from ..sample import DEMO_SEED_MATERIAL
from .commands import headline_lines, months_after_year, render_lines
from .year import (DEMO_AMENDMENT, DemoYear, demo_closing, demo_fieldwork, demo_followups,
                   demo_year)

#: Size of the demo's simulation run (seconds on two cores).
DEMO_REPLICATES = 20
DEMO_YEARS = 2


def demo(policy: Policy, registers: Registers, out_dir: str | Path,
         registers_dir: str | Path | None = None) -> Iterator[str]:
    """The whole demo into ``out_dir``, yielding its progress lines as it goes: the
    registers, categories and quotas of the year; the year's loop (:func:`demo_year`) and the
    first quarter's task sheets; the ledger's head timestamped by a local test TSA; the
    follow-up file and every report of every quarter; the baseline simulation; the closing
    of the year (:func:`demo_closing`)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    yield from _demo_quotas(policy, registers, out_dir)
    year = yield from _demo_draws(policy, registers, out_dir, registers_dir)
    yield from _demo_timestamp(year.ledger, out_dir)
    followups = yield from _demo_reports(policy, year, out_dir.resolve(), registers_dir)
    yield from _demo_simulation(out_dir)
    closing = demo_closing(policy, year, out_dir, followups, registers_dir)
    for register in closing.case_registers:
        yield _("[follow-ups] {summary}: {path}").format(summary=register.summary(),
                                                        path=register.written)
    yield _("[credit] credit records of {n} months of published results: "
            "{dir}/credit-YYYY-MM.xlsx|csv (and per firm)").format(n=len(closing.credit),
                                                                   dir=out_dir / 'credit')
    yield _("[rollover] {summary}: {dir}; change report {report}").format(
        summary=closing.rollover.summary(), dir=closing.rollover.directory,
        report=closing.rollover.report)
    yield _("[loop] the year's documents in one place: open {path}").format(path=closing.index)


def _demo_quotas(policy: Policy, registers: Registers, out_dir: Path) -> Iterator[str]:
    """The registers, the categories of the supervised objects and the year's quotas."""
    import pandas as pd

    from ..categories import CATEGORY_ZH, classify
    from ..export import write_csv
    from ..presentation import quota_check_line
    from ..quotas import quarterly_quotas, quota_checks, quota_summary_zh

    yield _("[1] registers valid: {enterprises} enterprises, {inspectors} inspectors, "
            "{experts} experts, {items} items ({source})").format(
        enterprises=len(registers.enterprises), inspectors=len(registers.inspectors),
        experts=len(registers.experts), items=len(registers.items),
        source=registers.sources['enterprises'])
    classified = classify(registers.enterprises, policy)
    write_csv(classified, out_dir / "classification.csv")
    counts = classified.groupby(["unit", "category"]).size().unstack(fill_value=0)
    counts.index = [policy.unit_names.get(u, u) for u in counts.index]
    counts.columns = [CATEGORY_ZH.get(c, c) for c in counts.columns]
    yield _("[2] categories of the supervised objects:")
    yield counts.to_string()
    quarters = quarters_of(policy.year)
    tables = []
    for q in quarters:
        tables.append(quarterly_quotas(classified, policy, q, registers.inspectors))
        write_csv(tables[-1], out_dir / f"quotas-{q.label}.csv")
    write_csv(pd.concat(tables, ignore_index=True), out_dir / f"quotas-{policy.year}.csv")
    yield _("[3] quarterly quotas {year}, {quarter}:").format(
        year=policy.year, quarter=quarters[0].label, quarter_zh=quarters[0].label_zh)
    yield quota_summary_zh(tables[0]).to_string(index=False)
    for check in quota_checks(tables[0], policy, registers.inspectors):
        yield f"    {quota_check_line(check, policy)}"
    yield _("    saved: {dir}/classification.csv, {dir}/quotas-{year}.csv and one file per "
            "quarter").format(dir=out_dir, year=policy.year)


def _draw_line(quarter: str, result, entry, plan: Path) -> str:
    t = result.tasks
    return _("    {quarter}: {tasks} tasks ({onsite} on-site), internal+inter-departmental "
             "joint {joint:.0%}, inter-departmental {departments}; seed {seed}…; ledger "
             "#{seq}; plan {plan}").format(
        quarter=quarter, quarter_zh=Quarter.parse(quarter).label_zh, tasks=len(t), onsite=int((t["method"] == "onsite").sum()),
        joint=(t["joint_type"] != "none").mean(),
        departments=int((t["joint_type"] == "inter_departmental").sum()),
        seed=result.record["inputs"]["seed"][:16], seq=entry.seq, plan=plan)


def _demo_draws(policy: Policy, registers: Registers, out_dir: Path,
                registers_dir) -> Generator[str, None, DemoYear]:
    """The year's draws into a fresh ledger (:func:`demo_year`), verified; the first
    quarter's task sheets. Returns the year."""
    yield _("[draw] verifiable draws {year}, seed material '{material}':").format(
        year=policy.year, material=DEMO_SEED_MATERIAL.format(quarter=_("<quarter>")))
    year = demo_year(policy, registers, out_dir, registers_dir)
    if year.previous is not None:
        yield _("[draw] previous ledger moved to {path}; the demo started a fresh "
                "ledger").format(path=year.previous)
    amended = month_quarter(DEMO_AMENDMENT[3][:7])
    yield _("[plan] the {year} plan and the item list published: {plan}, {items}; amended "
            "from {quarter} on (第1次调整): {amendment}").format(
        year=policy.year, plan=year.plan_files[0], items=year.item_list[0],
        quarter=amended.label, quarter_zh=amended.label_zh,
        amendment=year.amendment_files[0])
    for quarter, result, entry in year.draws:
        yield _draw_line(quarter, result, entry, year.policies[quarter].path)
    for quarter, result, entry in year.reinspections:
        yield _("    {quarter}: {n} re-inspection task(s) (复查) of the orders to correct "
                "still open; ledger #{seq}").format(
            quarter=quarter, quarter_zh=Quarter.parse(quarter).label_zh, n=len(result.tasks),
            seq=entry.seq)
    for quarter, result, entry in year.complaints:
        yield _("    {quarter}: {n} task(s) of a targeted draw after complaints (定向抽查); "
                "ledger #{seq}").format(quarter=quarter,
                                        quarter_zh=Quarter.parse(quarter).label_zh,
                                        n=len(result.tasks), seq=entry.seq)
    for line in year.withheld:
        yield _("    note: {line}").format(line=line)
    yield _("[draw] ledger {ledger}: {n} entries, chain and replay verified; public records "
            "in {dir}/draws/<quarter>/public/, task lists (internal) in "
            "{dir}/draws/<quarter>/internal/tasks.csv").format(ledger=year.ledger,
                                                               n=year.entries, dir=out_dir)
    res = year.results
    yield _("[results] results templates of each quarter ({template} …) filled with "
            "synthetic results of the {tasks} demo tasks: {checks} checks, {violations} "
            "violations, {confidential} confidential; the year's register {register}; "
            "deliveries {deliveries}").format(
        template=res.templates[0], tasks=len(res.tasks), checks=len(res.results),
        violations=int((res.results["outcome"] == "violation").sum()),
        confidential=int(res.results["confidential"].sum()), register=res.results_path,
        deliveries=res.deliveries_path)
    first = year.draws[0][0]
    sheets = demo_fieldwork(policy, year.ledger, out_dir, first)
    yield _("[tasks] {quarter}: task sheets (检查任务单) and printable task lists of every "
            "unit (internal), {n} files, e.g. {path}").format(
        quarter=first, quarter_zh=Quarter.parse(first).label_zh, n=len(sheets),
        path=sheets[0])
    return year


def _demo_timestamp(ledger: Path, out_dir: Path) -> Iterator[str]:
    """The ledger's head after the year's draws timestamped (RFC 3161) by a local test TSA,
    the token published beside the public chain (skipped with a note without OpenSSL)."""
    from ..timestamps import demo_timestamp

    for line in demo_timestamp(ledger, out_dir / "tsa", out_dir):
        yield _("[timestamp] {line}").format(line=line)


def _demo_reports(policy: Policy, year: DemoYear, out_dir: Path,
                  registers_dir) -> Generator[str, None, Path]:
    """The year's follow-up file, then every report of every quarter, each quarter under the
    plan it was drawn under, and the notices of the months after the year. Returns the
    follow-up file."""
    from ..render import render

    followups = demo_followups(policy, year, out_dir)
    yield _("[follow-ups] the follow-up file of the year (receiving bodies' feedback, "
            "reminders on overdue cases): {path}").format(path=followups)
    params = {"ledger": str(year.ledger), "results": str(year.results.results_path),
              "deliveries": str(year.results.deliveries_path), "followups": str(followups)}
    if registers_dir:
        params["registers"] = str(Path(registers_dir).resolve())
    quarters = quarters_of(policy.year)
    for q in quarters:
        yield from render_lines(render(q.label, "all", "all", out_dir, params,
                                       str(year.policies[q.label].path), progress=True))
    # Results of the year's checks published after it (December's checks in January).
    last = quarters[-1].label
    for month in months_after_year(year.results.results, policy.year):
        yield from render_lines(render(last, "all", "notice", out_dir, params,
                                       str(year.policies[last].path), month=month,
                                       progress=True))
    yield _("[render] open {first} … {last}").format(
        first=out_dir / quarters[0].label / "index.html", last=out_dir / last / "index.html")
    return followups


def _demo_simulation(out_dir: Path) -> Iterator[str]:
    """The baseline scenario at demo size: tables and figures under ``simulation/``."""
    from .. import plotting
    from ..simulation.coverage import coverage_summary, workload_summary
    from ..simulation.scenarios import load_scenario, run_scenario, with_simulation

    scenario = with_simulation(load_scenario("baseline-2023"), replicates=DEMO_REPLICATES,
                               years=DEMO_YEARS)
    run = run_scenario(scenario)
    sim_dir = out_dir / "simulation"
    paths = run.save(sim_dir)
    timeline = run.deterrence.timeline
    figures = [
        plotting.save(plotting.plot_coverage(coverage_summary(
            run.coverage, by=["category", "credit_class"])), sim_dir / "coverage.png"),
        plotting.save(plotting.plot_visits(run.coverage.visits), sim_dir / "visits.png"),
        plotting.save(plotting.plot_workload(workload_summary(run.coverage), run.policy.unit_names),
                      sim_dir / "workload.png"),
        plotting.save(plotting.plot_violation_timeline(timeline), sim_dir / "violations.png"),
        plotting.save(plotting.plot_detection(timeline), sim_dir / "detection.png"),
    ]
    yield _("[sim] baseline scenario, {replicates} replicates x {years} years (coverage and "
            "deterrence):").format(replicates=DEMO_REPLICATES, years=DEMO_YEARS)
    yield from headline_lines(run.headline)
    yield _("    saved: {tables} tables and {figures} figures in {dir}/").format(
        tables=len(paths), figures=len(figures), dir=sim_dir)
