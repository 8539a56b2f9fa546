"""Revisions of the annual plan in the ledger (R8: "调整后的年度抽查计划要及时向社会公开"), and
which revision is in force for a quarter.

A **plan revision** is a ledger entry with draw key ``amendment:{n}`` (record format
:data:`PLAN_FORMAT`); the policy file's bytes are kept in the ledger's ``blobs`` table under
the record's ``policy_sha256``, so the plan a quarter was drawn under never depends on a file
that may change later.

- Revision 0 (``dsr plan publish``) records the plan as published: its policy digest and its
  date (成文日期, the day it was published: a working day, never the machine's clock). A ledger
  without it takes the policy of the year's first commitment (or draw) as revision 0, undated.
- Revision n >= 1 (``dsr plan amend``) records the amended policy, the digest of the plan it
  replaces, the reason (调整说明), the decision date, the effective date and the list of
  changes (:func:`dsr_analysis.amendments.policy_changes`).

**The rule.** A revision takes effect for the whole quarter of its effective date (its
*effective quarter*) and every later quarter of the year. It is refused when the ledger
already holds a commitment or a draw of this ledger for the effective quarter or a later one
of the year: that quarter was fixed under the old plan. So a quarter is always committed and
drawn under one plan - the latest revision whose effective quarter is not after it
(:func:`revision_in_force`) - and a commitment is refused for a policy that is not that plan,
or dated before the revision was decided (:func:`commitment_plan_problem`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..periods import Quarter
from ..i18n import _
from .ledger import AMENDMENT, Entry

#: Record format of a plan revision entry.
PLAN_FORMAT = "dsr-plan-revision/1"


@dataclass(frozen=True)
class PlanRevision:
    """One revision of a year's plan.

    Attributes
    ----------
    revision : int
        0 = the plan as published, n = the n-th amendment (第n次调整).
    year : int
        The plan's year.
    policy_sha256 : str
        SHA-256 of the policy file's bytes (kept as a ledger blob).
    policy_id, policy_path : str
        The policy's id and the path it was read from (project-relative where possible).
    effective : date
        First day it applies (revision 0: 1 January of the year).
    date : date or None
        The date of its document (成文日期: publication or decision); None for a revision 0
        taken from the first commitment (the plan's date was not recorded).
    reason : str
        The 调整说明 (empty for revision 0).
    changes : tuple of dict
        The changes against the previous revision (``part``, ``subject``, ``before``,
        ``after``, ``text``); empty for revision 0.
    previous_sha256 : str or None
        The policy digest of the revision it replaces.
    seq, entry_hash : int or None, str
        Its ledger entry (None / empty for a revision 0 taken from a commitment).
    issuer : str
        The bureau that issues the plan.
    """

    revision: int
    year: int
    policy_sha256: str
    policy_id: str
    policy_path: str
    effective: dt.date
    date: dt.date | None
    reason: str = ""
    changes: tuple[dict, ...] = field(default=())
    previous_sha256: str | None = None
    seq: int | None = None
    entry_hash: str = ""
    issuer: str = ""

    @property
    def effective_quarter(self) -> Quarter:
        return quarter_of(self.effective)

    @property
    def label_zh(self) -> str:
        """原计划 or 第n次调整."""
        return "原计划" if self.revision == 0 else f"第{self.revision}次调整"

    @property
    def recorded(self) -> bool:
        """Whether the revision is a ledger entry of its own (not taken from a commitment)."""
        return self.seq is not None


def quarter_of(day: dt.date) -> Quarter:
    return Quarter(day.year, (day.month - 1) // 3 + 1)


def revision_from_entry(entry: Entry) -> PlanRevision:
    """The revision an ``amendment:{n}`` entry records."""
    r = entry.record
    return PlanRevision(
        revision=int(r["revision"]), year=int(r["year"]), policy_sha256=r["policy_sha256"],
        policy_id=r.get("policy_id", ""), policy_path=r.get("policy_path", ""),
        effective=dt.date.fromisoformat(r["effective"]),
        date=dt.date.fromisoformat(r["date"]) if r.get("date") else None,
        reason=r.get("reason") or "", changes=tuple(r.get("changes") or ()),
        previous_sha256=r.get("previous_sha256"), seq=entry.seq, entry_hash=entry.entry_hash,
        issuer=r.get("issuer", ""))


def _year_of(entry: Entry) -> int | None:
    try:
        return Quarter.parse(entry.quarter).year
    except Exception:  # noqa: BLE001 - a malformed quarter is verify's finding, not ours
        return None


def _first_plan_use(all_entries: Sequence[Entry], year: int) -> Entry | None:
    """The year's first commitment or own draw that names its policy."""
    for e in all_entries:
        if (e.is_commitment or e.is_draw) and _year_of(e) == year:
            try:
                if e.record.get("inputs", {}).get("policy_sha256"):
                    return e
            except ValueError:
                continue
    return None


def plan_revisions(all_entries: Sequence[Entry], year: int) -> list[PlanRevision]:
    """The year's revisions in ledger order: the recorded ones (``amendment:{n}`` entries),
    preceded, when revision 0 was not recorded, by the policy of the year's first commitment
    or draw (undated). Empty when the ledger says nothing of the year's plan."""
    out = [revision_from_entry(e) for e in all_entries
           if e.is_amendment and _year_of(e) == year]
    if out and out[0].revision == 0:
        return out
    first = _first_plan_use(all_entries, year)
    if first is None:
        return out
    inputs = first.record["inputs"]
    pol = inputs.get("policy") or {}
    base = PlanRevision(
        revision=0, year=year, policy_sha256=inputs["policy_sha256"],
        policy_id=inputs.get("policy_id") or pol.get("id", ""), policy_path=pol.get("path", ""),
        effective=dt.date(year, 1, 1), date=None)
    return [base, *out]


def revision_in_force(all_entries: Sequence[Entry], quarter: str | Quarter
                      ) -> PlanRevision | None:
    """The revision a quarter is committed and drawn under: the latest revision of the
    quarter's year whose effective quarter is not after it (None when the ledger says nothing
    of the year's plan)."""
    q = Quarter.parse(quarter)
    found = None
    for r in plan_revisions(all_entries, q.year):
        if (r.effective_quarter.year, r.effective_quarter.q) <= (q.year, q.q):
            found = r
    return found


def fixed_quarters(all_entries: Sequence[Entry], year: int) -> list[tuple[str, Entry]]:
    """(quarter, entry) of the year's commitments and own draws, in ledger order: quarters
    fixed under the plan then in force."""
    return [(e.quarter, e) for e in all_entries
            if (e.is_commitment or e.is_draw) and _year_of(e) == year]


def amendment_conflict(all_entries: Sequence[Entry], effective: dt.date) -> Entry | None:
    """The first commitment or draw for the effective date's quarter or a later quarter of
    its year (an amendment effective then is refused), or None."""
    q = quarter_of(effective)
    for quarter, e in fixed_quarters(all_entries, effective.year):
        eq = Quarter.parse(quarter)
        if (eq.year, eq.q) >= (q.year, q.q):
            return e
    return None


def has_recorded_revisions(all_entries: Sequence[Entry], year: int) -> bool:
    return any(e.is_amendment and _year_of(e) == year for e in all_entries)


def commitment_plan_problem(all_entries: Sequence[Entry], quarter: str | Quarter,
                            policy_sha256: str, day: dt.date | None,
                            policy_label: str | None = None) -> str | None:
    """Why a commitment of ``quarter`` under the policy with ``policy_sha256`` (dated ``day``)
    may not be appended after ``all_entries``, or None. Checked only when the ledger records
    revisions of the quarter's year (``dsr plan publish`` / ``dsr plan amend``): the policy
    must be the revision in force for the quarter, and the commitment not dated before that
    revision's date."""
    q = Quarter.parse(quarter)
    if not has_recorded_revisions(all_entries, q.year):
        return None
    policy_label = policy_label or _("the policy")
    r = revision_in_force(all_entries, q)
    if r is None:
        return None
    plan = r.policy_path or r.policy_id
    where = (_("{revision} (ledger entry #{seq}, dated {date}, effective {effective}: {plan}, "
               "SHA-256 {sha})").format(revision=r.label_zh, seq=r.seq, date=r.date,
                                        effective=r.effective.isoformat(), plan=plan,
                                        sha=r.policy_sha256) if r.recorded else
             _("the plan of the year's first commitment ({plan}, SHA-256 {sha})").format(
                 plan=plan, sha=r.policy_sha256))
    if r.policy_sha256 != policy_sha256:
        later = [x for x in plan_revisions(all_entries, q.year)
                 if x.policy_sha256 == policy_sha256 and x.revision > r.revision]
        hint = (_("; {label} is {revision}, in force from {quarter}").format(
            label=policy_label, revision=later[0].label_zh,
            quarter=later[0].effective_quarter.label) if later else "")
        return _("{label} (SHA-256 {sha}) is not the plan in force for {quarter}: that is "
                 "{where}{hint}. Commit under the plan in force").format(
                     label=policy_label, sha=policy_sha256, quarter=q.label, where=where,
                     hint=hint)
    if r.recorded and r.date is not None and day is not None and day < r.date:
        return _("--date {day} precedes the date of {revision} ({date}), the plan {quarter} is "
                 "drawn under: date the commitment {date} or later").format(
                     day=day.isoformat(), revision=r.label_zh, date=r.date.isoformat(),
                     quarter=q.label)
    return None


def amendment_key(revision: int) -> str:
    return f"{AMENDMENT}{int(revision)}"
