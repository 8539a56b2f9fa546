"""The verifiable double-random draw (R3, R4, R6): objects by SHA-256 tickets.

Nobody - not the bureau, not this software - can steer the draw, and anyone can replay it
with the Python standard library (``scripts/replay_draw.py``). The algorithm:

1. ``frame_sha256`` = SHA-256 of the **canonical enterprise frame**: the columns of the
   enterprise register in the order of :data:`FRAME_COLUMNS`, a header line, one row per
   enterprise sorted by ``uscc``, written by Python's ``csv.writer`` (minimal quoting,
   ``\\n`` line ends) in UTF-8 without BOM; booleans as ``true``/``false``, whole numbers in
   decimal, blank cells empty. :func:`canonical_frame_bytes` writes it (``frame.csv`` next to
   each record).
2. ``policy_sha256`` = SHA-256 of the policy file's bytes.
3. ``seed`` = hex SHA-256 of the UTF-8 text ``"{seed_material}|{frame_sha256}|{policy_sha256}|{quarter}"``.
4. Units are drawn in the order of :func:`dsr_analysis.overlap.drawing_order`: the county
   units in policy order, then the area level. A unit's strata are its rows of
   :func:`dsr_analysis.quotas.quarterly_quotas` (one per quota rule, in policy order); the
   stratum string is ``"{category}/{subset}"``, e.g. ``key/all``.
5. Overlap control (:mod:`dsr_analysis.overlap`) first excludes objects: between levels,
   ``avoid`` removes from the area level's draw every object a county drew this quarter;
   ``yearly_cap`` removes objects with ``yearly_cap`` counted checks this year (by the unit
   itself, or by any unit under ``overlap_scope: all_levels``; cap-exempt origins neither
   count nor are capped). Every exclusion is recorded with its reason.
6. **Inclusion probabilities** (R3): ``lambda`` per credit class on the eligible objects,
   proportional to the class's weight (or target ratio), summing to the quota, classes at 1
   taken with certainty (:func:`dsr_analysis.quotas.inclusion_probabilities`).
7. **Pareto order sampling**: every eligible object gets the ticket
   ``SHA-256("{seed}|{unit}|{stratum}|{uscc}")``, the uniform ``U = (2m + 1) / 2**53`` with
   ``m`` its first 52 bits, and the key ``Q = (U/(1-U)) / (lambda/(1-lambda))`` (0 when
   ``lambda = 1``). The quota is filled in the order ``(round, Q, ticket)``, where ``round``
   is the object's earlier checks this year under ``rotation`` and 0 otherwise. Objects of an
   ``offsite_full`` stratum all get an off-site task. A quota above the eligible objects
   draws them all and the stratum's ``flag`` names the stratum and the numbers.
8. Tasks get ids ``{quarter}-{unit}-{nnnn}`` (targeted draws ``{quarter}-{unit}-{campaign}-{nnnn}``)
   in the order: units as in 4, strata in table order, objects in selection order
   (``offsite_full`` strata by ``uscc``). Items, methods, joint designations, teams and
   experts follow :mod:`dsr_analysis.staffing`.
9. A **re-inspection draw** (复查, :mod:`dsr_analysis.draw.reinspection`; origin ``follow_up``,
   campaign ``FU``, ``FU2``, …) records ``inputs.follow_ups`` = unit -> {uscc: [original task
   ids]}; its target is the USCCs listed. Its strata replace the quota rules: per unit (in
   drawing order) and category (special, key, general) of its listed firms one stratum
   ``{category}/follow_up`` whose quota is its population; no exclusion (step 5 does not
   apply), every class's ``lambda`` 1 where it has objects, every key 0, so the tasks follow
   the tickets' order. Tasks of origin ``follow_up`` are never counted by the yearly cap and
   are always on-site, whatever the policy lists.

Records of format ``dsr-draw-record/1`` (per-class sub-quotas, smallest tickets) are still
checked by ``dsr verify`` with the replay of that format (``scripts/replay_draw_v1.py``).
"""

from __future__ import annotations

