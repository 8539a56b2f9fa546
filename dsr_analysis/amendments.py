"""The annual plan as published and as amended (R8: "调整后的年度抽查计划要及时向社会公开").

The steps a bureau takes:

1. :func:`publish_plan` (``dsr plan publish --policy P --date D``) records the plan as
   published - revision 0, ledger entry ``amendment:0`` - with its date (成文日期: a working
   day, not after today; never the machine's clock). The policy file's bytes go into the
   ledger's blobs.
2. :func:`amend_plan` (``dsr plan amend --policy NEW --reason TEXT --effective DATE``)
   records revision n (``amendment:{n}``): the new policy's digest (its bytes as a blob), the
   digest of the plan it replaces, the reason (调整说明), the decision date, the effective
   date and the list of changes (:func:`policy_changes`: quota rules and ratios, units,
   category conditions, credit-risk weights, joint checks, draw and staffing settings, in
   Chinese). Refused, with nothing written, when the year differs, when nothing changed,
   when it would be retroactive (effective before the decision), or when the effective
   date's quarter or a later one was already committed or drawn
   (:mod:`dsr_analysis.draw.revisions` states the rule).
3. Commitments then take the plan in force for their quarter
   (:func:`plan_in_force`; :func:`dsr_analysis.draw.commit_quarter` refuses any other
   policy), and ``dsr verify`` checks every revision entry (:func:`verify_revision`).
4. :func:`publish_plan_documents` writes each revision's public document once - the original
   plan and one document per amendment (第N次调整, its own date, 调整说明, the changes) - side
   by side in ``{outputs}/plan/{year}/`` with ``revisions.json`` listing them. A document
   already published is never written again, so rendering a later quarter never re-dates it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from .categories import CATEGORY_ZH
from .draw.ledger import (Entry, append, entries, exclusive, get_blob, head_of, now_utc,
                          put_blob)
from .draw.record import LEVEL_ZH, project_path
from .draw.revisions import (PLAN_FORMAT, PlanRevision, amendment_conflict, amendment_key,
                             plan_revisions, quarter_of, revision_from_entry,
                             revision_in_force)
from .errors import DsrError, PlanError
from .i18n import _
from .labels import PLAN_FIELD_ZH, PLAN_PART_ZH, PLAN_SHARE_FIELDS
from .periods import Quarter, date_zh, option_date
from .policy import Policy, load_policy, policy_to_dict
from .quotas import METHOD_ZH, SUBSET_ZH
from .itemlist import document_date, item_list_blocks
from .workcalendar import WorkCalendar


# --------------------------------------------------------------------------------------
# What changed between two plans
# --------------------------------------------------------------------------------------
def _value_text(path: str, value: Any) -> str:
    if value is None:
        return "（未设置）"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, (list, tuple)):
        return "、".join(_value_text(path, v) for v in value) or "（无）"
    if isinstance(value, dict):
        return "，".join(f"{k} {_value_text(path, v)}" for k, v in value.items())
    if isinstance(value, float) and path.split(".")[-1] in PLAN_SHARE_FIELDS:
        return f"{value:.4g}" if value > 1 else f"{value * 100:.4g}%"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _change(part: str, subject: str, before: Any, after: Any, path: str = "") -> dict:
    b = "（无）" if before is None and path == "" else _value_text(path, before)
    a = "（无）" if after is None and path == "" else _value_text(path, after)
    if before is None and path == "":
        text = f"新增{subject}：{a}"
    elif after is None and path == "":
        text = f"删除{subject}：{b}"
    else:
        text = f"{subject}由{b}调整为{a}"
    return {"part": part, "subject": subject, "before": b, "after": a, "text": text}


def _quota_subject(rule: Mapping[str, Any]) -> str:
    level = LEVEL_ZH.get(rule["level"], rule["level"])
    cat = CATEGORY_ZH.get(rule["category"], rule["category"])
    subset = SUBSET_ZH.get(rule["subset"], rule["subset"])
    return f"{level}{cat}（{subset}）"


def _quota_text(rule: Mapping[str, Any]) -> str:
    per = "每季度" if rule["per"] == "quarter" else "每年"
    if rule["basis"] == "share":
        amount = f"不低于{rule['ratio'] * 100:.4g}%"
    else:
        amount = f"每名执法人员不少于{rule['ratio']:g}家"
    credit = "，结合信用风险分类" if rule.get("credit_weighted") else ""
    return f"{per}{METHOD_ZH.get(rule['method'], rule['method'])}{amount}{credit}"


def _keyed(items: Sequence[Mapping], key: str = "id") -> dict[str, Mapping]:
    return {str(x[key]): x for x in items}


def _flat(d: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(d, dict) and not (prefix.endswith("weights") or prefix.endswith("ratios")):
        out: dict[str, Any] = {}
        for k, v in d.items():
            out.update(_flat(v, f"{prefix}.{k}" if prefix else k))
        return out
    return {prefix: d}


def policy_changes(old: Policy, new: Policy) -> list[dict]:
    """The changes from ``old`` to ``new``, in Chinese: one dict per change with ``part``
    (:data:`~dsr_analysis.labels.PLAN_PART_ZH` key), ``subject``, ``before``, ``after`` and
    ``text`` (a sentence for the 调整说明). Quota rules, units and category conditions are
    matched by their ids; every other setting by its key."""
    a, b = policy_to_dict(old), policy_to_dict(new)
    out: list[dict] = []
    for key in ("name", "year"):
        if a.get(key) != b.get(key):
            out.append(_change("plan", PLAN_FIELD_ZH.get(key, key), a.get(key), b.get(key), key))
    ua, ub = _keyed(a["units"]), _keyed(b["units"])
    for uid in [*ua, *(u for u in ub if u not in ua)]:
        x, y = ua.get(uid), ub.get(uid)
        name = (y or x)["name"]
        if x is None or y is None:
            out.append(_change("unit", f"抽查单位{name}", None if x is None else
                               LEVEL_ZH.get(x["level"], x["level"]),
                               None if y is None else LEVEL_ZH.get(y["level"], y["level"])))
            continue
        for f in sorted(set(x) | set(y)):
            if x.get(f) != y.get(f) and f != "rule":
                out.append(_change("unit", f"抽查单位{name}的{PLAN_FIELD_ZH.get('units.' + f, f)}",
                                   x.get(f), y.get(f), f"units.{f}"))
    qa, qb = _keyed(a["quotas"]["rules"]), _keyed(b["quotas"]["rules"])
    for rid in [*qa, *(r for r in qb if r not in qa)]:
        x, y = qa.get(rid), qb.get(rid)
        subject = f"{_quota_subject(y or x)}最低抽查频次"
        if x is None or y is None:
            out.append(_change("quota", subject, None if x is None else _quota_text(x),
                               None if y is None else _quota_text(y)))
        elif {k: v for k, v in x.items() if k != "rule"} != {k: v for k, v in y.items()
                                                              if k != "rule"}:
            out.append(_change("quota", subject, _quota_text(x), _quota_text(y), "quota"))
    ca, cb = _keyed(a["categories"]["conditions"]), _keyed(b["categories"]["conditions"])
    for cid in [*ca, *(c for c in cb if c not in ca)]:
        x, y = ca.get(cid), cb.get(cid)
        def cond(c):
            return None if c is None else f"{c['label']}→{CATEGORY_ZH.get(c['category'])}"
        if x is None or y is None or {k: v for k, v in x.items() if k != "rule"} != \
                {k: v for k, v in y.items() if k != "rule"}:
            out.append(_change("category", "监管对象分类条件", cond(x), cond(y),
                               "" if x is None or y is None else "condition"))
    fa = _flat({k: v for k, v in a.items() if k not in ("id", "name", "year", "units")})
    fb = _flat({k: v for k, v in b.items() if k not in ("id", "name", "year", "units")})
    skip = ("quotas.rules", "categories.conditions")
    for path in [*fa, *(p for p in fb if p not in fa)]:
        if path.startswith(skip) or path.endswith(".rule") or fa.get(path) == fb.get(path):
            continue
        part = path.split(".")[0]
        subject = PLAN_FIELD_ZH.get(path, f"参数{path}")
        out.append(_change(part if part in PLAN_PART_ZH else "other", subject, fa.get(path),
                           fb.get(path), path))
    return out


def changes_frame(changes: Sequence[Mapping]) -> pd.DataFrame:
    """The changes as the document's table (序号, 调整事项, 调整内容, 调整前, 调整后)."""
    return pd.DataFrame({
        "序号": range(1, len(changes) + 1),
        "调整事项": [PLAN_PART_ZH.get(c["part"], c["part"]) for c in changes],
        "调整内容": [c["subject"] for c in changes],
        "调整前": [c["before"] for c in changes],
        "调整后": [c["after"] for c in changes]})


