"""The public list of inspection items (随机抽查事项清单, R1: "公开…并根据法律法规变化及时调整"),
published with a version number and the changes since the last version.

:func:`item_list` turns the item register into the published table: item, category scope,
applicable industries, legal basis, business line, inspection method, partner department.
Two columns are the plan's, not the register's:

- **category scope** (检查对象类别): the categories the plan's quota rules draw (R4) - every
  drawn object gets an applicable item, whatever its category; an item with a partner
  department serves the inter-departmental joint checks (R5), which are made on randomly
  drawn objects, so its scope leaves out the positive list's off-site coverage;
- **inspection method** (检查方式, R6): items of the bureau's own business lines are checked
  off-site (technology or other checks) where the object allows it and on site otherwise
  (``methods.offsite_first``); items with a partner department on site, jointly.

:func:`publish_item_list` (``dsr items publish``) compares the list with the last published
version recorded in ``{outputs}/items/item_list.json``: unchanged, nothing is written; changed
(or the first time), version n+1 is written as XLSX and PDF (``item_list-v{n}.xlsx``/``.pdf``),
listing every added, removed and changed item, then the manifest (atomically, last). The
annual plan's documents take the list as their annex (:func:`item_list_blocks`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .categories import CATEGORY_ZH
from .errors import DocumentDateError, ItemListError
from .i18n import _
from .labels import BUSINESS_LINE_ZH
from .periods import option_date
from .policy import Policy
from .schema import ALL_INDUSTRIES
from .workcalendar import WorkCalendar

#: Columns of the published list (English keys) and their Chinese headers.
ITEM_LIST_COLUMNS_ZH = {
    "item_id": "事项编号", "name": "抽查事项", "category_scope": "检查对象类别",
    "industries": "适用行业", "legal_basis": "法律依据", "business_line": "业务条线",
    "method": "检查方式", "department": "配合部门", "needs_expert": "需要专家参与",
}
#: The manifest of published versions, in the item list's folder.
MANIFEST = "item_list.json"
LINE_ZH = BUSINESS_LINE_ZH
_CATEGORY_ORDER = ("special", "key", "general")


def document_date(value: dt.date | str | None, option: str, today: dt.date | None = None,
                  calendar: WorkCalendar | None = None) -> dt.date:
    """The date of a published document - a plan, an amendment, the item list - (``--date``;
    default today): not after today and a working day of the official calendar (never a
    holiday or a weekend)."""
    today = today or dt.date.today()
    day = option_date(value, option, today, DocumentDateError)
    if day > today:
        raise DocumentDateError(_("{option} {day} is after today ({today}): a document is "
                                  "dated the day it is issued, never in advance").format(
                                      option=option, day=day.isoformat(),
                                      today=today.isoformat()))
    cal = calendar or WorkCalendar()
    if not cal.is_working_day(day):
        raise DocumentDateError(_("{option} {day} is not a working day (a weekend or a public "
                                  "holiday of the official calendar): date the document the "
                                  "working day it is issued").format(option=option,
                                                                     day=day.isoformat()))
    return day



def _scope(policy: Policy, departmental: bool) -> str:
    cats = {r.category for r in policy.quotas.rules
            if not departmental or (r.method == "random" and r.subset != "positive_list")}
    return "、".join(CATEGORY_ZH[c] for c in _CATEGORY_ORDER if c in cats)


def _method(policy: Policy, departmental: bool) -> str:
    if departmental:
        return "现场检查（部门联合抽查）"
    if policy.methods.offsite_first:
        return "具备非现场监管条件的采用科技检查或其他检查，其余现场检查"
    return "现场检查"


def item_list(items: pd.DataFrame, policy: Policy) -> pd.DataFrame:
    """The published item list (English column keys of :data:`ITEM_LIST_COLUMNS_ZH`), one
    row per item of the register, by item id; every cell text."""
    rows = []
    for r in items.sort_values("item_id", kind="stable").itertuples(index=False):
        dept = str(getattr(r, "department", "") or "")
        scope = list(r.applies_to)
        rows.append({
            "item_id": str(r.item_id), "name": str(r.name),
            "category_scope": _scope(policy, bool(dept)),
            "industries": "全部行业" if ALL_INDUSTRIES in scope else "；".join(scope),
            "legal_basis": str(r.legal_basis),
            "business_line": LINE_ZH.get(r.business_line, str(r.business_line)),
            "method": _method(policy, bool(dept)), "department": dept or "—",
            "needs_expert": "是" if bool(r.needs_expert) else "否"})
    return pd.DataFrame(rows, columns=list(ITEM_LIST_COLUMNS_ZH))


def item_list_zh(frame: pd.DataFrame) -> pd.DataFrame:
    """The list with Chinese headers and a 序号 column, as the documents print it."""
    out = frame.rename(columns=ITEM_LIST_COLUMNS_ZH)
    out.insert(0, "序号", range(1, len(out) + 1))
    return out


def item_changes(before: Sequence[Mapping[str, str]], after: Sequence[Mapping[str, str]]
                 ) -> list[dict]:
    """Changes from one published list to the next, by item id: ``kind`` (added, removed,
    changed), ``item_id``, ``name`` and ``text`` (Chinese)."""
    old = {r["item_id"]: r for r in before}
    new = {r["item_id"]: r for r in after}
    out = []
    for item_id in sorted(set(old) | set(new)):
        a, b = old.get(item_id), new.get(item_id)
        if a is None:
            out.append({"kind": "added", "item_id": item_id, "name": b["name"],
                        "text": f"新增事项{item_id}“{b['name']}”"})
        elif b is None:
            out.append({"kind": "removed", "item_id": item_id, "name": a["name"],
                        "text": f"删除事项{item_id}“{a['name']}”"})
        else:
            diffs = [f"{ITEM_LIST_COLUMNS_ZH[k]}由“{a[k]}”调整为“{b[k]}”"
                     for k in ITEM_LIST_COLUMNS_ZH if k != "item_id" and a.get(k) != b.get(k)]
            if diffs:
                out.append({"kind": "changed", "item_id": item_id, "name": b["name"],
                            "text": f"事项{item_id}“{b['name']}”：" + "；".join(diffs)})
    return out


def list_sha256(rows: Sequence[Mapping[str, str]]) -> str:
    text = json.dumps(list(rows), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class ItemListVersion:
    """A published version of the item list.

    Attributes
    ----------
    version : int
        1, 2, … in order of publication.
    date : date
        Its publication date (公布日期).
    issuer : str
        The publishing bureau.
    rows : tuple of dict
        The list (:func:`item_list` rows).
    changes : tuple of dict
        Changes against the previous version (:func:`item_changes`; empty for version 1).
    files : tuple of Path
        Its XLSX and PDF.
    written : bool
        False when the register was unchanged and the last version stands.
    """

    version: int
    date: dt.date
    issuer: str
    rows: tuple[dict, ...]
    changes: tuple[dict, ...] = field(default=())
    files: tuple[Path, ...] = field(default=())
    written: bool = True


def item_list_folder(out_root: str | Path) -> Path:
    """Where the item list is published: ``{outputs}/items/``."""
    return Path(out_root) / "items"


def published_versions(out_root: str | Path) -> list[dict]:
    """The versions recorded in the manifest (oldest first); empty before the first."""
    path = item_list_folder(out_root) / MANIFEST
    if not path.is_file():
        return []
    try:
        return list(json.loads(path.read_text(encoding="utf-8"))["versions"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ItemListError(_("{path}: not an item-list manifest ({reason}); restore it from "
                              "the published copy").format(path=path, reason=exc)) from None


def item_list_document(rows: Sequence[Mapping[str, str]], version: int, day: dt.date,
                       issuer: str, changes: Sequence[Mapping[str, str]] = (),
                       demo: bool = False):
    """The public table (XLSX and PDF): the list, with the changes since the last version
    in its notes."""
    from .documents.model import Table, TableDocument

    frame = item_list_zh(pd.DataFrame(list(rows), columns=list(ITEM_LIST_COLUMNS_ZH)))
    if version == 1:
        notes = ("本清单为首次公布；根据法律法规和工作需要调整的，及时重新公布。",)
    elif changes:
        notes = (f"本版（第{version}版）较上一版的变更：" +
                 "；".join(f"{i}. {c['text']}" for i, c in enumerate(changes, 1)) + "。",)
    else:
        notes = ()
    return TableDocument(
        title=f"{issuer}随机抽查事项清单（第{version}版）",
        table=Table(frame, wrap_em=14), unit=issuer, unit_label="公布单位", date=day,
        date_label="公布日期", signatures=(), public=True, demo=demo, notes=notes)


def item_list_blocks(items: pd.DataFrame, policy: Policy) -> list:
    """The item list as the annex of the annual plan's documents (after the signature, on a
    page of its own: 附：随机抽查事项清单)."""
    from .documents.model import Heading, Paragraph, Table

    frame = item_list_zh(item_list(items, policy))
    return [Heading("随机抽查事项清单", 1),
            Paragraph("本清单根据法律法规和工作需要调整的，及时重新公布。"),
            Table(frame.drop(columns=["需要专家参与"]), wrap_em=10)]


def publish_item_list(items: pd.DataFrame, policy: Policy, out_root: str | Path,
                      date: dt.date | str | None = None, *, unit: str | None = None,
                      today: dt.date | None = None, calendar: WorkCalendar | None = None,
                      demo: bool = False) -> ItemListVersion:
    """Publish the item list when it changed since the last published version.

    ``date`` (default today): a working day, not after today, not before the last version.
    Unchanged: nothing is written and the last version is returned (``written`` False).
    Changed or first: version n+1's XLSX and PDF, then the manifest (written last,
    atomically, so a version is listed only once its documents exist)."""
    from .documents import write_forms
    from .documents.layout import write_atomically

    rows = item_list(items, policy).to_dict("records")
    folder = item_list_folder(out_root)
    versions = published_versions(out_root)
    last = versions[-1] if versions else None
    issuer = policy.authority(unit)
    if last is not None and last["sha256"] == list_sha256(rows):
        return ItemListVersion(int(last["version"]), dt.date.fromisoformat(last["date"]),
                               last["issuer"], tuple(last["rows"]),
                               tuple(last.get("changes") or ()),
                               tuple(folder / f for f in last["files"]), written=False)
    day = document_date(date, "--date", today, calendar)
    if last is not None and day < dt.date.fromisoformat(last["date"]):
        raise ItemListError(_("--date {day} precedes version {version} ({date}): versions are "
                              "published in order").format(day=day.isoformat(),
                                                           version=last["version"],
                                                           date=last["date"]))
    version = int(last["version"]) + 1 if last else 1
    changes = item_changes(last["rows"], rows) if last else []
    doc = item_list_document(rows, version, day, issuer, changes, demo)
    files = write_forms(doc, folder / f"item_list-v{version}")
    entry = {"version": version, "date": day.isoformat(), "issuer": issuer,
             "sha256": list_sha256(rows), "rows": rows, "changes": changes,
             "files": [p.name for p in files]}
    text = json.dumps({"versions": [*versions, entry]}, ensure_ascii=False, indent=1)
    write_atomically(folder / MANIFEST, lambda tmp: tmp.write_text(text + "\n",
                                                                    encoding="utf-8"))
    return ItemListVersion(version, day, issuer, tuple(rows), tuple(changes), tuple(files))