import datetime as dt
import functools
import gc
import hashlib
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ..categories import classify
from ..distributed import executor as make_executor
from ..errors import DsrError, InfeasibleError
from ..i18n import N_, _
from ..overlap import OverlapRules, drawing_order
from ..periods import Quarter
from ..policy import Policy, policy_to_dict
from ..quotas import quarterly_quotas
from ..registers import Registers
from ..overlap import FOLLOW_UP
from .objects import (TARGET_COLUMNS, DrawContext, HistoryTask, apply_target, check_request,
                      draw_stratum, draw_unit, follow_up_quotas, history_tasks,
                      merge_between_levels, object_table, parse_target, population_columns,
                      quarter_draws)
from .record import (DRAW_MODE_ZH, FRAME_COLUMNS, JOINT_ZH, LEVEL_ZH, METHOD_ZH, RECORD_FORMAT,
                     RECORD_FORMATS, TASK_COLUMNS, TASK_COLUMNS_ZH, DrawResult, file_sha256,
                     project_path,
                     canonical_frame_bytes, derive_seed, draw_key, object_digests,
                     merge_record, split_record,
                     object_ticket, record_bytes, record_sha256, tasks_frame, tasks_zh,
                     write_outputs)
from .ledger import (Entry, append, entries, exclusive, head_of, history_before, next_entry,
                     now_utc, put_blob)
from .outputs import finish, output_dir, recover, stage, stage_files
from .protocol import (ProtocolError, announcement_names, build_commitment, seed_of_sources,
                       canonical_seed_material, check_commitment, commitment_date,
                       commitment_ref, write_announcement)
from .staffing import register_tables, staff_tasks
from .imports import check_not_imported, foreign_heads, write_public_ledger
from .revisions import commitment_plan_problem


