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
4. Units are drawn in a fixed order: the county units in policy order, then the area level
   (between levels, the county draw comes first; see ``between_levels`` below).
   A unit's strata are the rows of :func:`dsr_analysis.quotas.quarterly_quotas` for it, in
   table order; the stratum string is ``"{category}/{subset}/{credit_class}"``.
5. Every eligible object of a stratum gets the ticket
   ``int(SHA-256("{seed}|{unit}|{stratum}|{uscc}"), 16)``; the quota is filled by the smallest
   tickets (under ``overlap: rotation`` by the smallest ``(round, ticket)``, where ``round`` is
   the number of times the unit drew the object earlier in the year). Objects of an
   ``offsite_full`` stratum all get an off-site task, without a ticket.
6. Overlap control, applied before ticketing and written into the record:
   ``independent`` (nothing excluded), ``rotation`` (rounds as above: an object is drawn
   again only once every other object of its stratum has been drawn as often),
   ``yearly_cap`` (objects the unit already inspected ``yearly_cap`` times this year are
   excluded; tasks whose origin is in ``cap_exemptions`` neither count nor are capped).
   Between levels in a quarter, ``avoid`` excludes from the area level's draw every object a
   county already drew this quarter; ``merge`` lets both draw and marks the area task
   ``merged_with`` the county task (one joint on-site visit).
7. Tasks get ids ``{quarter}-{unit}-{nnnn}`` (targeted draws ``{quarter}-{unit}-{campaign}-{nnnn}``)
   in the order: units as in 4, strata in table order, objects by ticket (``offsite_full``
   strata by ``uscc``). Items, methods, joint designations, teams and experts follow
   :mod:`dsr_analysis.staffing`.

A quota larger than the objects left eligible (after overlap control) draws every eligible
object and says so in the stratum's ``flag``; it is never an error.
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
from .paths import PROJECT_ROOT
from .periods import Quarter
from .policy import Policy
from .quotas import quarterly_quotas
from .registers import _SCHEMAS, Registers

RECORD_FORMAT = "dsr-draw-record/1"

#: Columns of the canonical enterprise frame, in order (the register's canonical columns).
FRAME_COLUMNS: tuple[str, ...] = tuple(_SCHEMAS["enterprises"])

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


