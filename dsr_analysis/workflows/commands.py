"""The jobs of single commands that take more than one step: the ledger checked and its
files rebuilt after recovering an interrupted draw (``dsr verify``, ``dsr export``), reports
rendered after their inputs are checked (``dsr render``), a scenario simulated where the
scheduler names (``dsr simulate``), and the lines people read about them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..draw.ledger import entries
from ..draw.verify import verify_ledger
from ..errors import ParameterError
from ..i18n import _
from ..periods import Quarter, quarters_of
from ..policy import Policy


# --------------------------------------------------------------------------------------
# The ledger: checked and its files rebuilt (``dsr verify``, ``dsr export``)
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LedgerCheck:
    """What :func:`check_ledger` found.

    Attributes
    ----------
    recovered : list of str
        What an interrupted draw had left in the output folder, completed (one line each).
    problems : list of str
        Every finding: the chain, the replays, the files of the latest draws.
    entries : int
        Entries in the ledger.
    notes : list of str
        Policy files changed since the draws recorded them (not a finding).
    formats : dict
        Record format -> number of records.
    """

    recovered: list
    problems: list
    entries: int
    notes: list
    formats: dict


def check_ledger(ledger: str | Path, outputs: str | Path, replay: bool = True,
                 files: bool = True, head: str | None = None,
                 tsa_trust: str | Path | None = None) -> LedgerCheck:
    """The ledger checked as ``dsr verify`` does: first, under the ledger's lock, what an
    interrupted draw left in ``outputs/draws/`` completed from the ledger; then the hash
    chain, every record replayed (``replay``), the files of the latest draws (``files``) and
    a published ``head`` (``N:HASH``) the ledger must extend; every stored RFC 3161 token
    (:func:`~dsr_analysis.timestamps.verify_timestamps`, against ``tsa_trust``), whose
    times are notes."""
    from ..draw.ledger import exclusive
    from ..timestamps import verify_timestamps
    from ..draw.outputs import STAGING, check_outputs, recover
    from ..draw.verify import policy_file_changes, record_formats

    outputs = Path(outputs)
    recovered: list[str] = []
    if (outputs / "draws" / STAGING).is_dir() and Path(ledger).exists():
        with exclusive(ledger):
            recovered = recover(outputs, ledger)
    problems = [str(f) for f in verify_ledger(ledger, replay=replay, head=head)]
    n = len(entries(ledger))
    if files:
        problems += check_outputs(ledger, outputs)
    stamp_problems, stamp_notes = verify_timestamps(ledger, tsa_trust)
    problems += stamp_problems
    return LedgerCheck(recovered, problems, n, [*policy_file_changes(ledger), *stamp_notes],
                       dict(record_formats(ledger)))


def rebuild_ledger_files(ledger: str | Path, outputs: str | Path, policy: Policy,
                         quarter: str | None = None) -> tuple[list[str], list[Path]]:
    """Every file of the ledger's draws rebuilt (``dsr export``) under the ledger's lock:
    what an interrupted draw left completed first, then the public and internal files, the
    announcements of the commitments and the public chain other bureaus import, with the
    heads' RFC 3161 tokens (:func:`~dsr_analysis.timestamps.write_public_tokens`). Returns
    the recovery lines and the files written."""
    from ..draw import export_announcements
    from ..draw.imports import write_public_ledger
    from ..draw.ledger import exclusive
    from ..draw.outputs import export, recover
    from ..timestamps import write_public_tokens

    entries(ledger)  # a missing ledger is refused before its lock file is made
    with exclusive(ledger):
        recovered = recover(outputs, ledger)
        written = export(ledger, outputs, quarter=quarter)
        written += export_announcements(ledger, outputs, policy, quarter=quarter)
        written += write_public_ledger(ledger, outputs)  # what others import
        written += write_public_tokens(ledger, outputs)  # RFC 3161 tokens of the heads
    return recovered, written


# --------------------------------------------------------------------------------------
# Reports (``dsr render``)
# --------------------------------------------------------------------------------------
#: The files a render reads, by their parameter names.
RENDER_INPUTS = ("registers", "ledger", "results", "deliveries", "followups")


def render_reports(quarter: str | None, units="all", reports="all",
                   outputs: str | Path = "outputs", policy: str | Path = "xiongan-2023",
                   inputs: dict | None = None, month: str | None = None,
                   workers: int | None = None, as_of: str | None = None, **options):
    """The reports of ``quarter`` (or the results notice of ``month``, rendered under the
    plan's quarter it falls in, the year's last for a month after it) for ``units`` and
    ``reports`` (lists, or ``"all"``), from ``inputs`` (file paths by
    :data:`RENDER_INPUTS`; none: the demo draws on the embedded sample).

    The inputs are read and checked first (:func:`~dsr_analysis.reports.load_report_inputs`
    holds the rules: demo data on the embedded sample only, a ledger with its results
    register, every register valid), so that a refused render writes nothing. ``options``
    go to :func:`~dsr_analysis.render.render`. Returns its summary."""
    from ..policy import load_policy
    from ..render import render
    from ..reports import load_report_inputs

    given = {k: str(Path(v).resolve()) for k, v in (inputs or {}).items() if v}
    if Path(policy).exists():
        policy = str(Path(policy).resolve())
    if not quarter and not month:
        raise ParameterError(_("give --quarter (e.g. 2023Q1) or --month (e.g. 2024-01)"))
    first = quarter or quarters_of(load_policy(policy).year)[0].label
    checked = load_report_inputs(first, policy, month=month or "",
                                 **{k: given.get(k, "") for k in RENDER_INPUTS})
    return render(checked.quarter.label if month else quarter, units, reports,
                  Path(outputs), given, str(policy), workers=workers, month=month or "",
                  progress=True, as_of=as_of or "", **options)


def render_lines(summary) -> list[str]:
    """What a render did, in lines for people: what an interrupted render of the quarter
    left (completed), then the reports, workers, time and index."""
    lines = [_("[render] {line}").format(line=line) for line in summary.recovered]
    lines.append(_("[render] {quarter}: {reports} report(s) on {workers} worker(s) in "
                   "{seconds:.1f} s; index {index}").format(
        quarter=summary.quarter, quarter_zh=_quarter_zh(summary.quarter), reports=len(summary.rendered), workers=summary.workers,
        seconds=summary.seconds, index=summary.index))
    return lines


def _quarter_zh(label: str) -> str:
    """A quarter's Chinese name (2023年第一季度); a month's folder name (2024-01) as it is."""
    from ..errors import QuarterError

    try:
        return Quarter.parse(label).label_zh
    except QuarterError:
        return label


def months_after_year(results, year: int) -> list[str]:
    """Months after ``year`` in which results of its checks were published (YYYY-MM)."""
    dates = [d for d in results["date_published"] if d is not None and d == d and d.year > year]
    return sorted({f"{d.year}-{d.month:02d}" for d in dates})


# --------------------------------------------------------------------------------------
# Simulation headline (``dsr simulate`` and the demo)
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SimulationJob:
    """What :func:`simulate` ran and wrote: the run, the optimum (or None), the files."""

    run: object
    optimum: object
    paths: list
    directory: Path


def simulate(scenario: str | Path, outputs: str | Path, changes: dict | None = None,
             scheduler=None, workers: int | None = None, coverage: bool = True,
             deterrence: bool = True, optimise: bool = False, progress: bool = True,
             announce=None) -> SimulationJob:
    """A scenario (a YAML file or a name in ``parameters/scenarios/``) with ``changes`` to its
    simulation settings (replicates, years, seed, chunk_size) run where ``scheduler`` names
    (:func:`~dsr_analysis.distributed.executor`; a bad address is refused before anything
    runs), optionally with the ratios' optimum, its tables saved under
    ``outputs/simulation/``. ``announce`` is called with the line saying where the tasks run
    before they start."""
    from ..distributed import describe, executor, resolve_scheduler
    from ..simulation.scenarios import (load_scenario, optimise_ratios, run_scenario,
                                       with_simulation)

    loaded = load_scenario(scenario)
    if changes:
        loaded = with_simulation(loaded, **changes)
    resolve_scheduler(scheduler)
    with executor(scheduler, workers) as ex:
        if announce is not None:
            announce(_("[sim] tasks run {where}").format(where=describe(ex)))
        run = run_scenario(loaded, coverage=coverage, deterrence=deterrence,
                           progress=progress, scheduler=ex)
        optimum = optimise_ratios(loaded, scheduler=ex) if optimise else None
    directory = Path(outputs) / "simulation"
    return SimulationJob(run, optimum, run.save(directory), directory)


def headline_lines(headline: dict) -> list[str]:
    """A scenario run's headline figures in lines for people."""
    h = headline
    if "jurisdictions" in h:
        lines = [_("    scenario {scenario} ({name}), {objects} objects in {jurisdictions} "
                   "jurisdictions").format(scenario=h['scenario'], name=h['name'],
                                           objects=h['objects'],
                                           jurisdictions=h['jurisdictions'])]
    else:
        lines = [_("    scenario {scenario} ({name}), {objects} objects").format(
            scenario=h['scenario'], name=h['name'], objects=h['objects'])]
    if "coverage_all" in h:
        lines.append(_("    yearly coverage: all {all:.1%}, special {special:.1%}, key {key:.1%}, "
                       "general {general:.1%}").format(
            all=h['coverage_all'], special=h.get('coverage_special', float('nan')),
            key=h.get('coverage_key', float('nan')),
            general=h.get('coverage_general', float('nan'))))
        lines.append(_("    checks per quarter {checks:.0f}, inspector-days {days:.0f} of "
                       "{capacity:.0f} available; worst quota attainment {attainment:.0%}").format(
            checks=h['inspections_per_quarter'], days=h['inspector_days_per_quarter'],
            capacity=h['capacity_days_per_quarter'], attainment=h['quota_attainment_min']))
    if "violation_rate_last_year" in h:
        lines.append(_("    violation rate (last year) {rate:.1%}; per quarter {detected:.1f} "
                       "detected, {undetected:.1f} undetected; hit rate {hit:.2%} (national "
                       "2019: 4.79%)").format(
            rate=h['violation_rate_last_year'], detected=h['detected_per_quarter'],
            undetected=h['undetected_per_quarter'], hit=h['hit_rate']))
    lines.append(_("    share of draws combined with the credit-risk classes {share:.0%} "
                   "({verdict})").format(share=h['credit_share'],
                                         verdict=_("met") if h['credit_share_met']
                                         else _("NOT MET")))
    return lines