# --------------------------------------------------------------------------------------
# The plan in force
# --------------------------------------------------------------------------------------
def policy_from_bytes(data: bytes, path: str = "") -> Policy:
    """A policy from its file's bytes (a ledger blob), named by ``path``."""
    name = Path(path).name or "policy.yaml"
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / name
        copy.write_bytes(data)
        policy = load_policy(copy)
    return dataclasses.replace(policy, path=path)


@dataclass(frozen=True)
class PlanInForce:
    """The plan a quarter is committed and drawn under.

    Attributes
    ----------
    revision : PlanRevision
        Its revision (0: the plan as published).
    policy_bytes : bytes
        The policy file's bytes (from the ledger's blobs).
    """

    revision: PlanRevision
    policy_bytes: bytes

    @property
    def sha256(self) -> str:
        return self.revision.policy_sha256

    @property
    def path(self) -> str:
        return self.revision.policy_path

    def policy(self) -> Policy:
        return policy_from_bytes(self.policy_bytes, self.revision.policy_path)


def plan_in_force(ledger: str | Path, when: str | Quarter | dt.date) -> PlanInForce | None:
    """The plan in force for a quarter (or the quarter of a date): policy bytes, digest,
    path and revision; None when the ledger says nothing of that year's plan."""
    q = quarter_of(when) if isinstance(when, dt.date) else Quarter.parse(when)
    if not Path(ledger).is_file():
        return None
    rev = revision_in_force(entries(ledger), q)
    if rev is None:
        return None
    data = get_blob(ledger, rev.policy_sha256)
    if data is None:
        raise PlanError(_("{ledger}: the ledger holds no copy of the plan in force for "
                          "{quarter} (SHA-256 {sha}); run dsr verify").format(
                              ledger=ledger, quarter=q.label, sha=rev.policy_sha256))
    return PlanInForce(rev, data)


