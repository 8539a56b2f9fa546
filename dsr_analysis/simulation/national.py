"""National scale: a hierarchy's jurisdictions simulated as independent tasks.

A policy whose units are named by a hierarchy (:mod:`dsr_analysis.hierarchy`) is expanded
into jurisdictions - one upper drawing unit (a prefecture) with the counties under it, or a
county alone - that draw independently of each other. :func:`simulate_national` runs both
engines on every jurisdiction's part of the register, partitioned by jurisdiction and
replicate chunk: per jurisdiction one task classifies its objects and builds the coverage
layout and the deterrence model, one task per chunk of replicates simulates, and one task
reduces the chunks to small tables (so a worker never sends a replicate x object array,
and the client holds only summaries). On a Dask cluster every jurisdiction's tasks are
submitted at once; in this process they run one jurisdiction at a time, ``workers``
threads over its chunks.

Randomness: jurisdiction ``j`` (canonical order) gets the ``j``-th child of
``SeedSequence(seed)``; its replicates the children of that, exactly as a run of the engines
on the jurisdiction alone with that ``SeedSequence`` as its seed. Results never depend on
where or in which order the tasks run (tested: in-process = a two-worker LocalCluster).

Memory: the client holds the register and the results' summaries; each task holds its
jurisdiction's arrays and ``chunk x objects`` of per-replicate state (coverage ~30 bytes,
deterrence ~120 bytes per replicate-object).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..categories import classify
from ..errors import ParameterError
from ..i18n import _
from ..hierarchy import Jurisdiction, jurisdictions, split_register
from ..overlap import OverlapRules
from ..policy import CATEGORIES, Policy
from ..quotas import credit_share, quarterly_quotas
from .coverage import (
    CoverageLayout,
    Tallies,
    build_layout,
    coverage_chunk,
    coverage_result,
    merge_tallies,
    workload_summary,
)
from .deterrence import (
    DeterrenceModel,
    DeterrenceParams,
    build_model,
    deterrence_chunk,
)
from ..distributed import as_executor
from .sampling import Budget, chunks, default_chunk_size, progress_bar, replicate_seeds, save_tables

__all__ = ["NationalJob", "NationalResult", "national_headline", "prepare_jurisdiction",
           "simulate_national", "submit_national", "top_summary", "unit_summary"]


@dataclass(frozen=True)
class NationalResult:
    """Results of :func:`simulate_national` as tidy DataFrames (summaries: nothing per
    object or per replicate x unit).

    Attributes
    ----------
    jurisdictions : DataFrame
        One row per jurisdiction: ``jurisdiction, name, top, units, objects,
        inspectors, coverage`` (yearly, all objects, mean over replicates and years),
        ``inspections_per_quarter, inspector_days_per_quarter, capacity_days_per_quarter,
        violation_rate_last_year, hit_rate`` (NaN for an engine not run).
    coverage : DataFrame
        Per replicate x year x top-level unit x category x credit class: ``objects,
        covered, inspections`` (sums over the jurisdictions; :func:`coverage_summary`
        accepts the result for its ``by`` columns).
    units : DataFrame
        Per unit and category: ``jurisdiction, unit, category, objects, coverage,
        coverage_p05, coverage_p95, inspections_per_object`` (over replicates and years).
    workload : DataFrame
        Per unit: ``jurisdiction, unit, onsite, offsite, inspector_days, capacity_days,
        load`` (means per quarter).
    timeline : DataFrame
        Deterrence per replicate x quarter x top-level unit: ``objects, violators,
        inspections, onsite, offsite, detected, inspector_days`` (sums), then
        ``violation_rate``, ``hit_rate`` and ``undetected``; empty without deterrence.
    quotas : DataFrame
        The first quarter's quota table of every jurisdiction (``jurisdiction`` added).
    settings : dict
    """

    jurisdictions: pd.DataFrame
    coverage: pd.DataFrame
    units: pd.DataFrame
    workload: pd.DataFrame
    timeline: pd.DataFrame
    quotas: pd.DataFrame
    settings: dict

    def save(self, directory, prefix: str = "national") -> list:
        """Write every table as CSV (UTF-8) into ``directory``; returns the paths."""
        return save_tables(self, ("jurisdictions", "coverage", "units", "workload",
                                  "timeline", "quotas"), directory, prefix)


# --------------------------------------------------------------------------------------
# Tasks (pure functions of their inputs; what a worker runs)
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Prepared:
    """What a jurisdiction fixes before its first draw."""

    jurisdiction: Jurisdiction
    objects: int
    inspectors: int
    layout: CoverageLayout | None
    rules: OverlapRules
    model: DeterrenceModel | None
    quotas: pd.DataFrame
    budget: Budget


def prepare_jurisdiction(j: Jurisdiction, enterprises: pd.DataFrame,
                         inspectors: pd.DataFrame | None, budget: Budget,
                         params: DeterrenceParams | None, coverage: bool,
                         deterrence: bool) -> Prepared:
    """Classify a jurisdiction's objects and build its layout and model."""
    classified = classify(enterprises, j.policy)
    table = quarterly_quotas(classified, j.policy, f"{j.policy.year}Q1", inspectors)
    layout = build_layout(classified, j.policy, inspectors, budget, quotas=table) \
        if coverage else None
    model = build_model(classified, j.policy, params or DeterrenceParams(), inspectors,
                        budget) if deterrence else None
    table = table.copy()
    table.insert(0, "jurisdiction", j.id)
    return Prepared(jurisdiction=j, objects=len(classified),
                    inspectors=0 if inspectors is None else len(inspectors), layout=layout,
                    rules=OverlapRules.from_policy(j.policy), model=model, quotas=table,
                    budget=budget)


