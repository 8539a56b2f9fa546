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

Records of format ``dsr-draw-record/1`` (per-class sub-quotas, smallest tickets) are still
checked by ``dsr verify`` with the replay of that format (``scripts/replay_draw_v1.py``).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .categories import CATEGORY_ZH, classify
from .errors import DsrError, InfeasibleError
from .overlap import (LEVELS, EarlierChecks, OverlapRules, drawing_order, earlier_checks,
                      exclusions, rounds_of, selection_order)
from .paths import PROJECT_ROOT
from .periods import Quarter
from .policy import CREDIT_CLASSES, Policy, QuotaRule, policy_to_dict
from .quotas import (class_bases, inclusion_probabilities, pareto_keys, quarterly_quotas,
                     ticket_uniforms)
from .registers import Registers
from .schema import ENUMS, FRAME_COLUMNS as REGISTER_FRAME_COLUMNS
from .staffing import expert_table, inspector_table, item_table, staff_tasks

RECORD_FORMAT = "dsr-draw-record/2"
#: Formats ``dsr verify`` knows: 1 = per-class sub-quotas and smallest tickets (until 2026-12),
#: 2 = inclusion probabilities and Pareto order sampling.
RECORD_FORMATS = ("dsr-draw-record/1", RECORD_FORMAT)

#: Columns of the canonical enterprise frame, in order (the register's canonical columns).
FRAME_COLUMNS: tuple[str, ...] = REGISTER_FRAME_COLUMNS

#: Columns of a task list (reports read these names).
TASK_COLUMNS = [
    "task_id", "quarter", "unit", "unit_name", "level", "uscc", "enterprise_name", "industry",
    "category", "credit_class", "stratum", "ticket", "inclusion_probability", "draw_mode",
    "origin", "method", "method_detail", "method_reason", "item_id", "item_name",
    "business_line", "joint_type", "partner_department", "inspector_ids", "inspector_names",
    "inspector_business_lines", "expert_id", "expert_name", "merged_with",
]

#: Chinese headers of the exported task list (CSV/XLSX for upload and printing).
TASK_COLUMNS_ZH = {
    "task_id": "任务编号", "quarter": "季度", "unit": "抽查单位代码", "unit_name": "抽查单位",
    "level": "层级", "uscc": "统一社会信用代码", "enterprise_name": "检查对象名称",
    "industry": "行业", "category": "监管类别", "credit_class": "信用风险分类",
    "stratum": "抽取层", "ticket": "抽签号（SHA-256）", "inclusion_probability": "入样概率",
    "draw_mode": "抽查方式", "origin": "任务来源", "method": "检查方式代码",
    "method_detail": "检查方式", "method_reason": "检查方式依据", "item_id": "事项编号",
    "item_name": "抽查事项", "business_line": "业务条线", "joint_type": "联合抽查类型",
    "partner_department": "联合部门", "inspector_ids": "执法人员编号",
    "inspector_names": "执法人员", "inspector_business_lines": "执法人员业务条线",
    "expert_id": "专家编号", "expert_name": "专家", "merged_with": "合并检查任务",
}
METHOD_ZH = {"onsite": "现场检查", "technology": "科技检查", "other": "其他检查"}
DRAW_MODE_ZH = {"untargeted": "不定向抽查", "targeted": "定向抽查"}
JOINT_ZH = {"none": "", "internal": "内部联合抽查", "inter_departmental": "部门联合抽查"}
LEVEL_ZH = {"area": "新区本级", "county": "县级"}

#: Enterprise columns a targeted draw may filter on.
TARGET_COLUMNS = ("industry", "town", "category", "unit", "credit_class", "permit_class",
                  "emergency_risk", "key_polluter", "offsite_capable")


# --------------------------------------------------------------------------------------
# Hashes and tickets
# --------------------------------------------------------------------------------------
def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _cell(value: Any) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, tuple):
        return ";".join(value)
    return str(value)


