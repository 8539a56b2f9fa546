"""The object draw, step by step (R3, R4, R6): targeted populations, earlier checks, and per
unit and stratum the exclusions, inclusion probabilities, tickets and selection; merging
between levels. :func:`dsr_analysis.draw.draw_quarter` runs the steps in order."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DsrError
from ..i18n import _
from ..overlap import (FOLLOW_UP, LEVELS, EarlierChecks, OverlapRules, earlier_checks,
                       exclusions, rounds_of, selection_order)
from ..periods import Quarter
from ..policy import CATEGORIES, CREDIT_CLASSES, Policy, QuotaRule
from ..quotas import (CLASS_COLUMNS, QUOTA_COLUMNS, class_bases, inclusion_probabilities,
                      pareto_keys, ticket_uniforms)
from .record import object_digests

#: Enterprise columns a targeted draw may filter on.
TARGET_COLUMNS = ("industry", "town", "category", "unit", "credit_class", "permit_class",
                  "emergency_risk", "key_polluter", "offsite_capable", "uscc")
#: Subset (and stratum suffix, ``{category}/follow_up``) of a re-inspection draw's strata.
FOLLOW_UP_SUBSET = "follow_up"



# Targeted draws
# --------------------------------------------------------------------------------------
def parse_target(text: str | None) -> dict[str, list[str]] | None:
    """``"industry=畜禽养殖,食品制造;town=雄县一号片区"`` -> mapping column -> values."""
    if text is None or not str(text).strip():
        return None
    target: dict[str, list[str]] = {}
    for part in str(text).split(";"):
        if not part.strip():
            continue
        if "=" not in part:
            raise DsrError(_("target '{text}': '{part}' is not column=value[,value…]").format(
                text=text, part=part))
        col, values = part.split("=", 1)
        col = col.strip()
        if col not in TARGET_COLUMNS:
            raise DsrError(_("target '{text}': unknown column '{column}' (valid: {valid})"
                             ).format(text=text, column=col, valid=", ".join(TARGET_COLUMNS)))
        vals = [v.strip() for v in values.split(",") if v.strip()]
        if not vals:
            raise DsrError(_("target '{text}': no value for '{column}'").format(text=text,
                                                                                column=col))
        target[col] = sorted(set(vals))
    return dict(sorted(target.items())) or None


def apply_target(classified: pd.DataFrame, target: Mapping[str, Sequence[str]] | None
                 ) -> pd.DataFrame:
    if not target:
        return classified
    mask = np.ones(len(classified), dtype=bool)
    for col, values in target.items():
        series = classified[col]
        if series.dtype == bool:
            wanted = {v.lower() in ("true", "1", "是", "yes") for v in values}
            mask &= series.isin(list(wanted)).to_numpy()
        else:
            mask &= series.astype(str).isin(list(values)).to_numpy()
    return classified[mask]


# --------------------------------------------------------------------------------------

# History (earlier draws) as the draw sees it
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class HistoryTask:
    """A task of an earlier draw, as far as overlap control and recusal need it."""

    quarter: str
    unit: str
    uscc: str
    task_id: str
    inspector_ids: tuple[str, ...]
    origin: str
    method: str

    def as_list(self) -> list:
        return [self.quarter, self.unit, self.uscc, self.task_id, ";".join(self.inspector_ids),
                self.origin, self.method]


def history_tasks(records: Iterable[Mapping[str, Any]], quarter: Quarter,
                  recusal_quarters: int) -> list[HistoryTask]:
    """Tasks of earlier records that matter for a draw of ``quarter``: the same year
    (overlap control), the same quarter (caps, between levels) and the last
    ``recusal_quarters`` quarters (recusal)."""
    earliest = quarter
    for _quarter in range(recusal_quarters):
        earliest = earliest.previous()
    earliest = min(earliest, Quarter(quarter.year, 1))
    out = []
    for rec in records:
        rq = Quarter.parse(rec["quarter"])
        if not (earliest <= rq <= quarter):
            continue
        for t in rec["tasks"]:
            out.append(HistoryTask(rec["quarter"], t["unit"], t["uscc"], t["task_id"],
                                   tuple(m[0] for m in t.get("team", ())), t["origin"],
                                   t.get("method", "")))
    out.sort(key=lambda h: (Quarter.parse(h.quarter), h.task_id))
    return out


# --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DrawContext:
    """What every step of one draw shares."""

    policy: Policy
    quarter: Quarter
    seed: str
    origin: str
    mode: str
    prefix: str | None          # task-id prefix of an untargeted draw (None: targeted)
    campaign: str
    rules: OverlapRules
    level_of: dict[str, str]
    history: list[HistoryTask]
    #: A re-inspection draw (origin ``follow_up``): unit -> the USCCs it re-inspects.
    follow_ups: Mapping[str, frozenset[str]] | None = None

    def task_id(self, unit_id: str, seq: int) -> str:
        if self.prefix is not None:
            return f"{self.prefix}-{unit_id}-{seq:04d}"
        return f"{self.quarter.label}-{unit_id}-{self.campaign}-{seq:04d}"


def check_request(policy: Policy, q: Quarter, seed_material: str, campaign: str | None) -> None:
    if q.year != policy.year:
        raise DsrError(_("quarter {quarter} is outside the policy year {year} ({path})").format(
            quarter=q.label, year=policy.year, path=policy.path))
    if not str(seed_material).strip():
        raise DsrError(_("seed material is empty: supply the published value (e.g. a lottery "
                         "result) with --seed-material"))
    if campaign is not None and not str(campaign).replace("_", "").replace("-", "").isalnum():
        raise DsrError(_("campaign label '{campaign}' may hold letters, digits, '-' and '_' "
                         "only").format(campaign=campaign))


def population_columns(population: pd.DataFrame) -> dict[str, np.ndarray]:
    """The deciding columns of the drawing population, rows sorted by uscc once (candidates
    then come out sorted)."""
    order = np.argsort(population["uscc"].to_numpy().astype(str), kind="stable")
    credit = pd.Index(CREDIT_CLASSES).get_indexer(population["credit_class"])
    return {"uscc": population["uscc"].to_numpy()[order],
            "unit": _fixed_width(population["unit"])[order],
            "category": _fixed_width(population["category"])[order],
            "credit_code": credit[order],
            "positive_list": population["positive_list"].to_numpy(dtype=bool)[order]}


def _fixed_width(series: pd.Series) -> np.ndarray:
    """A low-cardinality text column as a fixed-width unicode array (equal values, compared
    in C rather than object by object)."""
    codes, uniques = pd.factorize(series, use_na_sentinel=False)
    texts = np.array([str(u) for u in (uniques.tolist() if hasattr(uniques, "tolist")
                                        else list(uniques))] or [""], dtype=str)
    return texts[codes]


def quarter_draws(context: DrawContext) -> dict[str, dict[str, str]]:
    """Objects drawn this quarter per level (uscc -> task id), from earlier draws of it."""
    drawn: dict[str, dict[str, str]] = {lv: {} for lv in LEVELS}
    for h in context.history:
        if h.quarter == context.quarter.label and h.unit in context.level_of:
            drawn[context.level_of[h.unit]].setdefault(h.uscc, h.task_id)
    return drawn


def unit_checks(context: DrawContext, unit_id: str) -> EarlierChecks:
    """This year's earlier checks as ``unit_id`` counts them (:mod:`dsr_analysis.overlap`)."""
    same_year = [(h.unit, h.uscc, h.origin) for h in context.history
                 if Quarter.parse(h.quarter).year == context.quarter.year]
    return earlier_checks(same_year, unit_id, context.level_of, context.rules)