def _coverage_chunk(prep: Prepared, seeds: list, years: int) -> Tallies:
    return coverage_chunk(prep.layout, prep.rules, seeds, years)


def _deterrence_chunk(prep: Prepared, seeds: list, years: int) -> tuple[dict, dict]:
    return deterrence_chunk(prep.model, seeds, years)


def summarise_jurisdiction(prep: Prepared, cov_parts: list, det_parts: list,
                           replicates: int, years: int, seed: Any) -> dict[str, Any]:
    """The jurisdiction's chunks reduced to small tables."""
    j = prep.jurisdiction
    T = 4 * years
    row: dict[str, Any] = dict(jurisdiction=j.id, name=j.name, top=j.top, units=len(j.units),
                               objects=prep.objects, inspectors=prep.inspectors)
    out: dict[str, Any] = {}
    if prep.layout is not None:
        tallies = merge_tallies(prep.layout, cov_parts, replicates, years)
        res = coverage_result(prep.layout, prep.rules, tallies, replicates, years, seed,
                              prep.budget)
        cov = res.coverage.groupby(["replicate", "year", "category", "credit_class"],
                                   sort=True)[["objects", "covered", "inspections"]].sum()
        cov = cov.reset_index()
        cov.insert(2, "top", j.top)
        out["coverage"] = cov
        units = unit_summary(res)
        units.insert(0, "jurisdiction", j.id)
        out["units"] = units
        work = workload_summary(res)
        work.insert(0, "jurisdiction", j.id)
        out["workload"] = work
        tot = res.coverage.groupby(["replicate", "year"])[["objects", "covered"]].sum()
        row["coverage"] = float((tot["covered"] / tot["objects"]).mean()) if len(tot) else 0.0
        w = res.workload.groupby(["replicate", "year", "quarter"])[
            ["onsite", "offsite", "inspector_days", "capacity_days"]].sum()
        row["inspections_per_quarter"] = float((w["onsite"] + w["offsite"]).mean())
        row["inspector_days_per_quarter"] = float(w["inspector_days"].mean())
        row["capacity_days_per_quarter"] = float(w["capacity_days"].mean())
        row["quota_attainment_min"] = float(res.quotas["attainment_min"].min()) \
            if len(res.quotas) else 1.0
    if prep.model is not None:
        keys = ("violators", "inspections", "onsite", "offsite", "detected", "inspector_days")
        tl = {k: np.zeros((replicates, T)) for k in keys}
        start = 0
        for ptl, _pbc in det_parts:
            n = ptl["violators"].shape[0]
            for k in keys:
                tl[k][start:start + n] = ptl[k]
            start += n
        frame = pd.DataFrame({"replicate": np.repeat(np.arange(replicates), T),
                              "t": np.tile(np.arange(1, T + 1), replicates), "top": j.top,
                              "objects": prep.objects})
        for k in keys:
            frame[k] = tl[k].reshape(-1)
        out["timeline"] = frame
        last = frame[frame["t"] > T - 4]
        row["violation_rate_last_year"] = float(last["violators"].sum() / (
            len(last) * prep.objects)) if prep.objects else 0.0
        insp = frame["inspections"].sum()
        row["hit_rate"] = float(frame["detected"].sum() / insp) if insp else 0.0
    out["row"] = row
    out["quotas"] = prep.quotas
    return out