def canonical_frame_bytes(enterprises: pd.DataFrame) -> bytes:
    """The canonical form of the enterprise register (see the module docstring).

    Columns of :data:`FRAME_COLUMNS` missing from ``enterprises`` are written blank. The text
    is exactly what ``csv.writer(lineterminator="\\n")`` writes for the header and the rows
    sorted by ``uscc``; large registers take a faster path that yields the same bytes.
    """
    n = len(enterprises)
    order = np.argsort(enterprises["uscc"].to_numpy().astype(str), kind="stable")
    # Per column: (codes in canonical row order, cell text per code) or the cells themselves.
    cols: list[tuple[np.ndarray, list[str]] | list[str]] = []
    for col in FRAME_COLUMNS:
        if col not in enterprises.columns:
            cols.append((np.zeros(n, dtype=np.int64), [""]))
            continue
        series = enterprises[col]
        few = len(pd.unique(series.iloc[:20000])) <= 1024
        if few:
            codes, uniques = pd.factorize(series, use_na_sentinel=False)
            texts = [_cell(u) for u in (uniques.tolist() if hasattr(uniques, "tolist")
                                        else list(uniques))]
        if few and len(texts) <= 4096:
            cols.append((codes[order], texts))
        else:
            cells = enterprises[col].to_numpy()[order].tolist()
            if not all(type(v) is str for v in cells):
                cells = [_cell(v) for v in cells]
            cols.append(cells)
    header = ",".join(FRAME_COLUMNS) + "\n"
    fast = _fast_csv(cols, n) if n else None
    if fast is not None:
        return (header + fast).encode("utf-8")
    columns = [c if isinstance(c, list) else [c[1][k] for k in c[0].tolist()] for c in cols]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(FRAME_COLUMNS)
    writer.writerows(zip(*columns, strict=False))
    return buf.getvalue().encode("utf-8")


_NEEDS_QUOTES = re.compile('[",\r\n]')


def _fast_csv(cols: list, n: int) -> str | None:
    """Rows joined without ``csv.writer`` when no cell needs quoting and the columns are a
    block of high-cardinality columns followed by low-cardinality ones (whose combinations
    are joined once each). None when the fast path does not apply."""
    kinds = [isinstance(c, list) for c in cols]
    n_high = kinds.index(False) if False in kinds else len(kinds)
    if any(kinds[n_high:]):
        return None
    for c in cols:
        texts = c if isinstance(c, list) else c[1]
        if _NEEDS_QUOTES.search("\x00".join(texts)):
            return None
    low = cols[n_high:]
    combined = np.zeros(n, dtype=np.int64)
    radix = 1
    for codes, texts in low:
        radix *= max(len(texts), 1)
        if radix > 2**62:
            return None
        combined = combined * max(len(texts), 1) + codes
    _, first, inverse = np.unique(combined, return_index=True, return_inverse=True)
    tails = np.array([",".join(t[c[j]] for c, t in low) for j in first], dtype=object)
    parts = cols[:n_high] + [tails[inverse.ravel()].tolist()]
    # One flat list "a , b , tail \n a , b , tail \n ..." joined once (fast in CPython).
    width = 2 * len(parts)
    flat: list[str] = [","] * (width * n)
    for j, part in enumerate(parts):
        flat[2 * j::width] = part
    flat[width - 1::width] = ["\n"] * n
    return "".join(flat)


def derive_seed(seed_material: str, frame_sha256: str, policy_sha256: str, quarter: str) -> str:
    """``seed`` = hex SHA-256 of ``"{seed_material}|{frame_sha256}|{policy_sha256}|{quarter}"``."""
    return sha256_hex(f"{seed_material}|{frame_sha256}|{policy_sha256}|{quarter}")


def stratum_label(category: str, subset: str, credit_class: str) -> str:
    return f"{category}/{subset}/{credit_class}"