def _without_cyclic_gc(func):
    """Run ``func`` with the cyclic garbage collector paused (reference counting still frees
    everything): a draw allocates millions of small objects, and each collection would
    traverse all of them again (about a tenth of a draw at 1,000,000 enterprises)."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        enabled = gc.isenabled()
        gc.disable()
        try:
            return func(*args, **kwargs)
        finally:
            if enabled:
                gc.enable()
    return wrapper


@_without_cyclic_gc
def draw_quarter(
    policy: Policy,
    registers: Registers,
    quarter: str | Quarter,
    seed_material: str,
    history: Sequence[Mapping[str, Any]] = (),
    *,
    units: Sequence[str] | None = None,
    target: Mapping[str, Sequence[str]] | None = None,
    campaign: str | None = None,
    origin: str = "routine",
    registers_dir: str | Path | None = None,
    frame: bytes | None = None,
    staff: bool = True,
    commitment: Mapping[str, Any] | None = None,
    reason: str | None = None,
    executor: Any = None,
    follow_ups: Mapping[str, Any] | None = None,
    beacon: Mapping[str, Any] | None = None,
) -> DrawResult:
    """Draw one quarter: objects, items, methods, joint designations and teams.

    The named steps: check the request → seed → quota table → earlier checks (history) →
    per unit in drawing order and per stratum: exclusions, inclusion probabilities, tickets
    and selection (:func:`draw_stratum`) → tasks → merge between levels → staffing → record.

    Parameters
    ----------
    policy, registers
        The policy (its file is referenced by path and hash) and the validated registers.
    quarter : str or Quarter
    seed_material : str
        Published before the draw (lottery result, beacon value, witnessed random text).
    history : sequence of records
        Earlier draw records still valid (the ledger's latest per unit x quarter x draw key);
        used for overlap control, recusal and per-quarter caps.
    units : sequence of str, optional
        Draw only these units (default: every unit of the policy).
    target : mapping column -> values, optional
        A targeted draw (定向抽查) from the objects matching every condition; ``None`` draws
        untargeted (不定向). Targeted draws skip ``offsite_full`` strata.
    campaign : str, optional
        Label of a targeted draw (part of its task ids; default ``T``).
    origin : str
        Task origin (``routine``, or e.g. ``complaint``, ``data_lead`` for a targeted draw);
        origins in ``policy.methods.onsite_triggers`` get on-site checks, origins in
        ``policy.draw.cap_exemptions`` are not counted by the yearly cap.
    registers_dir : path, optional
        Directory the registers were read from (recorded); default: the registers' sources.
    frame : bytes, optional
        Precomputed :func:`canonical_frame_bytes` of ``registers.enterprises``.
    commitment : mapping, optional
        ``{seq, entry_hash}`` of the commitment the draw was made under (recorded).
    reason : str, optional
        Why a unit x quarter is drawn again (recorded; listed in the notices).
    executor : optional
        Where each unit's object draw runs (:mod:`dsr_analysis.distributed`; default: here,
        unit after unit): one task per unit (:func:`draw_objects`); the record is the same.
    follow_ups : mapping unit -> {uscc: [original task ids]}, optional
        A re-inspection draw (复查, :mod:`dsr_analysis.draw.reinspection`): each unit takes
        every firm listed for it with certainty, without overlap control; origin
        ``follow_up``, the target the USCCs listed, the units those listed (recorded as
        ``inputs.follow_ups``).
    staff : bool
        ``False`` stops after the object draw (benchmarks, simulation checks): ``record`` then
        holds ``inputs`` without the register tables, ``strata``, and as ``tasks`` the
        unstaffed skeletons (empty teams), so that it can serve as history for the object
        draw of a later quarter; ``tasks`` is the skeletons' DataFrame.

    Raises
    ------
    InfeasibleError
        When a task cannot be staffed or given an item; names the task, constraint and numbers.
    """
    q = Quarter.parse(quarter)
    check_request(policy, q, seed_material, campaign)
    follow_ups = normalize_follow_ups(follow_ups)
    if follow_ups:
        target, origin, units = follow_up_request(follow_ups, units)
    target = dict(target) if target else None
    order = drawing_order(policy, units)
    if frame is None:
        frame = canonical_frame_bytes(registers.enterprises)
    frame_sha = hashlib.sha256(frame).hexdigest()
    seed = derive_seed(seed_material, frame_sha, policy.sha256, q.label)

    population, quotas = drawing_quotas(policy, registers, q, order, target, follow_ups)
    hist = history_tasks(history, q, policy.staffing.recusal_quarters)
    context = DrawContext(
        policy=policy, quarter=q, seed=seed, origin=origin,
        mode="targeted" if target else "untargeted",
        prefix=q.label if not target else None, campaign=campaign or "T",
        rules=OverlapRules.from_policy(policy), level_of={u.id: u.level for u in policy.units},
        history=hist,
        follow_ups={u: frozenset(f) for u, f in follow_ups.items()} if follow_ups else None)
    frame_cols = population_columns(population)
    strata_records, tasks = draw_objects(context, order, quotas, frame_cols,
                                         quarter_draws(context), executor)
    if context.rules.between == "merge":
        merge_between_levels(tasks, context)
    if not staff:
        return _unstaffed(q, order, seed_material, frame_sha, policy, seed, strata_records,
                          tasks, frame)
    objects = object_table(population, tasks)
    tables = register_tables(registers)
    staffed = staff_tasks(tasks, seed=seed, policy=policy, registers=registers,
                          objects=objects, history=hist, tables=tables)
    record = build_record(context, order, seed_material, frame_sha, registers, registers_dir,
                          history, target, objects, strata_records, staffed, tables)
    if commitment is not None:
        record["inputs"]["commitment"] = {"seq": int(commitment["seq"]),
                                          "entry_hash": str(commitment["entry_hash"])}
    if reason:
        record["inputs"]["reason"] = str(reason)
    if follow_ups:
        record["inputs"]["follow_ups"] = follow_ups
    if beacon:  # the verified drand round (draw.beacon): its randomness is in seed_material
        record["inputs"]["beacon"] = dict(beacon)
    return DrawResult(record=record, frame=frame)  # the task list: built when first used


def _unstaffed(q: Quarter, order: list[str], seed_material: str, frame_sha: str,
               policy: Policy, seed: str, strata_records: list, tasks: list,
               frame: bytes) -> DrawResult:
    """The object draw alone: unstaffed skeletons, enough history for the overlap control of
    later object draws (no teams, so no recusal or caps)."""
    record = {"format": RECORD_FORMAT, "quarter": q.label, "units": order,
              "inputs": {"seed_material": str(seed_material), "frame_sha256": frame_sha,
                         "policy_sha256": policy.sha256, "seed": seed},
              "strata": strata_records, "tasks": tasks}
    return DrawResult(record=record, frame=frame)  # the skeletons' DataFrame: built when used


def draw_objects(context: DrawContext, order: Sequence[str], quotas: pd.DataFrame,
                 cols: Mapping[str, Any], drawn_this_quarter: dict[str, dict[str, str]],
                 executor: Any = None) -> tuple[list[dict], list[dict]]:
    """The object draw of every unit in drawing order: stratum records and task skeletons.

    A unit's draw reads what the other level drew this quarter (``avoid``); the counties
    come first, so a county never sees another unit of this draw, and the area level sees
    every county's. Without an ``executor`` the units are drawn one after the other. With
    one (:mod:`dsr_analysis.distributed`), every county is one task (given only its own
    objects when it draws from its own), then every area-level unit one task with all the
    counties' draws; the results are put together in drawing order - the same records and
    tasks, byte for byte, as drawing them one after the other.
    """
    strata_records: list[dict] = []
    tasks: list[dict] = []

    def add(unit_id: str, unit_strata: list[dict], unit_tasks: list[dict]) -> None:
        strata_records.extend(unit_strata)
        tasks.extend(unit_tasks)
        level = context.level_of[unit_id]
        for t in unit_tasks:
            drawn_this_quarter[level].setdefault(t["uscc"], t["task_id"])

    if executor is None:
        for unit_id in order:
            add(unit_id, *draw_unit(context, unit_id, quotas[quotas["unit"] == unit_id], cols,
                                    drawn_this_quarter))
        return strata_records, tasks
    shared_context = executor.scatter(context)
    shared_cols = None
    for level in ("county", "area"):
        units = [u for u in order if context.level_of[u] == level]
        if not units:
            continue
        drawn = executor.scatter({lv: dict(d) for lv, d in drawn_this_quarter.items()})
        futures = []
        for unit_id in units:
            unit = context.policy.unit(unit_id)
            if unit.draws_from == "all":
                if shared_cols is None:
                    shared_cols = executor.scatter(dict(cols))
                unit_cols = shared_cols
            else:  # only its own objects: the same candidates, in the same order
                own = cols["unit"] == unit_id
                unit_cols = {k: v[own] for k, v in cols.items()}
            futures.append(executor.submit(draw_unit, shared_context, unit_id,
                                           quotas[quotas["unit"] == unit_id], unit_cols, drawn))
        for unit_id, result in zip(units, executor.gather(futures), strict=True):
            add(unit_id, *result)
    return strata_records, tasks


def draw_province(policy: Policy, registers: Registers, quarter: str, seed_material: str,
                  ledger: Path, out_root: Path, *, scheduler: Any = None,
                  workers: int | None = None, registers_dir=None, reason: str | None = None):
    """The official draw of a whole province (every unit of ``policy``) with each unit's
    object draw as one task (:func:`draw_objects`) on ``scheduler``
    (:func:`dsr_analysis.distributed.resolve_scheduler`: ``"local"``, an address, a Client;
    default in this process), then merged, staffed, recorded and appended to the ledger in
    the canonical unit order by :func:`draw_and_record` - under the quarter's one
    commitment for all the units. The record, the ledger entry's record and every file are
    byte for byte those of the sequential draw (tested). Returns (result, entry, paths)."""
    with make_executor(scheduler, workers) as ex:
        return draw_and_record(policy, registers, quarter, seed_material, ledger, out_root,
                               registers_dir=registers_dir, reason=reason,
                               executor=ex if ex.distributed else None)


def build_record(context: DrawContext, order: list[str], seed_material: str, frame_sha: str,
            registers: Registers, registers_dir: str | Path | None,
            history: Sequence[Mapping[str, Any]], target: Mapping | None, objects: dict,
            strata_records: list[dict], staffed: list[dict],
            tables: Mapping[str, Mapping] | None = None) -> dict:
    policy = context.policy
    reg_dir = registers_dir
    if reg_dir is None and registers.sources:
        reg_dir = Path(next(iter(registers.sources.values()))).parent
    return {
        "format": RECORD_FORMAT,
        "quarter": context.quarter.label,
        "draw_key": draw_key(target, context.campaign if target else None),
        "units": order,
        "inputs": {
            "seed_material": str(seed_material),
            "frame_sha256": frame_sha,
            "policy_sha256": policy.sha256,
            "seed": context.seed,
            "policy": {"id": policy.id, "path": project_path(policy.path) if policy.path else "",
                       "sha256": policy.sha256, **policy_params(policy)},
            "registers": {
                "directory": project_path(reg_dir) if reg_dir is not None else "",
                "files": {name: {"path": project_path(p), "sha256": file_sha256(p)}
                          for name, p in sorted(registers.sources.items())},
            },
            "draw_mode": context.mode, "target": target,
            "campaign": context.campaign if target else None, "origin": context.origin,
            "unit_levels": context.level_of,
            "unit_names": policy.unit_names,
            "history": {
                "records": sorted(r.get("sha256") or record_sha256(r) for r in history),
                "tasks": [h.as_list() for h in context.history],
            },
            "objects": objects,
            **(tables if tables is not None else register_tables(registers)),
        },
        "strata": strata_records,
        "tasks": staffed,
    }


def policy_params(policy: Policy) -> dict:
    d = policy_to_dict(policy)
    return {key: d[key] for key in ("draw", "staffing", "joint", "methods")}


def commit_quarter(policy: Policy, registers: Registers, quarter: str, seed_source: str,
                   ledger: Path, out_root: Path, units=None, target=None, campaign=None,
                   origin: str = "routine", seed_form: str = "text", reason: str | None = None,
                   date: dt.date | str | None = None,
                   follow_ups: Mapping[str, Any] | None = None,
                   beacon: str | None = None) -> tuple[dict, Entry, Path]:
    """Step 1 of the protocol: fix the inputs and the seed source before the randomness
    exists; write the announcement (抽取公告) and append the commitment.

    ``date`` (default today; not after today, not before the ledger's latest commitment) is
    recorded and dates the announcement; the announcement is issued by the bureau of the
    units (:func:`~dsr_analysis.draw.protocol.issuer`). A commitment stands only with its
    announcement: every form (HTML, DOCX, PDF) is written into the staging folder first
    (:func:`~dsr_analysis.draw.outputs.stage_files`, for the entry computed before it is
    appended), then the entry is appended, then the files are moved into place - a failure
    before the append leaves no commitment, a kill after it leaves the files staged for the
    next command to move (:func:`~dsr_analysis.draw.outputs.recover`).
    ``follow_ups``: a re-inspection draw (see :func:`draw_quarter`); the commitment fixes them.
    When the ledger records the year's plan (``dsr plan publish`` / ``dsr plan amend``), a
    policy that is not the plan in force for the quarter is refused, as is a date before
    that plan's (:func:`~dsr_analysis.draw.revisions.commitment_plan_problem`).
    ``beacon`` (``drand:ROUND``): a drand round as a source of the seed material, alone or
    with ``seed_source`` (:mod:`dsr_analysis.draw.beacon`).
    Returns (commitment record, entry, announcement path)."""
    q = Quarter.parse(quarter)
    check_request(policy, q, "-", campaign)
    follow_ups = normalize_follow_ups(follow_ups)
    if follow_ups:
        target, origin, units = follow_up_request(follow_ups, units)
    key = draw_key(target, campaign)
    order = drawing_order(policy, units)
    _population, quotas = drawing_quotas(policy, registers, q, order, target, follow_ups)
    frame_sha = hashlib.sha256(canonical_frame_bytes(registers.enterprises)).hexdigest()
    files = {name: {"sha256": file_sha256(p)} for name, p in sorted(registers.sources.items())}
    policy_bytes = Path(policy.path).read_bytes()
    with exclusive(ledger):
        recover(out_root, ledger)
        all_entries = entries(ledger) if Path(ledger).exists() else []
        day = commitment_date(date, all_entries)
        problem = commitment_plan_problem(all_entries, q, policy.sha256, day,
                                          _("the policy file {path}").format(
                                              path=policy.path))
        if problem:  # the plan in force (dsr plan publish / amend): nothing written
            raise ProtocolError(problem)
        check_not_imported(all_entries, order)  # a unit imported from another bureau
        history = history_before(all_entries, None, q.label, key, order)
        record = build_commitment(
            policy, q, order, key, frame_sha, files, [r["sha256"] for r in history],
            quotas, seed_source, seed_form, head_of(all_entries), target, campaign, origin,
            reason, date=day, beacon=beacon)
        heads = foreign_heads(history)
        if heads:  # the other bureaus' ledgers the history's imported draws come from
            record["inputs"]["foreign_heads"] = heads
        if follow_ups:
            record["inputs"]["follow_ups"] = follow_ups
        entry = next_entry(all_entries, record, now_utc())
        folder = announcement_dir(out_root, record)
        staging = stage_files(
            out_root, entry.record_sha256, folder,
            lambda where: write_announcement(record, entry, [*all_entries, entry], where),
            what=N_("the announcement"))
        try:
            put_blob(ledger, policy_bytes)
            appended = append(ledger, record, created_at=entry.created_at)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        if appended.entry_hash != entry.entry_hash:  # only if the ledger was written unlocked
            shutil.rmtree(staging, ignore_errors=True)
            raise ProtocolError(_(
                "{ledger}: entry #{seq} was appended while the announcement was written "
                "(another program wrote the ledger without its lock); the commitment has no "
                "announcement and no draw can use it - commit again").format(
                    ledger=ledger, seq=appended.seq))
        paths = finish(staging, out_root)
        publish_chain(ledger, out_root, N_("commitment and its announcement are"))
    return record, appended, paths[announcement_names(appended.seq)[0]]


def announcement_dir(out_root: str | Path, commitment: Mapping[str, Any],
                     unit_names: Mapping[str, str] | None = None) -> Path:
    """The draw folder a commitment's announcement is written into (the folder of the draw
    it fixes: :func:`~dsr_analysis.draw.outputs.output_dir`); ``unit_names``: the policy's
    units, for a format-1 commitment (which does not record them)."""
    names = commitment.get("unit_names") or unit_names or {u: u for u in commitment["units"]}
    inputs = commitment.get("inputs", {})
    return output_dir(out_root, {"quarter": commitment["quarter"], "units": commitment["units"],
                                 "inputs": {"target": inputs.get("target"),
                                            "campaign": inputs.get("campaign"),
                                            "unit_levels": dict.fromkeys(names, 1)}})


def check_announcement(out_root: str | Path, commitment: Entry,
                       unit_names: Mapping[str, str] | None = None) -> None:
    """:class:`ProtocolError` naming the first missing form of a commitment's announcement:
    a draw may use a commitment only once its announcement was written in every form."""
    folder = announcement_dir(out_root, commitment.record, unit_names)
    for rel in announcement_names(commitment.seq):
        if not (folder / rel).is_file():
            raise ProtocolError(_(
                "commitment #{seq} ({quarter}, units {units}) has no announcement {path}: a "
                "draw may use a commitment only once its announcement is published. If it was "
                "published and the file was lost since, `dsr export` writes it again from the "
                "ledger; otherwise publish a new commitment (dsr commit) before the seed "
                "material exists").format(seq=commitment.seq, quarter=commitment.quarter,
                                          units=", ".join(commitment.units),
                                          path=folder / rel))


def export_announcements(ledger: str | Path, out_root: str | Path, policy: Policy,
                         quarter: str | None = None) -> list[Path]:
    """Write again, from the ledger, the announcement of every commitment that lacks one of
    its forms (a published announcement is never replaced: its DOCX and PDF would not be the
    same bytes); ``policy`` names the units and the issuer of format-1 commitments, which do
    not record them. An RFC 3161 token showing a commitment existed by its time is printed
    (:func:`dsr_analysis.timestamps.covering_text_zh`). Returns the files written."""
    from ..timestamps import covering_text_zh

    all_entries = entries(ledger)
    written = []
    for i, e in enumerate(all_entries):
        if not e.is_commitment or (quarter is not None and e.quarter != quarter):
            continue  # draws, plan revisions and imports have no announcement
        record = e.record
        if not record.get("unit_names"):
            record = {**record, "unit_names": policy.unit_names}
        folder = announcement_dir(out_root, record)
        missing = [n for n in announcement_names(e.seq) if not (folder / n).is_file()]
        if not missing:
            continue
        (folder / "public").mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=folder / "public", prefix=".export-") as tmp:
            write_announcement(record, e, all_entries[:i + 1], tmp, policy.unit_names,
                               policy.authority(), covering_text_zh(ledger, e.seq))
            for name in missing:  # only the missing forms: the others stay as published
                os.replace(Path(tmp) / name, folder / name)
                written.append(folder / name)
    return written


def drawing_quotas(policy: Policy, registers: Registers, q: Quarter, order: list[str],
                   target: Mapping | None, follow_ups: Mapping | None = None
                   ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The drawing population (classified; a targeted draw's matching objects - none is an
    error naming the filter) and its quota table (targeted draws skip ``offsite_full``; a
    re-inspection draw: :func:`~dsr_analysis.draw.objects.follow_up_quotas`)."""
    population = apply_target(classify(registers.enterprises, policy), target)
    if target and not len(population):
        raise DsrError(_("targeted draw: no object matches {target}; nothing was written"
                         ).format(target=_target_text(target)))
    if follow_ups:
        missing = sorted(set(target["uscc"]) - set(population["uscc"]))
        if missing:
            raise DsrError(_("re-inspection draw: {n} firm(s) to re-inspect are not in the "
                             "enterprise register: {firms}; nothing was written").format(
                                 n=len(missing), firms=", ".join(missing)))
        return population, follow_up_quotas(population, policy, q, order, follow_ups)
    quotas = quarterly_quotas(population, policy, q, registers.inspectors, units=order)
    if target:
        quotas = quotas[quotas["method"] != "offsite_full"]
    return population, quotas