def unit_summary(res) -> pd.DataFrame:
    """Yearly coverage per unit and category of a coverage result: ``objects, coverage``
    (mean over replicates and years), ``coverage_p05, coverage_p95`` (quantiles across them)
    and ``inspections_per_object`` - :func:`coverage_summary` by unit and category, with the
    quantiles computed for all groups at once."""
    keys = ["unit", "category"]
    g = res.coverage.groupby(["replicate", "year", *keys], sort=False)[
        ["objects", "covered", "inspections"]].sum().reset_index()
    g["coverage"] = g["covered"] / g["objects"]
    g["inspections_per_object"] = g["inspections"] / g["objects"]
    by = g.groupby(keys, sort=False)
    out = by.agg(objects=("objects", "first"), coverage=("coverage", "mean"),
                 inspections_per_object=("inspections_per_object", "mean"))
    out["coverage_p05"] = by["coverage"].quantile(0.05)
    out["coverage_p95"] = by["coverage"].quantile(0.95)
    return out[["objects", "coverage", "coverage_p05", "coverage_p95",
                "inspections_per_object"]].reset_index()


# --------------------------------------------------------------------------------------
# The orchestrating call
# --------------------------------------------------------------------------------------
def simulate_national(
    policy: Policy,
    enterprises: pd.DataFrame,
    inspectors: pd.DataFrame | None = None,
    params: DeterrenceParams | None = None,
    *,
    replicates: int = 100,
    years: int = 1,
    seed: int | None = 0,
    chunk_size: int | None = None,
    budget: Budget | None = None,
    coverage: bool = True,
    deterrence: bool = True,
    scheduler=None,
    workers: int | None = None,
    progress: bool = False,
    units: pd.DataFrame | None = None,
) -> NationalResult:
    """Simulate every jurisdiction of ``policy``'s hierarchy on its part of the register.

    Parameters
    ----------
    policy : Policy
        A policy with a ``hierarchy`` section (:mod:`dsr_analysis.hierarchy`).
    enterprises, inspectors : DataFrame
        The registers of the whole hierarchy (unclassified); every row must belong to a
        drawing unit (else :class:`~dsr_analysis.errors.RegisterError` naming the units).
    params : DeterrenceParams, optional
        Behaviour parameters of the deterrence engine.
    replicates, years, seed, chunk_size, budget
        As :func:`dsr_analysis.simulation.coverage.simulate_coverage`; ``chunk_size``
        defaults per jurisdiction (:func:`default_chunk_size` of its objects).
    coverage, deterrence : bool
        Which engines run.
    scheduler, workers
        Where the tasks run (:func:`dsr_analysis.distributed.resolve_scheduler`);
        the results are the same wherever they run.
    units : DataFrame, optional
        The unit table (default: the hierarchy's own, :func:`dsr_analysis.hierarchy.load_units`).
    """
    with as_executor(scheduler, workers) as ex:
        return submit_national(ex, policy, enterprises, inspectors, params,
                               replicates=replicates, years=years, seed=seed,
                               chunk_size=chunk_size, budget=budget, coverage=coverage,
                               deterrence=deterrence, progress=progress, units=units).result()