def object_digests(seed: str, unit: str, stratum: str, usccs: Sequence[str]) -> list[bytes]:
    """SHA-256 digests (32 bytes, big-endian ticket) of ``"{seed}|{unit}|{stratum}|{uscc}"``.

    The common prefix is hashed once and copied per object.
    """
    prefix = hashlib.sha256(f"{seed}|{unit}|{stratum}|".encode())
    out = []
    append = out.append
    for code in usccs:
        h = prefix.copy()
        h.update(code.encode())
        append(h.digest())
    return out


def object_ticket(seed: str, unit: str, stratum: str, uscc: str) -> int:
    """The ticket of one object (an integer below 2**256)."""
    return int(sha256_hex(f"{seed}|{unit}|{stratum}|{uscc}"), 16)


def smallest(digests: Sequence[bytes], k: int, rounds: Sequence[int] | None = None) -> np.ndarray:
    """Indices of the ``k`` smallest tickets (by ``(round, ticket)`` if rounds are given), in
    ascending order."""
    n = len(digests)
    k = min(k, n)
    if k <= 0:
        return np.zeros(0, dtype=int)
    arr = np.array(digests, dtype="S32")
    if rounds is not None and any(rounds):
        order = np.lexsort((arr, np.asarray(rounds)))
        return order[:k]
    if k < n:
        part = np.argpartition(arr, k - 1)[:k]
        return part[np.argsort(arr[part], kind="stable")]
    return np.argsort(arr, kind="stable")


# --------------------------------------------------------------------------------------
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
            raise DsrError(f"target '{text}': '{part}' is not column=value[,value…]")
        col, values = part.split("=", 1)
        col = col.strip()
        if col not in TARGET_COLUMNS:
            raise DsrError(f"target '{text}': unknown column '{col}' "
                           f"(valid: {', '.join(TARGET_COLUMNS)})")
        vals = [v.strip() for v in values.split(",") if v.strip()]
        if not vals:
            raise DsrError(f"target '{text}': no value for '{col}'")
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
    for _ in range(recusal_quarters):
        earliest = earliest.previous()
    earliest = min(earliest, Quarter(quarter.year, 1))
    out = []
    for rec in records:
        rq = Quarter.parse(rec["quarter"])
        if not (earliest <= rq <= quarter):
            continue
        for t in rec["tasks"]:
            out.append(HistoryTask(rec["quarter"], t["unit"], t["uscc"], t["task_id"],
                                   tuple(m[0] for m in t["team"]), t["origin"], t["method"]))
    out.sort(key=lambda h: (Quarter.parse(h.quarter), h.task_id))
    return out


# --------------------------------------------------------------------------------------
# The draw
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DrawResult:
    """A drawn quarter.

    Attributes
    ----------
    record : dict
        The draw record (everything a replay needs; see :func:`record_bytes`).
    tasks : pandas.DataFrame
        The task list, columns :data:`TASK_COLUMNS`.
    frame : bytes
        The canonical enterprise frame the record's ``frame_sha256`` is computed from.
    """

    record: dict
    tasks: pd.DataFrame
    frame: bytes


def record_bytes(record: Mapping[str, Any]) -> bytes:
    """Canonical JSON of a record: sorted keys, 1-space indent, UTF-8, final newline."""
    return (json.dumps(record, ensure_ascii=False, sort_keys=True, indent=1) + "\n").encode()


def record_sha256(record: Mapping[str, Any]) -> str:
    return hashlib.sha256(record_bytes(record)).hexdigest()


def _rel(path: str | Path) -> str:
    p = Path(path).resolve()
    try:
        return p.relative_to(PROJECT_ROOT).as_posix()
    except ValueError:
        return p.as_posix()