def normalize_follow_ups(follow_ups: Mapping[str, Any] | None
                         ) -> dict[str, dict[str, list[str]]] | None:
    """``unit -> {uscc: [original task ids]}`` (or ``unit -> [uscc, …]``) in canonical form:
    every list sorted, units without firms left out; None when empty."""
    if not follow_ups:
        return None
    out: dict[str, dict[str, list[str]]] = {}
    for unit, firms in follow_ups.items():
        if isinstance(firms, Mapping):
            norm = {str(c): sorted({str(t) for t in ids}) for c, ids in firms.items()}
        else:
            norm = {str(c): [] for c in firms}
        if norm:
            out[str(unit)] = dict(sorted(norm.items()))
    return dict(sorted(out.items())) or None


def follow_up_request(follow_ups: Mapping[str, Mapping[str, Any]], units: Sequence[str] | None
                      ) -> tuple[dict[str, list[str]], str, list[str]]:
    """(target, origin, units) of a re-inspection draw: the USCCs listed, ``follow_up``, the
    units listed (``units``, when given, must be those)."""
    listed = sorted(follow_ups)
    if units is not None and sorted(units) != listed:
        raise DsrError(_("re-inspection draw: units {units} given, the firms to re-inspect "
                         "belong to {listed}").format(units=", ".join(units),
                                                      listed=", ".join(listed)))
    usccs = sorted({c for firms in follow_ups.values() for c in firms})
    return {"uscc": usccs}, FOLLOW_UP, listed