def revisions_table(ledger: str | Path, year: int) -> pd.DataFrame:
    """The year's revisions as staff read them (Chinese headers): revision, date, effective
    date and first quarter, policy file and digest, ledger entry, reason."""
    rows = [{"修订": r.label_zh, "成文日期": r.date.isoformat() if r.date else "（未登记）",
             "施行日期": r.effective.isoformat(), "适用季度起": r.effective_quarter.label,
             "实施方案文件": r.policy_path or r.policy_id, "SHA-256": r.policy_sha256[:16] + "…",
             "账本条目": r.seq if r.seq is not None else "—", "调整说明": r.reason or "—"}
            for r in revisions(ledger, year)]
    return pd.DataFrame(rows)


def revisions(ledger: str | Path, year: int) -> list[PlanRevision]:
    """Every revision of a year's plan in the ledger (:func:`plan_revisions`)."""
    return plan_revisions(entries(ledger), year) if Path(ledger).is_file() else []


# --------------------------------------------------------------------------------------
# Publishing and amending
# --------------------------------------------------------------------------------------
def _record(policy: Policy, revision: int, day: dt.date, effective: dt.date,
            previous: str | None, reason: str, changes: list[dict], head: str) -> dict:
    return {"format": PLAN_FORMAT, "quarter": quarter_of(effective).label,
            "draw_key": amendment_key(revision), "units": [u.id for u in policy.units],
            "year": policy.year, "revision": revision, "policy_id": policy.id,
            "policy_name": policy.name,
            "policy_path": project_path(policy.path) if policy.path else "",
            "policy_sha256": policy.sha256, "previous_sha256": previous,
            "date": day.isoformat(), "effective": effective.isoformat(),
            "reason": reason or None, "changes": changes, "issuer": policy.authority(),
            "ledger_head": head}


def _append(ledger: str | Path, policy: Policy, record: dict) -> PlanRevision:
    put_blob(ledger, Path(policy.path).read_bytes())
    entry = append(ledger, record, created_at=now_utc())
    return revision_from_entry(entry)