def _file_sha(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def draw_key(target: Mapping | None, campaign: str | None) -> str:
    return "untargeted" if not target else f"targeted:{campaign or 'T'}"


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
    staff : bool
        ``False`` stops after the object draw (benchmarks, simulation checks): ``record`` then
        holds ``inputs`` without the register tables and ``strata``, and ``tasks`` the
        unstaffed task skeletons.

    Raises
    ------
    InfeasibleError
        When a task cannot be staffed or given an item; names the task, constraint and numbers.
    """
    q = Quarter.parse(quarter)
    _check_request(policy, q, seed_material, campaign)
    target = dict(target) if target else None
    order = drawing_order(policy, units)
    if frame is None:
        frame = canonical_frame_bytes(registers.enterprises)
    frame_sha = hashlib.sha256(frame).hexdigest()
    seed = derive_seed(seed_material, frame_sha, policy.sha256, q.label)

    population = apply_target(classify(registers.enterprises, policy), target)
    quotas = quarterly_quotas(population, policy, q, registers.inspectors, units=order)
    if target:
        quotas = quotas[quotas["method"] != "offsite_full"]
    hist = history_tasks(history, q, policy.staffing.recusal_quarters)
    context = _DrawContext(
        policy=policy, quarter=q, seed=seed, origin=origin,
        mode="targeted" if target else "untargeted",
        prefix=q.label if not target else None, campaign=campaign or "T",
        rules=OverlapRules.from_policy(policy), level_of={u.id: u.level for u in policy.units},
        history=hist)
    frame_cols = _population_columns(population)
    strata_records: list[dict] = []
    tasks: list[dict] = []
    drawn_this_quarter = _drawn_this_quarter(context)
    for unit_id in order:
        unit_strata, unit_tasks = draw_unit(context, unit_id, quotas[quotas["unit"] == unit_id],
                                            frame_cols, drawn_this_quarter)
        strata_records.extend(unit_strata)
        tasks.extend(unit_tasks)
        level = context.level_of[unit_id]
        for t in unit_tasks:
            drawn_this_quarter[level].setdefault(t["uscc"], t["task_id"])
    if context.rules.between == "merge":
        merge_between_levels(tasks, context)
    if not staff:
        record = {"format": RECORD_FORMAT, "quarter": q.label, "units": order,
                  "inputs": {"seed_material": str(seed_material), "frame_sha256": frame_sha,
                             "policy_sha256": policy.sha256, "seed": seed},
                  "strata": strata_records}
        return DrawResult(record=record, tasks=pd.DataFrame(tasks), frame=frame)
    objects = _object_table(population, tasks)
    staffed = staff_tasks(tasks, seed=seed, policy=policy, registers=registers,
                          objects=objects, history=hist)
    record = _record(context, order, seed_material, frame_sha, registers, registers_dir,
                     history, target, objects, strata_records, staffed)
    return DrawResult(record=record, tasks=tasks_frame(record), frame=frame)


@dataclass(frozen=True)
class _DrawContext:
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

    def task_id(self, unit_id: str, seq: int) -> str:
        if self.prefix is not None:
            return f"{self.prefix}-{unit_id}-{seq:04d}"
        return f"{self.quarter.label}-{unit_id}-{self.campaign}-{seq:04d}"


def _check_request(policy: Policy, q: Quarter, seed_material: str, campaign: str | None) -> None:
    if q.year != policy.year:
        raise DsrError(f"quarter {q.label} is outside the policy year {policy.year} "
                       f"({policy.path})")
    if not str(seed_material).strip():
        raise DsrError("seed material is empty: supply the published value (e.g. a lottery "
                       "result) with --seed-material")
    if campaign is not None and not str(campaign).replace("_", "").replace("-", "").isalnum():
        raise DsrError(f"campaign label '{campaign}' may hold letters, digits, '-' and '_' only")


def _population_columns(population: pd.DataFrame) -> dict[str, np.ndarray]:
    """The deciding columns of the drawing population, rows sorted by uscc once (candidates
    then come out sorted)."""
    by_code = population.iloc[np.argsort(population["uscc"].to_numpy().astype(str),
                                         kind="stable")]
    return {"uscc": by_code["uscc"].to_numpy(), "unit": by_code["unit"].to_numpy(),
            "category": by_code["category"].to_numpy(),
            "credit_class": by_code["credit_class"].to_numpy(),
            "positive_list": by_code["positive_list"].to_numpy(dtype=bool)}


def _drawn_this_quarter(context: _DrawContext) -> dict[str, dict[str, str]]:
    """Objects drawn this quarter per level (uscc -> task id), from earlier draws of it."""
    drawn: dict[str, dict[str, str]] = {lv: {} for lv in LEVELS}
    for h in context.history:
        if h.quarter == context.quarter.label and h.unit in context.level_of:
            drawn[context.level_of[h.unit]].setdefault(h.uscc, h.task_id)
    return drawn


def unit_checks(context: _DrawContext, unit_id: str) -> EarlierChecks:
    """This year's earlier checks as ``unit_id`` counts them (:mod:`dsr_analysis.overlap`)."""
    same_year = [(h.unit, h.uscc, h.origin) for h in context.history
                 if Quarter.parse(h.quarter).year == context.quarter.year]
    return earlier_checks(same_year, unit_id, context.level_of, context.rules)


def stratum_candidates(cols: Mapping[str, np.ndarray], unit: Any, row: Any) -> tuple[list, list]:
    """Candidates of one stratum (sorted by uscc) and their credit classes."""
    mask = cols["category"] == row.category
    if unit.draws_from != "all":
        mask &= cols["unit"] == unit.id
    if row.subset == "positive_list":
        mask &= cols["positive_list"]
    elif row.subset == "not_positive_list":
        mask &= ~cols["positive_list"]
    return cols["uscc"][mask].tolist(), cols["credit_class"][mask].tolist()


def draw_unit(context: _DrawContext, unit_id: str, unit_quotas: pd.DataFrame,
              cols: Mapping[str, np.ndarray], drawn_this_quarter: Mapping[str, Mapping[str, str]]
              ) -> tuple[list[dict], list[dict]]:
    """Draw every stratum of one unit; returns its stratum records and task skeletons."""
    unit = context.policy.unit(unit_id)
    other_level = "county" if unit.level == "area" else "area"
    checks = unit_checks(context, unit_id)
    rules = {r.id: r for r in context.policy.quotas.rules}
    strata: list[dict] = []
    tasks: list[dict] = []
    for row in unit_quotas.itertuples(index=False):
        candidates, classes = stratum_candidates(cols, unit, row)
        eligible, excluded = exclusions(
            candidates, level=unit.level, rules=context.rules, checks=checks,
            drawn_by_other_level=drawn_this_quarter[other_level], year=context.quarter.year,
            origin=context.origin, method=row.method)
        class_of = dict(zip(candidates, classes, strict=True))
        rec = draw_stratum(context.seed, unit_id, row, rules[row.quota_rule], context.policy,
                           candidates, class_of, eligible, excluded,
                           rounds_of(eligible, context.rules, checks))
        strata.append(rec)
        for code, ticket, _key in rec["drawn"]:
            tasks.append({
                "task_id": context.task_id(unit_id, len(tasks) + 1), "quarter": context.quarter.label,
                "unit": unit_id, "level": unit.level, "uscc": code, "stratum": rec["stratum"],
                "category": row.category, "subset": row.subset, "credit_class": class_of[code],
                "kind": "offsite_full" if row.method == "offsite_full" else "random",
                "ticket": ticket,
                "inclusion_probability": rec["inclusion_probability"][class_of[code]],
                "draw_mode": context.mode, "origin": context.origin,
            })
    return strata, tasks


def draw_stratum(seed: str, unit_id: str, row: Any, rule: QuotaRule, policy: Policy,
                 candidates: Sequence[str], class_of: Mapping[str, str],
                 eligible: Sequence[str], excluded: list[list[str]],
                 rounds: Sequence[int]) -> dict:
    """Inclusion probabilities, tickets and selection of one stratum (its record).

    ``lambda`` per credit class comes from :func:`dsr_analysis.quotas.inclusion_probabilities`
    on the eligible objects; each eligible object's ticket ``SHA-256("{seed}|{unit}|{stratum}|
    {uscc}")`` gives its uniform and Pareto key; the quota is filled in the order of
    ``(round, key, ticket)``. An ``offsite_full`` stratum takes every eligible object.
    """
    label = row.stratum
    counts = np.array([sum(1 for c in eligible if class_of[c] == k) for k in CREDIT_CLASSES])
    quota = int(row.quota)
    flag = row.flag or ""
    rounds_map: dict[str, int] = {}
    if row.method == "offsite_full":
        lam = np.where(counts > 0, 1.0, 0.0)
        drawn = [[code, "", 0.0] for code in eligible]
    else:
        if quota > len(eligible):
            note = (f"shortfall: {unit_id}/{label} needs {quota} but only {len(eligible)} "
                    f"objects are eligible after overlap control ({len(candidates)} in the "
                    f"stratum, {len(excluded)} excluded): all drawn")
            flag = f"{flag}; {note}" if flag else note
        lam = inclusion_probabilities(counts, quota, class_bases(policy, rule))
        lam_of = dict(zip(CREDIT_CLASSES, lam.tolist(), strict=True))
        digests = object_digests(seed, unit_id, label, eligible)
        keys = pareto_keys(ticket_uniforms(digests), [lam_of[class_of[c]] for c in eligible])
        idx = selection_order(rounds, keys, digests)[:min(quota, len(eligible))]
        drawn = [[eligible[i], digests[i].hex(), float(keys[i])] for i in idx]
        rounds_map = {c: r for c, r in zip(eligible, rounds, strict=True) if r}
    lam_by = dict(zip(CREDIT_CLASSES, lam.tolist(), strict=True))
    return {
        "unit": unit_id, "stratum": label, "category": row.category, "subset": row.subset,
        "quota_rule": row.quota_rule, "method": row.method,
        "credit_weighted": bool(row.credit_weighted),
        "bases": dict(zip(CREDIT_CLASSES, class_bases(policy, rule), strict=True)),
        "population": len(candidates), "quota": quota,
        "candidates": [[c, class_of[c]] for c in candidates], "excluded": excluded,
        "eligible_count": len(eligible),
        "eligible_by_class": dict(zip(CREDIT_CLASSES, counts.tolist(), strict=True)),
        "inclusion_probability": lam_by,
        "expected": {c: int(n) * lam_by[c] for c, n in zip(CREDIT_CLASSES, counts, strict=True)},
        "rounds": rounds_map, "drawn": drawn, "flag": flag,
    }


def merge_between_levels(tasks: list[dict], context: _DrawContext) -> None:
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


def _object_table(population: pd.DataFrame, tasks: Sequence[Mapping]) -> dict:
    ent_by_uscc = population.set_index("uscc", drop=False)
    objects = {}
    for code in sorted({t["uscc"] for t in tasks}):
        e = ent_by_uscc.loc[code]
        objects[code] = {"name": str(e["name"]), "unit": str(e["unit"]),
                         "industry": str(e["industry"]),
                         "offsite_capable": bool(e["offsite_capable"])}
    return objects


def _record(context: _DrawContext, order: list[str], seed_material: str, frame_sha: str,
            registers: Registers, registers_dir: str | Path | None,
            history: Sequence[Mapping[str, Any]], target: Mapping | None, objects: dict,
            strata_records: list[dict], staffed: list[dict]) -> dict:
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
            "policy": {"id": policy.id, "path": _rel(policy.path) if policy.path else "",
                       "sha256": policy.sha256, **_policy_params(policy)},
            "registers": {
                "directory": _rel(reg_dir) if reg_dir is not None else "",
                "files": {name: {"path": _rel(p), "sha256": _file_sha(p)}
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
            "inspectors": inspector_table(registers.inspectors),
            "items": item_table(registers.items),
            "experts": expert_table(registers.experts),
        },
        "strata": strata_records,
        "tasks": staffed,
    }


def _policy_params(policy: Policy) -> dict:
    d = policy_to_dict(policy)
    return {key: d[key] for key in ("draw", "staffing", "joint", "methods")}


# --------------------------------------------------------------------------------------
# Task list
# --------------------------------------------------------------------------------------
def tasks_frame(record: Mapping[str, Any]) -> pd.DataFrame:
    """The task list of a record as a DataFrame (columns :data:`TASK_COLUMNS`)."""
    inputs = record["inputs"]
    objects = inputs["objects"]
    inspectors = inputs["inspectors"]
    items = inputs["items"]
    experts = inputs["experts"]
    unit_names = inputs.get("unit_names", {})
    rows = []
    for t in record["tasks"]:
        obj = objects[t["uscc"]]
        ids = [m[0] for m in t["team"]]
        item = items[t["item_id"]]
        rows.append({
            "task_id": t["task_id"], "quarter": record["quarter"], "unit": t["unit"],
            "unit_name": unit_names.get(t["unit"], ""), "level": t["level"],
            "uscc": t["uscc"], "enterprise_name": obj["name"], "industry": obj["industry"],
            "category": t["category"], "credit_class": t["credit_class"],
            "stratum": t["stratum"], "ticket": t["ticket"],
            "inclusion_probability": t["inclusion_probability"], "draw_mode": t["draw_mode"],
            "origin": t["origin"], "method": t["method"], "method_detail": t["method_detail"],
            "method_reason": t["method_reason"], "item_id": t["item_id"],
            "item_name": item["name"], "business_line": item["business_line"],
            "joint_type": t["joint_type"], "partner_department": t["partner_department"],
            "inspector_ids": ";".join(ids),
            "inspector_names": ";".join(inspectors[i]["name"] for i in ids),
            "inspector_business_lines": ";".join(inspectors[i]["business_line"] for i in ids),
            "expert_id": t["expert_id"],
            "expert_name": experts[t["expert_id"]]["name"] if t["expert_id"] else "",
            "merged_with": t["merged_with"],
        })
    frame = pd.DataFrame(rows, columns=TASK_COLUMNS)
    return frame


def tasks_zh(frame: pd.DataFrame) -> pd.DataFrame:
    """The task list with Chinese headers and labels (for upload and printing)."""
    line_zh = {k: v[0] for k, v in ENUMS["business_line"].items()}
    out = frame.copy()
    out["level"] = out["level"].map(LEVEL_ZH).fillna(out["level"])
    out["category"] = out["category"].map(CATEGORY_ZH).fillna(out["category"])
    out["draw_mode"] = out["draw_mode"].map(DRAW_MODE_ZH).fillna(out["draw_mode"])
    out["method_detail"] = out["method_detail"].map(METHOD_ZH).fillna(out["method_detail"])
    out["joint_type"] = out["joint_type"].map(JOINT_ZH).fillna(out["joint_type"])
    out["business_line"] = out["business_line"].map(line_zh).fillna(out["business_line"])
    out["inspector_business_lines"] = out["inspector_business_lines"].map(
        lambda s: ";".join(line_zh.get(x, x) for x in s.split(";") if x))
    return out.rename(columns=TASK_COLUMNS_ZH)


def write_outputs(result: DrawResult, out_dir: str | Path) -> dict[str, Path]:
    """Write ``record.json``, ``frame.csv``, ``tasks.csv`` (UTF-8 with BOM, Chinese headers)
    and ``tasks.xlsx`` into ``out_dir`` (created). Returns the paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"record": out / "record.json", "frame": out / "frame.csv",
             "csv": out / "tasks.csv", "xlsx": out / "tasks.xlsx"}
    paths["record"].write_bytes(record_bytes(result.record))
    paths["frame"].write_bytes(result.frame)
    zh = tasks_zh(result.tasks)
    zh.to_csv(paths["csv"], index=False, encoding="utf-8-sig")
    zh.to_excel(paths["xlsx"], index=False, sheet_name="抽查任务")
    return paths


__all__ = [
    "FRAME_COLUMNS", "TASK_COLUMNS", "TASK_COLUMNS_ZH", "DrawResult", "InfeasibleError",
    "canonical_frame_bytes", "derive_seed", "draw_quarter", "object_digests", "object_ticket",
    "parse_target", "record_bytes", "record_sha256", "tasks_frame", "write_outputs",
]