def unit_order(policy: Policy, units: Sequence[str] | None = None) -> list[str]:
    """Drawing order: county units in policy order, then area units."""
    chosen = [u for u in policy.units if units is None or u.id in units]
    if units is not None:
        unknown = sorted(set(units) - {u.id for u in chosen})
        if unknown:
            raise DsrError(f"unknown unit(s) {', '.join(unknown)} "
                           f"(valid: {', '.join(policy.unit_names)})")
    return [u.id for u in sorted(chosen, key=lambda u: u.level != "county")]


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
        ``False`` stops after the object draw (benchmarks, simulation): ``record`` then holds
        ``inputs`` without the register tables and ``strata``, and ``tasks`` the unstaffed
        task skeletons.

    Raises
    ------
    InfeasibleError
        When a task cannot be staffed or given an item; names the task, constraint and numbers.
    """
    from .staffing import staff_tasks

    q = Quarter.parse(quarter)
    if q.year != policy.year:
        raise DsrError(f"quarter {q.label} is outside the policy year {policy.year} "
                       f"({policy.path})")
    if not str(seed_material).strip():
        raise DsrError("seed material is empty: supply the published value (e.g. a lottery "
                       "result) with --seed-material")
    if campaign is not None and not str(campaign).replace("_", "").replace("-", "").isalnum():
        raise DsrError(f"campaign label '{campaign}' may hold letters, digits, '-' and '_' only")
    target = dict(target) if target else None
    mode = "targeted" if target else "untargeted"
    order = unit_order(policy, units)
    if frame is None:
        frame = canonical_frame_bytes(registers.enterprises)
    frame_sha = hashlib.sha256(frame).hexdigest()
    seed = derive_seed(seed_material, frame_sha, policy.sha256, q.label)

    classified = classify(registers.enterprises, policy)
    population = apply_target(classified, target)
    quotas = quarterly_quotas(population, policy, q, registers.inspectors, units=order)
    if target:
        quotas = quotas[quotas["method"] != "offsite_full"]

    hist = history_tasks(history, q, policy.staffing.recusal_quarters)
    exempt = set(policy.draw.cap_exemptions)
    same_year = [h for h in hist if Quarter.parse(h.quarter).year == q.year]
    year_count: dict[tuple[str, str], int] = {}
    year_rounds: dict[tuple[str, str], int] = {}
    for h in same_year:
        year_rounds[(h.unit, h.uscc)] = year_rounds.get((h.unit, h.uscc), 0) + 1
        if h.origin not in exempt:
            year_count[(h.unit, h.uscc)] = year_count.get((h.unit, h.uscc), 0) + 1
    level_of = {u.id: u.level for u in policy.units}
    # Objects drawn this quarter, per level: uscc -> task id (history first, then this draw).
    drawn_this_quarter: dict[str, dict[str, str]] = {"area": {}, "county": {}}
    for h in hist:
        if h.quarter == q.label and h.unit in level_of:
            drawn_this_quarter[level_of[h.unit]].setdefault(h.uscc, h.task_id)

    overlap = policy.draw.overlap
    capped = overlap == "yearly_cap" and origin not in exempt
    between = policy.draw.between_levels
    key_prefix = q.label
    # Integer codes of the population, sorted by uscc once (candidates come out sorted).
    by_code = population.iloc[np.argsort(population["uscc"].to_numpy().astype(str),
                                         kind="stable")]
    all_codes = by_code["uscc"].to_numpy()
    all_unit = by_code["unit"].to_numpy()
    all_cat = by_code["category"].to_numpy()
    all_cc = by_code["credit_class"].to_numpy()
    all_pos = by_code["positive_list"].to_numpy(dtype=bool)

    strata_records: list[dict] = []
    tasks: list[dict] = []
    for unit_id in order:
        unit = policy.unit(unit_id)
        if unit.draws_from == "all":
            u_sel = np.arange(len(all_codes))
        else:
            u_sel = np.flatnonzero(all_unit == unit_id)
        u_codes, u_pos = all_codes[u_sel], all_pos[u_sel]
        cat_masks = {c: all_cat[u_sel] == c for c in set(quotas["category"])}
        cc_masks = {c: all_cc[u_sel] == c for c in ("A", "B", "C", "D")}
        unit_quotas = quotas[quotas["unit"] == unit_id]
        other_level = "county" if unit.level == "area" else "area"
        seq = 0
        unit_tasks: list[dict] = []
        for row in unit_quotas.itertuples(index=False):
            label = stratum_label(row.category, row.subset, row.credit_class)
            mask = cat_masks[row.category].copy()
            if row.subset == "positive_list":
                mask &= u_pos
            elif row.subset == "not_positive_list":
                mask &= ~u_pos
            if row.credit_class != "all":
                mask &= cc_masks[row.credit_class]
            candidates = u_codes[mask].tolist()
            excluded: list[list[str]] = []
            eligible = candidates
            if between == "avoid" and unit.level == "area":
                other = drawn_this_quarter[other_level]
                keep = []
                for code in eligible:
                    if code in other:
                        excluded.append([code, f"between_levels: drawn this quarter by "
                                               f"{other[code]}"])
                    else:
                        keep.append(code)
                eligible = keep
            if capped and row.method != "offsite_full":
                cap = policy.draw.yearly_cap
                keep = []
                for code in eligible:
                    n = year_count.get((unit_id, code), 0)
                    if n >= cap:
                        excluded.append([code, f"yearly_cap: inspected {n} times in {q.year} "
                                               f"(cap {cap})"])
                    else:
                        keep.append(code)
                eligible = keep
            excluded.sort()
            quota = int(row.quota)
            flag = row.flag or ""
            rounds_map: dict[str, int] = {}
            probs: dict[str, float] = {}
            if row.method == "offsite_full":
                picked = [(code, "") for code in eligible]
                prob_of = {code: 1.0 for code in eligible}
            else:
                if quota > len(eligible):
                    note = (f"quota {quota} exceeds the {len(eligible)} eligible objects "
                            f"after overlap control: all drawn")
                    flag = f"{flag}; {note}" if flag else note
                k = min(quota, len(eligible))
                rounds = None
                if overlap == "rotation":
                    rounds = [year_rounds.get((unit_id, c), 0) for c in eligible]
                    rounds_map = {c: r for c, r in zip(eligible, rounds, strict=False) if r}
                digests = object_digests(seed, unit_id, label, eligible)
                idx = smallest(digests, k, rounds)
                picked = [(eligible[i], digests[i].hex()) for i in idx]
                probs = _group_probabilities(eligible, k, rounds)
                prob_of = {eligible[i]: probs[str(rounds[i]) if rounds is not None else "0"]
                           for i in idx}
            strata_records.append({
                "unit": unit_id, "stratum": label, "category": row.category,
                "subset": row.subset, "credit_class": row.credit_class,
                "quota_rule": row.quota_rule, "method": row.method,
                "population": len(candidates), "quota": quota,
                "candidates": candidates, "excluded": excluded,
                "eligible_count": len(eligible), "rounds": rounds_map,
                "inclusion_probability": probs if row.method != "offsite_full" else {"0": 1.0},
                "drawn": [[c, t] for c, t in picked], "flag": flag,
            })
            for code, ticket in picked:
                seq += 1
                tid = (f"{key_prefix}-{unit_id}-{seq:04d}" if not target
                       else f"{key_prefix}-{unit_id}-{campaign or 'T'}-{seq:04d}")
                unit_tasks.append({
                    "task_id": tid, "quarter": q.label, "unit": unit_id, "level": unit.level,
                    "uscc": code, "stratum": label, "category": row.category,
                    "subset": row.subset, "credit_class": row.credit_class,
                    "kind": "offsite_full" if row.method == "offsite_full" else "random",
                    "ticket": ticket, "inclusion_probability": prob_of[code],
                    "draw_mode": mode, "origin": origin,
                })
        for t in unit_tasks:
            drawn_this_quarter[unit.level].setdefault(t["uscc"], t["task_id"])
        tasks.extend(unit_tasks)

    # Between levels, merge: the area task and the county task of one object in a quarter
    # are one joint on-site visit.
    if between == "merge":
        county_of = {t["uscc"]: t["task_id"] for t in tasks if t["level"] == "county"}
        for h in hist:
            if h.quarter == q.label and level_of.get(h.unit) == "county":
                county_of.setdefault(h.uscc, h.task_id)
        area_of = {t["uscc"]: t["task_id"] for t in tasks if t["level"] == "area"}
        for t in tasks:
            if t["level"] == "area" and t["uscc"] in county_of:
                t["merged_with"] = county_of[t["uscc"]]
            elif t["level"] == "county" and t["uscc"] in area_of:
                t["merged_with"] = area_of[t["uscc"]]

    if not staff:
        record = {"format": RECORD_FORMAT, "quarter": q.label, "units": order,
                  "inputs": {"seed_material": str(seed_material), "frame_sha256": frame_sha,
                             "policy_sha256": policy.sha256, "seed": seed},
                  "strata": strata_records}
        return DrawResult(record=record, tasks=pd.DataFrame(tasks), frame=frame)
    ent_by_uscc = classified.set_index("uscc", drop=False)
    objects = {}
    for code in sorted({t["uscc"] for t in tasks}):
        e = ent_by_uscc.loc[code]
        objects[code] = {"name": str(e["name"]), "unit": str(e["unit"]),
                         "industry": str(e["industry"]),
                         "offsite_capable": bool(e["offsite_capable"])}
    staffed = staff_tasks(tasks, seed=seed, policy=policy, registers=registers,
                          objects=objects, history=hist)

    reg_dir = registers_dir
    if reg_dir is None and registers.sources:
        reg_dir = Path(next(iter(registers.sources.values()))).parent
    record = {
        "format": RECORD_FORMAT,
        "quarter": q.label,
        "draw_key": draw_key(target, campaign),
        "units": order,
        "inputs": {
            "seed_material": str(seed_material),
            "frame_sha256": frame_sha,
            "policy_sha256": policy.sha256,
            "seed": seed,
            "policy": {"id": policy.id, "path": _rel(policy.path) if policy.path else "",
                       "sha256": policy.sha256, **_policy_params(policy)},
            "registers": {
                "directory": _rel(reg_dir) if reg_dir is not None else "",
                "files": {name: {"path": _rel(p), "sha256": _file_sha(p)}
                          for name, p in sorted(registers.sources.items())},
            },
            "draw_mode": mode, "target": target, "campaign": campaign, "origin": origin,
            "unit_levels": level_of,
            "unit_names": policy.unit_names,
            "history": {
                "records": sorted(r.get("sha256") or record_sha256(r) for r in history),
                "tasks": [h.as_list() for h in hist],
            },
            "objects": objects,
            "inspectors": _inspector_table(registers.inspectors),
            "items": _item_table(registers.items),
            "experts": _expert_table(registers.experts),
        },
        "strata": strata_records,
        "tasks": staffed,
    }
    frame_tasks = tasks_frame(record)
    return DrawResult(record=record, tasks=frame_tasks, frame=frame)


def inclusion_probabilities(eligible: Sequence[str], k: int,
                            rounds: Sequence[int] | None) -> dict[str, float]:
    """Inclusion probability of each eligible object: ``k / n``, or under rotation the share
    of the quota left for its round divided by the objects in that round."""
    groups = _group_probabilities(eligible, k, rounds)
    if rounds is None:
        p = groups.get("0", 0.0)
        return {c: p for c in eligible}
    return {c: groups[str(r)] for c, r in zip(eligible, rounds, strict=False)}


def _group_probabilities(eligible: Sequence[str], k: int,
                         rounds: Sequence[int] | None) -> dict[str, float]:
    """Round (as text) -> inclusion probability; round ``0`` only without rotation."""
    if rounds is None:
        return {"0": (k / len(eligible)) if eligible else 0.0}
    counts: dict[int, int] = {}
    for r in rounds:
        counts[r] = counts.get(r, 0) + 1
    out = {}
    left = k
    for r in sorted(counts):
        n = counts[r]
        take = min(left, n)
        out[str(r)] = take / n
        left -= take
    return out


def _policy_params(policy: Policy) -> dict:
    from .policy import policy_to_dict

    d = policy_to_dict(policy)
    return {key: d[key] for key in ("draw", "staffing", "joint", "methods")}


def _inspector_table(frame: pd.DataFrame) -> dict:
    out = {}
    for r in frame.sort_values("inspector_id").itertuples(index=False):
        out[r.inspector_id] = {"name": r.name, "unit": r.unit, "business_line": r.business_line,
                               "certified": bool(r.certified), "active": bool(r.active),
                               "conflicts": sorted(r.conflicts)}
    return out


def _item_table(frame: pd.DataFrame) -> dict:
    out = {}
    for r in frame.sort_values("item_id").itertuples(index=False):
        out[r.item_id] = {"name": r.name, "business_line": r.business_line,
                          "applies_to": list(r.applies_to), "department": r.department,
                          "needs_expert": bool(r.needs_expert)}
    return out


def _expert_table(frame: pd.DataFrame) -> dict:
    out = {}
    for r in frame.sort_values("expert_id").itertuples(index=False):
        out[r.expert_id] = {"name": r.name, "industries": list(r.industries)}
    return out


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
    from .registers import ENUMS

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