def publish_plan(policy: Policy, ledger: str | Path, date: dt.date | str | None = None,
                 *, today: dt.date | None = None,
                 calendar: WorkCalendar | None = None) -> PlanRevision:
    """Record the year's plan as published (revision 0, entry ``amendment:0``) with its date.

    Refused when the ledger already records the year's plan, or when the year was already
    committed or drawn under another policy."""
    day = document_date(date, "--date", today, calendar)
    if day.year not in (policy.year - 1, policy.year):
        raise PlanError(_("--date {day}: the {year} plan is published in {before} or {year}"
                          ).format(day=day.isoformat(), year=policy.year,
                                   before=policy.year - 1))
    with exclusive(ledger):
        all_entries = entries(ledger) if Path(ledger).exists() else []
        recorded = [e for e in all_entries if e.is_amendment
                    and revision_from_entry(e).year == policy.year]
        if recorded:
            raise PlanError(_("{ledger}: the {year} plan was already recorded (entry #{seq}); "
                              "change it with dsr plan amend").format(
                                  ledger=ledger, year=policy.year, seq=recorded[0].seq))
        for r in plan_revisions(all_entries, policy.year):
            if r.policy_sha256 != policy.sha256:
                raise PlanError(_(
                    "{path}: SHA-256 {sha} is not the plan {year} was committed under "
                    "({committed_path}, SHA-256 {committed_sha}); publish that plan, then amend "
                    "it").format(path=policy.path, sha=policy.sha256, year=policy.year,
                                 committed_path=r.policy_path, committed_sha=r.policy_sha256))
        record = _record(policy, 0, day, dt.date(policy.year, 1, 1), None, "", [],
                         head_of(all_entries))
        return _append(ledger, policy, record)


def amend_plan(policy: Policy, ledger: str | Path, reason: str,
               effective: dt.date | str, date: dt.date | str | None = None, *,
               today: dt.date | None = None,
               calendar: WorkCalendar | None = None) -> PlanRevision:
    """Record an amendment of the year's plan (revision n, entry ``amendment:{n}``).

    Parameters
    ----------
    policy : Policy
        The amended plan (its file's bytes are kept in the ledger).
    ledger : path
    reason : str
        The 调整说明 printed in the amendment's document.
    effective : date or YYYY-MM-DD
        First day the amended plan applies; it applies to the whole quarter of that day.
    date : date or YYYY-MM-DD, optional
        The decision date (成文日期; default today): a working day, not after today, not
        after ``effective``.

    Raises
    ------
    PlanError
        Nothing written: empty reason; effective date of another year than the plan's or
        before the decision; no plan recorded or committed for the year; nothing changed;
        the effective quarter or a later one already committed or drawn.
    """
    if not str(reason or "").strip():
        raise PlanError(_("--reason is empty: state why the plan is amended (调整说明); it is "
                          "published with the amendment"))
    today = today or dt.date.today()
    day = document_date(date, "--date", today, calendar)
    eff = option_date(effective, "--effective", today, PlanError)
    if eff.year != policy.year:
        raise PlanError(_("--effective {effective}: the amended plan {path} is the {year} "
                          "plan; an amendment takes effect within its year").format(
                              effective=eff.isoformat(), path=policy.path, year=policy.year))
    if eff < day:
        raise PlanError(_("--effective {effective} precedes the decision date {day}: an "
                          "amendment never applies retroactively").format(
                              effective=eff.isoformat(), day=day.isoformat()))
    with exclusive(ledger):
        all_entries = entries(ledger) if Path(ledger).exists() else []
        revs = plan_revisions(all_entries, policy.year)
        if not revs:
            raise PlanError(_("{ledger}: no {year} plan is recorded or committed: publish the "
                              "plan first (dsr plan publish --policy … --date …)").format(
                                  ledger=ledger, year=policy.year))
        last = revs[-1]
        if last.date is not None and day < last.date:
            raise PlanError(_("--date {day} precedes {revision} ({date}): amendments are dated "
                              "in ledger order").format(day=day.isoformat(),
                                                        revision=last.label_zh,
                                                        date=last.date.isoformat()))
        conflict = amendment_conflict(all_entries, eff)
        if conflict is not None:
            first_free = _first_free_day(all_entries, policy.year)
            hint = (_("; the first quarter not yet committed or drawn starts {day}").format(
                day=first_free) if first_free else
                _("; every quarter of the year is committed or drawn"))
            message = (_("--effective {effective}: {quarter} was already committed under the "
                         "plan in force (ledger entry #{seq}); an amendment cannot change a "
                         "quarter already committed or drawn{hint}. Nothing was written")
                       if conflict.is_commitment else
                       _("--effective {effective}: {quarter} was already drawn under the plan "
                         "in force (ledger entry #{seq}); an amendment cannot change a quarter "
                         "already committed or drawn{hint}. Nothing was written"))
            raise PlanError(message.format(effective=eff.isoformat(), quarter=conflict.quarter,
                                           seq=conflict.seq, hint=hint))
        old_bytes = get_blob(ledger, last.policy_sha256)
        if old_bytes is None:
            raise PlanError(_("{ledger}: the ledger holds no copy of the plan in force (SHA-256 "
                              "{sha}); run dsr verify").format(ledger=ledger,
                                                               sha=last.policy_sha256))
        old = policy_from_bytes(old_bytes, last.policy_path)
        changes = policy_changes(old, policy)
        if policy.sha256 == last.policy_sha256 or not changes:
            raise PlanError(_("{path}: nothing changed against {revision} ({previous}): no "
                              "quota rule, ratio, unit, condition or setting differs; nothing "
                              "was written").format(path=policy.path, revision=last.label_zh,
                                                    previous=last.policy_path))
        record = _record(policy, last.revision + 1, day, eff, last.policy_sha256,
                         " ".join(str(reason).split()), changes, head_of(all_entries))
        return _append(ledger, policy, record)