def stratum_candidates(cols: Mapping[str, np.ndarray], unit: Any, row: Any,
                       follow_ups: Mapping[str, frozenset[str]] | None = None
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Candidates of one stratum (USCCs sorted) and their credit-class codes (0-3 = A-D).
    A re-inspection stratum (subset ``follow_up``) holds the unit's firms to re-inspect of
    its category, wherever they are registered."""
    mask = cols["category"] == row.category
    if row.subset == FOLLOW_UP_SUBSET:
        mask &= np.isin(cols["uscc"], sorted((follow_ups or {}).get(unit.id, ())))
        return cols["uscc"][mask], cols["credit_code"][mask]
    if unit.draws_from != "all":
        mask &= cols["unit"] == unit.id
    if row.subset == "positive_list":
        mask &= cols["positive_list"]
    elif row.subset == "not_positive_list":
        mask &= ~cols["positive_list"]
    return cols["uscc"][mask], cols["credit_code"][mask]


def draw_unit(context: DrawContext, unit_id: str, unit_quotas: pd.DataFrame,
              cols: Mapping[str, np.ndarray], drawn_this_quarter: Mapping[str, Mapping[str, str]]
              ) -> tuple[list[dict], list[dict]]:
    """Draw every stratum of one unit; returns its stratum records and task skeletons."""
    unit = context.policy.unit(unit_id)
    other_level = "county" if unit.level == "area" else "area"
    checks = unit_checks(context, unit_id)
    rules = {r.id: r for r in context.policy.quotas.rules}
    strata: list[dict] = []
    tasks: list[dict] = []
    for row in unit_quotas.itertuples(index=False, name="Stratum"):
        candidates, classes = stratum_candidates(cols, unit, row, context.follow_ups)
        if context.origin == FOLLOW_UP:  # a re-inspection is owed: no overlap control
            eligible, excluded = np.ones(len(candidates), dtype=bool), []
            rounds = np.zeros(len(candidates), dtype=np.int64)
        else:
            eligible, excluded = exclusions(
                candidates, level=unit.level, rules=context.rules, checks=checks,
                drawn_by_other_level=drawn_this_quarter[other_level],
                year=context.quarter.year, origin=context.origin, method=row.method)
            rounds = rounds_of(candidates[eligible], context.rules, checks)
        rec, drawn_classes = draw_stratum(
            context.seed, unit_id, row, rules.get(row.quota_rule), context.policy, candidates,
            classes, eligible, excluded, rounds)
        strata.append(rec)
        kind = "offsite_full" if row.method == "offsite_full" else "random"
        lam = rec["inclusion_probability"]
        for (code, ticket, _key), cls in zip(rec["drawn"], drawn_classes, strict=True):
            tasks.append({
                "task_id": context.task_id(unit_id, len(tasks) + 1), "quarter": context.quarter.label,
                "unit": unit_id, "level": unit.level, "uscc": code, "stratum": rec["stratum"],
                "category": row.category, "subset": row.subset, "credit_class": cls,
                "kind": kind, "ticket": ticket, "inclusion_probability": lam[cls],
                "draw_mode": context.mode, "origin": context.origin,
            })
    return strata, tasks


def draw_stratum(seed: str, unit_id: str, row: Any, rule: QuotaRule | None, policy: Policy,
                 candidates: np.ndarray, classes: np.ndarray, eligible: np.ndarray,
                 excluded: list[list[str]], rounds: np.ndarray) -> tuple[dict, list[str]]:
    """Inclusion probabilities, tickets and selection of one stratum: its record, and the
    credit class of each drawn object.

    ``candidates`` (USCCs, sorted) with ``classes`` (codes 0-3) and the ``eligible`` mask;
    ``rounds`` per eligible object; ``rule`` None for a re-inspection stratum (equal class
    bases; its quota is its population). ``lambda`` per credit class comes from
    :func:`dsr_analysis.quotas.inclusion_probabilities` on the eligible objects; each eligible
    object's ticket ``SHA-256("{seed}|{unit}|{stratum}|{uscc}")`` gives its uniform and Pareto
    key; the quota is filled in the order of ``(round, key, ticket)``. An ``offsite_full``
    stratum takes every eligible object.
    """
    label = row.stratum
    codes, cls = candidates[eligible], classes[eligible]
    counts = np.bincount(cls, minlength=len(CREDIT_CLASSES))
    n_eligible = len(codes)
    quota = int(row.quota)
    flag = row.flag or ""
    rounds_map: dict[str, int] = {}
    bases = class_bases(policy, rule) if rule is not None else (1.0,) * len(CREDIT_CLASSES)
    if row.method == "offsite_full":
        lam = np.where(counts > 0, 1.0, 0.0)
        drawn = [[code, "", 0.0] for code in codes.tolist()]
        picked = cls
    else:
        if quota > n_eligible:
            note = (f"shortfall: {unit_id}/{label} needs {quota} but only {n_eligible} "
                    f"objects are eligible after overlap control ({len(candidates)} in the "
                    f"stratum, {len(excluded)} excluded): all drawn")
            flag = f"{flag}; {note}" if flag else note
        lam = inclusion_probabilities(counts, quota, bases)
        eligible_codes = codes.tolist()
        digests = object_digests(seed, unit_id, label, eligible_codes)
        keys = pareto_keys(ticket_uniforms(digests), lam[cls])
        idx = selection_order(rounds, keys, digests)[:min(quota, n_eligible)]
        drawn = [[eligible_codes[i], digests[i].hex(), float(keys[i])] for i in idx.tolist()]
        picked = cls[idx]
        nonzero = np.flatnonzero(rounds)
        rounds_map = {eligible_codes[i]: int(rounds[i]) for i in nonzero.tolist()}
    lam_by = dict(zip(CREDIT_CLASSES, lam.tolist(), strict=True))
    names = np.array(CREDIT_CLASSES)
    record = {
        "unit": unit_id, "stratum": label, "category": row.category, "subset": row.subset,
        "quota_rule": row.quota_rule, "method": row.method,
        "credit_weighted": bool(row.credit_weighted),
        "bases": dict(zip(CREDIT_CLASSES, bases, strict=True)),
        "population": len(candidates), "quota": quota,
        "candidates": {c: candidates[classes == j].tolist()
                       for j, c in enumerate(CREDIT_CLASSES)},
        "excluded": excluded,
        "eligible_count": n_eligible,
        "eligible_by_class": dict(zip(CREDIT_CLASSES, counts.tolist(), strict=True)),
        "inclusion_probability": lam_by,
        "expected": {c: int(n) * lam_by[c] for c, n in zip(CREDIT_CLASSES, counts, strict=True)},
        "rounds": rounds_map, "drawn": drawn, "flag": flag,
    }
    return record, names[picked].tolist()


def merge_between_levels(tasks: list[dict], context: DrawContext) -> None:
    """Between levels, merge: the area task and the county task of one object in a quarter
    are one joint on-site visit (``merged_with`` on both)."""
    county_of = {t["uscc"]: t["task_id"] for t in tasks if t["level"] == "county"}
    for h in context.history:
        if h.quarter == context.quarter.label and context.level_of.get(h.unit) == "county":
            county_of.setdefault(h.uscc, h.task_id)
    area_of = {t["uscc"]: t["task_id"] for t in tasks if t["level"] == "area"}
    for t in tasks:
        if t["level"] == "area" and t["uscc"] in county_of:
            t["merged_with"] = county_of[t["uscc"]]
        elif t["level"] == "county" and t["uscc"] in area_of:
            t["merged_with"] = area_of[t["uscc"]]


def object_table(population: pd.DataFrame, tasks: Sequence[Mapping]) -> dict:
    """uscc -> {name, unit, industry, offsite_capable} of the drawn objects, by uscc."""
    codes = sorted({t["uscc"] for t in tasks})
    columns = ["name", "unit", "industry", "offsite_capable"]
    # The drawn rows picked by a mask (no index over the whole register), then put in uscc
    # order; a register with a repeated drawn uscc takes the general path.
    wanted = set(codes)
    mask = np.fromiter(map(wanted.__contains__, population["uscc"].tolist()), dtype=bool,
                       count=len(population))
    rows = population.loc[mask, ["uscc", *columns]]
    found = {c: (a, b, d, e) for c, a, b, d, e in zip(
        *(rows[col].tolist() for col in ("uscc", *columns)), strict=True)}
    if len(found) != len(rows) or len(found) != len(codes):
        sub = population.set_index("uscc").loc[codes, columns]
        found = dict(zip(codes, zip(*(sub[col].tolist() for col in columns), strict=True),
                         strict=True))
    return {c: {"name": str(a), "unit": str(b), "industry": str(d), "offsite_capable": bool(e)}
            for c, (a, b, d, e) in ((c, found[c]) for c in codes)}


def follow_up_quotas(population: pd.DataFrame, policy: Policy, quarter: Quarter,
                     order: Sequence[str], follow_ups: Mapping[str, Iterable[str]]
                     ) -> pd.DataFrame:
    """The quota table of a re-inspection draw (复查): per unit in drawing order and per
    category (special, key, general) of its firms to re-inspect, one stratum
    ``{category}/follow_up`` whose quota is its population - every firm taken with
    certainty (inclusion probability 1). Columns as :func:`dsr_analysis.quotas.quarterly_quotas`
    (``quota_rule`` ``follow_up``, not a rule of the policy; not credit-weighted)."""
    rows = []
    for unit_id in order:
        unit = policy.unit(unit_id)
        wanted = population["uscc"].isin(sorted(follow_ups.get(unit_id, ())))
        for category in CATEGORIES:
            sub = population[wanted & (population["category"] == category)]
            if not len(sub):
                continue
            counts = sub["credit_class"].value_counts().reindex(CREDIT_CLASSES, fill_value=0)
            row = dict(quarter=quarter.label, unit=unit_id, unit_name=unit.name,
                       level=unit.level, category=category, subset=FOLLOW_UP_SUBSET,
                       stratum=f"{category}/{FOLLOW_UP_SUBSET}", population=len(sub),
                       ratio=1.0, quota=len(sub), method="random", rule="",
                       quota_rule=FOLLOW_UP, credit_weighted=False, flag="")
            for c in CREDIT_CLASSES:
                n = int(counts[c])
                row[f"population_{c}"] = n
                row[f"probability_{c}"] = 1.0 if n else 0.0
                row[f"expected_{c}"] = float(n)
            rows.append(row)
    return pd.DataFrame(rows, columns=QUOTA_COLUMNS + CLASS_COLUMNS)