@dataclass
class NationalJob:
    """A national run handed to an executor; :meth:`result` waits for its jurisdictions."""

    executor: Any
    policy: Policy
    futures: list
    replicates: int
    years: int
    seed: Any
    coverage: bool
    deterrence: bool
    bar: Any

    def result(self) -> NationalResult:
        parts = self.executor.gather(self.futures)
        self.bar.close()
        return _national_tables(parts, self.policy, self.replicates, self.years, self.seed,
                                self.coverage, self.deterrence)


def submit_national(ex, policy: Policy, enterprises: pd.DataFrame,
                    inspectors: pd.DataFrame | None = None,
                    params: DeterrenceParams | None = None, *, replicates: int = 100,
                    years: int = 1, seed: int | None = 0, chunk_size: int | None = None,
                    budget: Budget | None = None, coverage: bool = True,
                    deterrence: bool = True, progress: bool = False,
                    units: pd.DataFrame | None = None) -> NationalJob:
    """Hand every jurisdiction's tasks to the executor ``ex`` (see :func:`simulate_national`):
    per jurisdiction a preparation task, one task per chunk and engine, a summary task."""
    if not 1 <= years <= 60:
        raise ParameterError(_("years: {years} is out of range [1, 60]").format(years=years))
    if not (coverage or deterrence):
        raise ParameterError(_("simulate_national: neither coverage nor deterrence asked for"))
    budget = budget or Budget()
    juris = jurisdictions(policy, units)
    parts_e = split_register(enterprises, juris, "enterprises")
    parts_i = split_register(inspectors, juris, "inspectors") if inspectors is not None \
        else {j.id: None for j in juris}
    root = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    seeds = root.spawn(len(juris))
    bar = progress_bar(len(juris), progress, "simulate jurisdictions")
    results = []
    for j, ss in zip(juris, seeds, strict=True):
        frame = ex.scatter(parts_e[j.id])
        insp = ex.scatter(parts_i[j.id]) if parts_i[j.id] is not None else None
        prep = ex.submit(prepare_jurisdiction, j, frame, insp, budget, params, coverage,
                         deterrence)
        rep_seeds = replicate_seeds(ss, replicates)
        size = chunk_size or default_chunk_size(len(parts_e[j.id]))
        cov_f, det_f = [], []
        for sl in chunks(replicates, size):
            if coverage:
                cov_f.append(ex.submit(_coverage_chunk, prep, rep_seeds[sl], years))
            if deterrence:
                det_f.append(ex.submit(_deterrence_chunk, prep, rep_seeds[sl], years))
        done = ex.submit(summarise_jurisdiction, prep, cov_f, det_f, replicates, years, ss)
        ex.on_done(done, bar.update)
        results.append(done)
    return NationalJob(executor=ex, policy=policy, futures=results, replicates=replicates,
                       years=years, seed=seed, coverage=coverage, deterrence=deterrence,
                       bar=bar)