def _first_free_day(all_entries: Sequence[Entry], year: int) -> str:
    from .draw.revisions import fixed_quarters

    latest = max((Quarter.parse(q).q for q, _ in fixed_quarters(all_entries, year)), default=0)
    return Quarter(year, latest + 1).start.isoformat() if latest < 4 else ""


# --------------------------------------------------------------------------------------
# Verification (dsr verify)
# --------------------------------------------------------------------------------------
def verify_revision(entry: Entry, all_entries: Sequence[Entry], ledger: str | Path | None
                    ) -> list[tuple[str, str]]:
    """(field, message) for every problem of a plan revision entry: format and key, the
    ledger head it names, its policy blob (present and matching), the digest of the plan it
    replaces, the refusal rule (no commitment or draw for its effective quarter or later
    before it), and its list of changes recomputed from the two blobs."""
    rec = entry.record
    if rec.get("format") != PLAN_FORMAT:
        return [("format", _("a plan revision entry holds format {value}").format(
            value=repr(rec.get("format"))))]
    try:
        rev = revision_from_entry(entry)
    except (KeyError, ValueError, TypeError) as exc:
        return [("(record)", _("not a plan revision ({reason})").format(reason=exc))]
    before = [e for e in all_entries if e.seq < entry.seq]
    problems = []
    if entry.draw_key != amendment_key(rev.revision):
        problems.append(("draw_key", _("{value} is not {expected}").format(
            value=entry.draw_key, expected=amendment_key(rev.revision))))
    if entry.quarter != rev.effective_quarter.label:
        problems.append(("quarter", _("{value} is not the effective date's quarter "
                                      "{expected}").format(value=entry.quarter,
                                                           expected=rev.effective_quarter.label)))
    if rec.get("ledger_head") != head_of(before):
        problems.append(("ledger_head", _("names {value}, the ledger before it is "
                                          "{expected}").format(value=rec.get("ledger_head"),
                                                               expected=head_of(before))))
    blob = get_blob(ledger, rev.policy_sha256) if ledger else None
    if blob is None:
        problems.append(("policy_sha256", _("the ledger holds no policy with SHA-256 {sha256} "
                                            "(blob missing or altered)").format(
                                                sha256=rev.policy_sha256)))
    earlier = plan_revisions(before, rev.year)
    if rev.revision == 0:
        if earlier and earlier[0].recorded:
            problems.append(("revision", _("the year's plan was recorded before")))
        return problems
    if not earlier:
        return [*problems, ("revision", _("an amendment without a plan before it"))]
    last = earlier[-1]
    if rev.revision != last.revision + 1:
        problems.append(("revision", _("{revision} follows revision {last}").format(
            revision=rev.revision, last=last.revision)))
    if rev.previous_sha256 != last.policy_sha256:
        problems.append(("previous_sha256", _("{value} is not the plan before it "
                                              "({expected})").format(
                                                  value=rev.previous_sha256,
                                                  expected=last.policy_sha256)))
    conflict = amendment_conflict(before, rev.effective)
    if conflict is not None:
        problems.append(("effective", _("{quarter} was committed or drawn (entry #{seq}) "
                                        "before this amendment effective {date}").format(
                                            quarter=conflict.quarter, seq=conflict.seq,
                                            date=rev.effective.isoformat())))
    old_blob = get_blob(ledger, last.policy_sha256) if ledger else None
    if blob is not None and old_blob is not None:
        try:
            want = policy_changes(policy_from_bytes(old_blob, last.policy_path),
                                  policy_from_bytes(blob, rev.policy_path))
        except DsrError as exc:
            return [*problems, ("policy_sha256", _("the stored plan does not load ({reason})"
                                                   ).format(reason=exc))]
        if json.loads(json.dumps(want, ensure_ascii=False)) != list(rec.get("changes") or []):
            problems.append(("changes", _("the recorded changes are not those between the two "
                                          "stored plans")))
    return problems


