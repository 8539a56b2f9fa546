"""Draw records: the canonical enterprise frame, seeds and tickets, the record and its
canonical JSON, the task list and the files a draw writes. Everything here is fixed by the
published algorithm (docs/reference/draws.md, "The algorithm")."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..categories import CATEGORY_ZH
from ..labels import CHECK_METHOD_ZH as METHOD_ZH
from ..labels import DRAW_MODE_ZH, JOINT_ZH, LEVEL_ZH  # noqa: F401  (names importers use)
from ..export import csv_text
from ..i18n import _
from ..paths import PROJECT_ROOT
from ..schema import ENUMS, FRAME_COLUMNS as REGISTER_FRAME_COLUMNS

RECORD_FORMAT = "dsr-draw-record/3"
#: Formats ``dsr verify`` knows: 1 = per-class sub-quotas and smallest tickets (until 2026-12),
#: 2 = inclusion probabilities and Pareto order sampling, 3 = the same object draw after a
#: published commitment, a public and an internal part, staffing in O(k) hashes per task
#: and designated joint visits.
RECORD_FORMATS = ("dsr-draw-record/1", "dsr-draw-record/2", RECORD_FORMAT)

#: Task fields of the public part of a record (format 3); every other field of a task -
#: teams, tickets of inspectors, recusals, experts - is internal.
PUBLIC_TASK_KEYS = frozenset({
    "task_id", "quarter", "unit", "level", "uscc", "stratum", "category", "subset",
    "credit_class", "kind", "ticket", "inclusion_probability", "draw_mode", "origin",
    "merged_with", "designation", "item_id", "items", "method",
    "method_detail", "method_reason", "joint_type", "partner_department"})
#: Input tables of the internal part (the inspector and expert registers).
INTERNAL_INPUTS = ("inspectors", "experts")

#: Columns of the canonical enterprise frame, in order (the register's canonical columns).
FRAME_COLUMNS: tuple[str, ...] = REGISTER_FRAME_COLUMNS

#: Columns of a task list (reports read these names). ``item_id``, ``item_name`` and
#: ``business_line`` list every item of the task, primary first, joined with ";" (names with
#: "；"): a designated internal joint task has items of two business lines.
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
            values = enterprises[col].to_numpy()[order]
            cells = values.tolist()
            # every cell text (checked in C) needs no conversion
            if pd.api.types.infer_dtype(values, skipna=False) != "string":
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


def object_digests(seed: str, unit: str, stratum: str, usccs: Sequence[str]) -> list[bytes]:
    """SHA-256 digests (32 bytes, big-endian ticket) of ``"{seed}|{unit}|{stratum}|{uscc}"``.

    The common prefix is hashed once and copied per object.
    """
    prefix = hashlib.sha256(f"{seed}|{unit}|{stratum}|".encode())
    codes = list(usccs)
    text = "\n".join(codes)
    encoded = text.encode().split(b"\n") if codes else []
    if len(encoded) != len(codes):  # a code holding a line break: one by one
        encoded = [code.encode() for code in codes]
    out = []
    append = out.append
    copy = prefix.copy
    for code in encoded:
        h = copy()
        h.update(code)
        append(h.digest())
    return out


def object_ticket(seed: str, unit: str, stratum: str, uscc: str) -> int:
    """The ticket of one object (an integer below 2**256)."""
    return int(sha256_hex(f"{seed}|{unit}|{stratum}|{uscc}"), 16)


# --------------------------------------------------------------------------------------

# The draw
# --------------------------------------------------------------------------------------
class DrawResult:
    """A drawn quarter.

    Attributes
    ----------
    record : dict
        The draw record (everything a replay needs; see :func:`record_bytes`).
    tasks : pandas.DataFrame
        The task list, columns :data:`TASK_COLUMNS` (a view of the record, built from it
        on first use unless given).
    frame : bytes
        The canonical enterprise frame the record's ``frame_sha256`` is computed from.
    """

    __slots__ = ("record", "frame", "_tasks")

    def __init__(self, record: dict, tasks: pd.DataFrame | None = None, frame: bytes = b""):
        self.record = record
        self.frame = frame
        self._tasks = tasks

    @property
    def tasks(self) -> pd.DataFrame:
        if self._tasks is None:
            if "objects" in self.record.get("inputs", {}):
                self._tasks = tasks_frame(self.record)
            else:  # the object draw alone: the unstaffed skeletons
                self._tasks = pd.DataFrame(self.record["tasks"])
        return self._tasks


def record_bytes(record: Mapping[str, Any]) -> bytes:
    """Canonical JSON of a record: sorted keys, UTF-8, a final newline; for format 3 (and its
    internal part) compact (separators ``,`` and ``:``, no white space), for earlier formats
    and commitments with a 1-space indent."""
    if str(record.get("format", "")).startswith(RECORD_FORMAT):
        return (json.dumps(record, ensure_ascii=False, sort_keys=True,
                           separators=(",", ":")) + "\n").encode()
    return (json.dumps(record, ensure_ascii=False, sort_keys=True, indent=1) + "\n").encode()


#: The ``format`` of the internal part of a format-3 record.
INTERNAL_FORMAT = RECORD_FORMAT + "/internal"


def record_sha256(record: Mapping[str, Any]) -> str:
    """The record's digest in the ledger: for format 3 the SHA-256 of its public part
    (which names the SHA-256 of the internal part), so that anyone holding the published
    record can find it in the published ledger; for earlier formats of the whole record."""
    if record.get("format") == RECORD_FORMAT:
        return hashlib.sha256(record_bytes(split_record(record)[0])).hexdigest()
    return hashlib.sha256(record_bytes(record)).hexdigest()


def split_record(record: Mapping[str, Any]) -> tuple[dict, dict]:
    """(public part, internal part) of a format-3 record.

    The internal part holds the inspector and expert registers, the inspector ids of the
    history tasks and, per task, every field not in :data:`PUBLIC_TASK_KEYS`; the public
    part is the rest, with ``internal_sha256`` (the SHA-256 of the internal part's canonical
    JSON). :func:`merge_record` puts them back together."""
    rec = json.loads(json.dumps(record))
    inputs = rec["inputs"]
    internal: dict[str, Any] = {"format": INTERNAL_FORMAT}
    internal.update({name: inputs.pop(name) for name in INTERNAL_INPUTS if name in inputs})
    hist = inputs.get("history", {}).get("tasks", [])
    internal["history_inspectors"] = [h[4] for h in hist]
    for h in hist:
        h[4] = ""
    internal["tasks"] = []
    public_tasks = []
    for t in rec.get("tasks", []):
        internal["tasks"].append({"task_id": t["task_id"], **{
            k: v for k, v in t.items() if k not in PUBLIC_TASK_KEYS}})
        public_tasks.append({k: v for k, v in t.items() if k in PUBLIC_TASK_KEYS})
    rec["tasks"] = public_tasks
    rec["internal_sha256"] = hashlib.sha256(record_bytes(internal)).hexdigest()
    return rec, internal


def merge_record(public: Mapping[str, Any], internal: Mapping[str, Any]) -> dict:
    """The whole record from its two parts (inverse of :func:`split_record`); raises
    ``ValueError`` when the internal part is not the one the public part names."""
    sha = hashlib.sha256(record_bytes(internal)).hexdigest()
    if sha != public.get("internal_sha256"):
        raise ValueError(_("the internal part has SHA-256 {sha256}, the public record names "
                           "{named}").format(sha256=sha, named=public.get("internal_sha256")))
    rec = json.loads(json.dumps(public))
    rec.pop("internal_sha256")
    inner = json.loads(json.dumps(internal))
    for name in INTERNAL_INPUTS:
        if name in inner:
            rec["inputs"][name] = inner[name]
    for h, ids in zip(rec["inputs"].get("history", {}).get("tasks", []),
                      inner["history_inspectors"], strict=True):
        h[4] = ids
    if inner.get("format") != INTERNAL_FORMAT:
        raise ValueError(_("the internal part has format {value}, not {expected}").format(
            value=repr(inner.get("format")), expected=INTERNAL_FORMAT))
    for t, extra in zip(rec["tasks"], inner["tasks"], strict=True):
        t.update({k: v for k, v in extra.items() if k != "task_id"})
    return rec


def project_path(path: str | Path) -> str:
    p = Path(path).resolve()
    try:
        return p.relative_to(PROJECT_ROOT).as_posix()
    except ValueError:
        return p.as_posix()


def file_sha256(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def draw_key(target: Mapping | None, campaign: str | None) -> str:
    return "untargeted" if not target else f"targeted:{campaign or 'T'}"



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
    tasks = record["tasks"]
    cols: dict[str, list] = {c: [t[c] for t in tasks] for c in (
        "task_id", "unit", "level", "uscc", "category", "credit_class", "stratum", "ticket",
        "inclusion_probability", "draw_mode", "origin", "method", "method_detail",
        "method_reason", "joint_type", "partner_department", "expert_id", "merged_with")}
    cols["quarter"] = [record["quarter"]] * len(tasks)
    cols["unit_name"] = [unit_names.get(u, "") for u in cols["unit"]]
    objs = [objects[u] for u in cols["uscc"]]
    cols["enterprise_name"] = [o["name"] for o in objs]
    cols["industry"] = [o["industry"] for o in objs]
    # A joint task carries several items (primary first): joined with ";" ("；" in names).
    item_ids = [[p[0] for p in t["items"]] if "items" in t else [t["item_id"]] for t in tasks]
    cols["item_id"] = [";".join(ids) for ids in item_ids]
    cols["item_name"] = ["；".join(items[c]["name"] for c in ids) for ids in item_ids]
    cols["business_line"] = [";".join(items[c]["business_line"] for c in ids)
                             for ids in item_ids]
    teams = [[m[0] for m in t["team"]] for t in tasks]
    cols["inspector_ids"] = [";".join(ids) for ids in teams]
    cols["inspector_names"] = [";".join(inspectors[i]["name"] for i in ids) for ids in teams]
    cols["inspector_business_lines"] = [";".join(inspectors[i]["business_line"] for i in ids)
                                        for ids in teams]
    cols["expert_name"] = [experts[e]["name"] if e else "" for e in cols["expert_id"]]
    return pd.DataFrame({c: cols[c] for c in TASK_COLUMNS}, columns=TASK_COLUMNS)


def tasks_zh(frame: pd.DataFrame) -> pd.DataFrame:
    """The task list with Chinese headers and labels (for upload and printing)."""
    line_zh = {k: v[0] for k, v in ENUMS["business_line"].items()}
    out = frame.copy()
    out["level"] = out["level"].map(LEVEL_ZH).fillna(out["level"])
    out["category"] = out["category"].map(CATEGORY_ZH).fillna(out["category"])
    out["draw_mode"] = out["draw_mode"].map(DRAW_MODE_ZH).fillna(out["draw_mode"])
    out["method_detail"] = out["method_detail"].map(METHOD_ZH).fillna(out["method_detail"])
    out["joint_type"] = out["joint_type"].map(JOINT_ZH).fillna(out["joint_type"])
    for col in ("business_line", "inspector_business_lines"):
        out[col] = out[col].map(lambda s: ";".join(line_zh.get(x, x) for x in s.split(";") if x))
    return out.rename(columns=TASK_COLUMNS_ZH)


def output_files(result: DrawResult) -> dict[str, bytes]:
    """The files of a draw, by relative path: ``public/record.json`` (the public part of the
    record: enough to replay the object draw, no inspector or team), ``internal/
    internal.json`` (the internal part: registers of inspectors and experts, teams,
    recusals, experts) and ``internal/tasks.csv`` (UTF-8 with BOM, Chinese headers) - the
    task list with teams, confidential until the visits. The printable task list and the
    teams' task sheets are written by ``dsr tasks`` (:mod:`dsr_analysis.fieldwork`).
    Records of earlier formats keep one folder: ``record.json``, ``tasks.csv``."""
    zh = tasks_zh(result.tasks)
    csv_bytes = csv_text(zh).encode("utf-8-sig")  # names that look like formulas neutralised
    if result.record.get("format") != RECORD_FORMAT:
        return {"record.json": record_bytes(result.record), "tasks.csv": csv_bytes}
    public, internal = split_record(result.record)
    return {"public/record.json": record_bytes(public),
            "internal/internal.json": record_bytes(internal),
            "internal/tasks.csv": csv_bytes}


#: Files earlier versions wrote beside a draw's files and that a draw now removes when it
#: places its own (the task list in XLSX: now ``dsr tasks``).
SUPERSEDED_FILES = ("internal/tasks.xlsx", "tasks.xlsx")


def write_outputs(result: DrawResult, out_dir: str | Path) -> dict[str, Path]:
    """Write :func:`output_files` into ``out_dir`` (created). Returns the paths by name
    (``record``: the public record; ``internal``, ``csv``)."""
    out = Path(out_dir)
    paths = {}
    for rel, data in output_files(result).items():
        p = out / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        paths[{"public/record.json": "record", "record.json": "record",
               "internal/internal.json": "internal", "internal/tasks.csv": "csv",
               "tasks.csv": "csv"}[rel]] = p
    return paths