def _target_text(target: Mapping) -> str:
    return "; ".join(f"{k} = {', '.join(v)}" for k, v in target.items())


def draw_and_record(policy: Policy, registers: Registers, quarter: str, seed_material: str,
                    ledger: Path, out_root: Path, units=None, target=None, campaign=None,
                    origin: str = "routine", registers_dir=None, reason: str | None = None,
                    executor: Any = None, follow_ups: Mapping[str, Any] | None = None,
                    beacon_round: Any = None):
    """Step 2 of the protocol: draw under the quarter's commitment, append to the ledger,
    then move the files into place.

    ``beacon_round`` (a :class:`~dsr_analysis.draw.beacon.Round`, or its JSON file / hex
    signature): the drand round the commitment names, verified offline before anything is
    drawn (:func:`~dsr_analysis.draw.protocol.seed_of_sources`).

    Holds the ledger's lock from reading the history to moving the files; the files are
    staged before the commit (:mod:`dsr_analysis.draw.outputs`). Refused (nothing written)
    without a matching, unused commitment, or for a re-draw without a reason; a
    re-inspection draw (``follow_ups``) also when its firms are not the committed ones.
    Returns (result, entry, paths)."""
    follow_ups = normalize_follow_ups(follow_ups)
    if follow_ups:
        target, origin, units = follow_up_request(follow_ups, units)
    key = draw_key(target, campaign)
    order = drawing_order(policy, units)
    q = Quarter.parse(quarter)
    frame = canonical_frame_bytes(registers.enterprises)
    frame_sha = hashlib.sha256(frame).hexdigest()
    with exclusive(ledger):
        recover(out_root, ledger)
        all_entries = entries(ledger) if Path(ledger).exists() else []
        history = history_before(all_entries, None, q.label, key, order)
        latest = {(u, e_q, k) for (u, e_q, k) in _latest_keys(all_entries)}
        redraw = any((u, q.label, key) in latest for u in order)
        files = {name: file_sha256(p) for name, p in sorted(registers.sources.items())}
        commitment = check_commitment(all_entries, q.label, key, order, frame_sha, policy,
                                      [r["sha256"] for r in history], redraw, reason, files)
        check_announcement(out_root, commitment, policy.unit_names)
        check_follow_ups(commitment, follow_ups)
        material, evidence = seed_of_sources(commitment.record["seed_source"], seed_material,
                                             beacon_round)
        result = draw_quarter(policy, registers, q.label, material, history, units=units,
                              target=target, campaign=campaign, origin=origin,
                              registers_dir=registers_dir, frame=frame,
                              commitment=commitment_ref(commitment), reason=reason,
                              executor=executor, follow_ups=follow_ups, beacon=evidence)
        data = record_bytes(result.record)
        staging = stage(result, out_root, record_sha256(result.record))
        try:
            entry = append(ledger, result.record, data)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        paths = finish(staging, out_root)
        publish_chain(ledger, out_root)
    named = {"record": "public/record.json", "internal": "internal/internal.json",
             "csv": "internal/tasks.csv"}
    return result, entry, {k: paths[v] for k, v in named.items() if v in paths}