# --------------------------------------------------------------------------------------
# Documents (public)
# --------------------------------------------------------------------------------------
def quota_rules_frame(policy: Policy) -> pd.DataFrame:
    """The plan's minimum frequencies (R4) as a table for its documents."""
    rows = policy_to_dict(policy)["quotas"]["rules"]
    return pd.DataFrame({
        "抽查层级": [LEVEL_ZH.get(r["level"], r["level"]) for r in rows],
        "监管类别": [CATEGORY_ZH.get(r["category"], r["category"]) for r in rows],
        "范围": [SUBSET_ZH.get(r["subset"], r["subset"]) for r in rows],
        "最低抽查频次": [_quota_text(r) for r in rows]})


def revision_document(rev: PlanRevision, policy: Policy, ledger_line: str,
                      annex: Sequence[Any] = (), demo: bool = False):
    """The public document of a revision: the plan as published (revision 0) or an
    amendment (第N次调整: its date, 调整说明, the changes, the minimum frequencies as
    amended). ``annex``: the blocks after the signature, on a page of their own (the item
    list: :func:`dsr_analysis.itemlist.item_list_blocks`)."""
    from .documents.model import Attachment, Heading, OfficialDocument, Paragraph, Table
    from .reports import draw_method, reporting_calendar
    from .official import official_text

    issuer = rev.issuer or policy.authority()
    title = f"{issuer}{rev.year}年度“双随机、一公开”抽查计划"
    units = "、".join(u.name for u in policy.units)
    if rev.revision == 0:
        blocks: list = [
            Paragraph(f"根据《{policy.name}》，制定本年度“双随机、一公开”抽查计划，向社会公开。"
                      "计划调整的，及时重新公开。"),
            Heading("一、抽查单位", 1),
            Paragraph(f"本计划适用于{units}，各单位在各自辖区内随机抽取检查对象。"),
            Heading("二、最低抽查频次", 1),
            Table(quota_rules_frame(policy), title="表1 各类监管对象最低抽查频次"),
            Heading("三、抽取方法与复核方法", 1),
            *[Paragraph(f"{i}. {official_text(p)}") for i, p in
              enumerate(draw_method(policy), start=1)],
            Heading("四、报送与公开时间", 1),
            Table(reporting_calendar(policy), title="表2 报送时间"),
            Paragraph(f"抽查结果在检查后{policy.reporting.results_within_working_days}个工作日内"
                      "向社会公开；涉及国家秘密、国家安全或公共安全的依法不予公开。")]
    else:
        title += f"（{rev.label_zh}）"
        eq = rev.effective_quarter
        blocks = [
            Paragraph(f"根据工作需要，经研究，对本年度“双随机、一公开”抽查计划作第{rev.revision}次"
                      f"调整，自{date_zh(rev.effective)}起施行，适用于{eq.label_zh}及以后各季度的"
                      "抽取；此前已公告或已完成抽取的季度仍按原计划执行。原计划和历次调整均继续公开。"),
            Heading("一、调整说明", 1),
            Paragraph(rev.reason if rev.reason.endswith(("。", "！", "；", ".", "!"))
                      else f"{rev.reason}。"),
            Heading("二、调整内容", 1),
            Table(changes_frame(rev.changes), title="表1 调整事项", wrap_em=7),
            Heading("三、调整后的最低抽查频次", 1),
            Table(quota_rules_frame(policy), title="表2 各类监管对象最低抽查频次（调整后）")]
    blocks.append(Paragraph(ledger_line))
    # the item list is published with the plan: a 附件 (named in the 附件说明), never the
    # reviewers' appendix (which the published files leave out)
    annex = list(annex)
    attachments = ()
    if annex:
        name = annex[0].text if isinstance(annex[0], Heading) else "随机抽查事项清单"
        rest = annex[1:] if isinstance(annex[0], Heading) else annex
        attachments = (Attachment(name, tuple(rest)),)
    return OfficialDocument(title=title, issuer=issuer, date=rev.date or dt.date(rev.year, 1, 1),
                            blocks=tuple(blocks), public=True, demo=demo,
                            attachments=attachments)