def _national_tables(parts: Sequence[dict], policy: Policy, replicates: int, years: int,
                     seed, coverage: bool, deterrence: bool) -> NationalResult:
    rows = pd.DataFrame([p["row"] for p in parts])
    for col in ("coverage", "inspections_per_quarter", "inspector_days_per_quarter",
                "capacity_days_per_quarter", "quota_attainment_min",
                "violation_rate_last_year", "hit_rate"):
        if col not in rows:
            rows[col] = np.nan

    def cat(key, sum_by=None):
        frames = [p[key] for p in parts if key in p]
        if not frames:
            return pd.DataFrame()
        frame = pd.concat(frames, ignore_index=True)
        if sum_by is not None:
            frame = frame.groupby(sum_by, sort=False).sum(numeric_only=True).reset_index()
        return frame

    cov = cat("coverage", ["replicate", "year", "top", "category", "credit_class"])
    timeline = cat("timeline", ["replicate", "t", "top"])
    if len(timeline):
        timeline["violation_rate"] = timeline["violators"] / timeline["objects"]
        timeline["hit_rate"] = np.divide(timeline["detected"], timeline["inspections"],
                                         out=np.zeros(len(timeline)),
                                         where=timeline["inspections"] > 0)
        timeline["undetected"] = timeline["violators"] - timeline["detected"]
    settings = dict(replicates=replicates, years=years, seed=seed, policy=policy.id,
                    jurisdictions=len(parts), objects=int(rows["objects"].sum()),
                    coverage=coverage, deterrence=deterrence)
    return NationalResult(jurisdictions=rows, coverage=cov, units=cat("units"),
                          workload=cat("workload"), timeline=timeline, quotas=cat("quotas"),
                          settings=settings)


def national_headline(result: NationalResult, policy: Policy) -> dict[str, Any]:
    """Headline numbers of a national run (the keys of a scenario's headline)."""
    h: dict[str, Any] = {"objects": result.settings["objects"],
                         "jurisdictions": result.settings["jurisdictions"]}
    share = credit_share(result.quotas, policy) if len(result.quotas) else 0.0
    h["credit_share"] = float(share)
    h["credit_share_met"] = bool(share + 1e-12 >= policy.credit_risk.min_share)
    if len(result.coverage):
        c = result.coverage
        for category in CATEGORIES:
            g = c[c["category"] == category].groupby(["replicate", "year"])[
                ["objects", "covered"]].sum()
            if len(g) and g["objects"].sum():
                h[f"coverage_{category}"] = float((g["covered"] / g["objects"]).mean())
        g = c.groupby(["replicate", "year"])[["objects", "covered"]].sum()
        h["coverage_all"] = float((g["covered"] / g["objects"]).mean())
        j = result.jurisdictions
        h["quota_attainment_min"] = float(j["quota_attainment_min"].min())
        h["inspections_per_quarter"] = float(j["inspections_per_quarter"].sum())
        h["inspector_days_per_quarter"] = float(j["inspector_days_per_quarter"].sum())
        h["capacity_days_per_quarter"] = float(j["capacity_days_per_quarter"].sum())
    if len(result.timeline):
        t = result.timeline.groupby(["replicate", "t"])[
            ["objects", "violators", "detected", "inspections"]].sum().reset_index()
        T = int(t["t"].max())
        last = t[t["t"] > T - 4]
        h["violation_rate_last_year"] = float((last["violators"] / last["objects"]).mean())
        h["detected_per_quarter"] = float(t["detected"].mean())
        h["undetected_per_quarter"] = float((t["violators"] - t["detected"]).mean())
        h["hit_rate"] = float(t["detected"].sum() / t["inspections"].sum()) \
            if t["inspections"].sum() else 0.0
    return h


def top_summary(result: NationalResult) -> pd.DataFrame:
    """Per top-level unit (province): objects, yearly coverage (mean over replicates and
    years) and, with deterrence, the violation rate of the last year and the hit rate."""
    out = []
    if len(result.coverage):
        g = result.coverage.groupby(["top", "replicate", "year"])[["objects", "covered"]].sum()
        g["coverage"] = g["covered"] / g["objects"]
        out.append(g.groupby("top").agg(objects=("objects", "first"),
                                          coverage=("coverage", "mean")))
    if len(result.timeline):
        t = result.timeline
        T = int(t["t"].max())
        last = t[t["t"] > T - 4]
        v = last.groupby("top")[["violators", "objects"]].sum()
        d = t.groupby("top")[["detected", "inspections"]].sum()
        out.append(pd.DataFrame({"violation_rate_last_year": v["violators"] / v["objects"],
                                 "hit_rate": d["detected"] / d["inspections"]}))
    if not out:
        return pd.DataFrame()
    return pd.concat(out, axis=1).reset_index().rename(columns={"index": "top"})