def publish_chain(ledger: str | Path, out_root: str | Path,
                  what: str = N_("draw is committed and its files are")) -> list[Path]:
    """The ledger's public chain after a commitment or a draw (:func:`~dsr_analysis.draw.
    imports.write_public_ledger`: what another bureau imports); a file that cannot be written
    is a :class:`~dsr_analysis.errors.FileSystemError` saying the entry stands."""
    from ..errors import FileSystemError

    try:
        return write_public_ledger(ledger, out_root)
    except OSError as exc:
        raise FileSystemError(_(
            "{path}: {reason} (operating system): the {what} in place, but the ledger's public "
            "chain (ledger-public/) was not written; dsr export writes it").format(
                path=exc.filename or out_root, reason=exc.strerror or exc,
                what=_(what))) from None


def check_follow_ups(commitment: Entry, follow_ups: Mapping | None) -> None:
    """:class:`ProtocolError` unless the firms to re-inspect are those the commitment fixed
    (a results register changed since it was published changes them)."""
    committed = commitment.record.get("inputs", {}).get("follow_ups")
    if (committed or None) == (follow_ups or None):
        return
    def firms(f):
        return {(u, c) for u, d in (f or {}).items() for c in d}
    added = sorted(firms(follow_ups) - firms(committed))
    gone = sorted(firms(committed) - firms(follow_ups))
    detail = "; ".join(
        [_("now due, not committed: {firms}").format(
            firms=", ".join(f"{u}:{c}" for u, c in added))] * bool(added)
        + [_("committed, no longer due: {firms}").format(
            firms=", ".join(f"{u}:{c}" for u, c in gone))] * bool(gone)
        ) or _("the original tasks listed differ")
    raise ProtocolError(_(
        "the firms to re-inspect are not those commitment #{seq} fixed ({detail}); the draw is "
        "refused - restore the results register it was committed from, or publish a new "
        "commitment before new seed material exists").format(seq=commitment.seq, detail=detail))


def _latest_keys(all_entries: list[Entry]):
    for e in all_entries:
        if e.is_draw:
            for u in e.units:
                yield (u, e.quarter, e.draw_key)


__all__ = [
    "DRAW_MODE_ZH", "FRAME_COLUMNS", "JOINT_ZH", "LEVEL_ZH", "METHOD_ZH", "RECORD_FORMAT",
    "RECORD_FORMATS", "TARGET_COLUMNS", "TASK_COLUMNS", "TASK_COLUMNS_ZH", "DrawResult",
    "HistoryTask", "InfeasibleError", "ProtocolError", "check_announcement", "commit_quarter",
    "normalize_follow_ups", "canonical_seed_material",
    "export_announcements", "merge_record",
    "split_record", "apply_target", "canonical_frame_bytes", "derive_seed",
    "draw_and_record", "draw_key", "draw_objects", "draw_province", "draw_quarter", "draw_stratum", "draw_unit", "history_tasks",
    "merge_between_levels", "object_digests", "object_ticket", "parse_target", "record_bytes",
    "record_sha256", "tasks_frame", "tasks_zh", "write_outputs",
]