def revision_ledger_line(rev: PlanRevision, all_entries: Sequence[Entry]) -> str:
    n = rev.seq or 0
    h = all_entries[n - 1].entry_hash if n and len(all_entries) >= n else ""
    return (f"本计划{'' if rev.revision == 0 else '调整'}已登记在抽取记录账本第{n}条（哈希值{h}），"
            f"所依据的实施方案文件SHA-256摘要为{rev.policy_sha256}，任何人可据此核验。")


def plan_folder(out_root: str | Path, year: int) -> Path:
    """Where a year's plan documents are published: ``{outputs}/plan/{year}/``."""
    return Path(out_root) / "plan" / str(year)


def revision_stem(year: int, revision: int) -> str:
    """File stem of a revision's documents: ``annual_plan-2023-r0`` (the plan as published),
    ``annual_plan-2023-r1`` (第1次调整)…"""
    return f"annual_plan-{year}-r{revision}"


def publish_plan_documents(ledger: str | Path, out_root: str | Path, year: int,
                           annex: Callable[[PlanRevision], Sequence[Any]] | None = None,
                           demo: bool = False) -> list[Path]:
    """Write the DOCX and PDF of every recorded revision of the year that has none yet into
    :func:`plan_folder` (an existing document is never written again, so never re-dated),
    then ``revisions.json`` listing every revision (number, date, effective date, reason,
    changes, policy digest, ledger entry, files). ``annex(rev)``: blocks for a revision's 附件
    (e.g. :func:`dsr_analysis.itemlist.item_list_blocks`). Returns the files written."""
    from .documents import write_forms
    from .documents.layout import write_atomically

    all_entries = entries(ledger)
    folder = plan_folder(out_root, year)
    written: list[Path] = []
    listing = []
    for rev in plan_revisions(all_entries, year):
        if not rev.recorded:
            continue
        stem = folder / revision_stem(year, rev.revision)
        files = [stem.with_name(stem.name + ext) for ext in (".docx", ".pdf")]
        if not all(f.is_file() for f in files):
            data = get_blob(ledger, rev.policy_sha256)
            if data is None:
                raise PlanError(_("{ledger}: no copy of the plan of {revision} (SHA-256 {sha}); "
                                  "run dsr verify").format(ledger=ledger, revision=rev.label_zh,
                                                           sha=rev.policy_sha256))
            policy = policy_from_bytes(data, rev.policy_path)
            doc = revision_document(rev, policy, revision_ledger_line(rev, all_entries),
                                    annex(rev) if annex else (), demo)
            folder.mkdir(parents=True, exist_ok=True)
            written.extend(write_forms(doc, stem))
        listing.append({"revision": rev.revision, "label": rev.label_zh,
                        "date": rev.date.isoformat() if rev.date else None,
                        "effective": rev.effective.isoformat(),
                        "effective_quarter": rev.effective_quarter.label,
                        "reason": rev.reason, "changes": [c["text"] for c in rev.changes],
                        "policy_sha256": rev.policy_sha256, "policy_path": rev.policy_path,
                        "ledger_seq": rev.seq, "entry_hash": rev.entry_hash,
                        "files": [f.name for f in files]})
    if listing:
        text = json.dumps({"year": year, "revisions": listing}, ensure_ascii=False, indent=1)
        written.append(write_atomically(folder / "revisions.json",
                                        lambda tmp: tmp.write_text(text + "\n",
                                                                   encoding="utf-8")))
    return written


def first_working_day(year: int, calendar: WorkCalendar | None = None) -> dt.date:
    """The year's first working day (2023: 3 January): the date of a plan whose own date
    was not recorded - never 1 January, a holiday."""
    cal = calendar or WorkCalendar()
    day = dt.date(year, 1, 1)
    while not cal.is_working_day(day):
        day += dt.timedelta(days=1)
    return day


def annual_plan_edition(inputs: Any, unit: str, ledger: str | Path | None = ""):
    """The annual plan a quarter's render publishes (``notebooks/reports/annual_plan``): the
    revision in force for the quarter, dated by its recorded date, its ledger line naming
    the revision's own entry, so that rendering a later quarter under the same plan gives
    the same document (never the later head). An amendment (第N次调整) adds its title
    suffix, effective date, 调整说明 and changes, and the quotas follow the amended plan.
    Without a recorded plan: dated the year's first working day, the line naming the
    policy's digest. ``inputs``: :class:`dsr_analysis.reports.ReportInputs`."""
    from .categories import classify
    from .official import annual_plan_document

    all_entries = entries(ledger) if ledger and Path(ledger).is_file() else []
    rev = revision_in_force(all_entries, inputs.quarter) if all_entries else None
    if rev is None or not rev.recorded:
        line = None if not inputs.ledger_head else (
            f"本计划所依据的实施方案文件SHA-256摘要为{inputs.policy.sha256}，可与各季度抽取公告"
            "所载摘要核对。")
        return annual_plan_document(inputs, unit, first_working_day(inputs.policy.year,
                                                                    inputs.calendar),
                                    ledger_line=line)
    if rev.policy_sha256 != inputs.policy.sha256:
        data = get_blob(ledger, rev.policy_sha256)
        if data is None:
            raise PlanError(_("{ledger}: no copy of the plan of {revision} (SHA-256 {sha}); run "
                              "dsr verify").format(ledger=ledger, revision=rev.label_zh,
                                                   sha=rev.policy_sha256))
        policy = policy_from_bytes(data, rev.policy_path)
        inputs = dataclasses.replace(inputs, policy=policy,
                                     classified=classify(inputs.registers.enterprises, policy))
    notes: tuple[str, ...] = ()
    if rev.revision:
        notes = (f"本计划经{rev.label_zh}，自{date_zh(rev.effective)}起施行，适用于"
                 f"{rev.effective_quarter.label_zh}及以后各季度的抽取。调整说明：{rev.reason}",
                 "调整内容：" + "；".join(c["text"] for c in rev.changes) + "。")
    from .timestamps import covering_text_zh

    return annual_plan_document(inputs, unit, rev.date,
                                revision=rev.label_zh if rev.revision else "",
                                ledger_line=revision_ledger_line(rev, all_entries)
                                + covering_text_zh(ledger, rev.seq), notes=notes)


def record_plan(policy: Policy, ledger: str | Path, out_root: str | Path,
                date: dt.date | str | None = None, items: pd.DataFrame | None = None,
                **kwargs: Any) -> tuple[PlanRevision, list[Path]]:
    """``dsr plan publish``: record the plan (:func:`publish_plan`), then write its document
    (with ``items`` as the annex) and the revisions listing (:func:`publish_plan_documents`).
    Returns the revision and the files written."""
    rev = publish_plan(policy, ledger, date, **kwargs)
    return rev, publish_plan_documents(ledger, out_root, policy.year, _annex(items, policy))


def record_amendment(policy: Policy, ledger: str | Path, out_root: str | Path, reason: str,
                     effective: dt.date | str, date: dt.date | str | None = None,
                     items: pd.DataFrame | None = None, **kwargs: Any
                     ) -> tuple[PlanRevision, list[Path]]:
    """``dsr plan amend``: record the amendment (:func:`amend_plan`), then write its document
    beside the earlier ones (:func:`publish_plan_documents`). Returns the revision and the
    files written."""
    rev = amend_plan(policy, ledger, reason, effective, date, **kwargs)
    return rev, publish_plan_documents(ledger, out_root, policy.year,
                                       _annex(items, policy))


def _annex(items: pd.DataFrame | None, policy: Policy):
    if items is None:
        return None
    return lambda rev: item_list_blocks(items, policy) if rev.revision == 0 else []


__all__ = ["PlanError", "PlanInForce", "amend_plan", "annual_plan_edition", "first_working_day", "record_amendment", "record_plan", "changes_frame", "document_date",
           "plan_folder", "plan_in_force", "policy_changes", "policy_from_bytes",
           "publish_plan", "publish_plan_documents", "quota_rules_frame", "revision_document",
           "revision_stem", "revisions", "revisions_table", "verify_revision"]
