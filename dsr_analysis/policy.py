"""Policy as data (R2-R6, R9): load a jurisdiction's rules from YAML into frozen dataclasses.

The loader is strict (:mod:`dsr_analysis.config`): an unknown, missing or duplicate key, a
value of the wrong type, NaN, an infinity or a number out of range, a condition whose
comparison or operand does not fit its register column, no unit, no quota rule, or credit
weights that are all 0 raise :class:`~dsr_analysis.errors.PolicyError` naming the file and
the key path (``quotas.rules[2].ratio``), one line per problem. Code never hard-codes a
number a regulation sets.
"""

from __future__ import annotations

import re

import dataclasses
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from .config import build, check_number, clip, read_regular, read_yaml, show
from .errors import PolicyError
from .i18n import _
from .paths import DEFAULT_POLICY, POLICIES_DIR
from .schema import ENUMS, FRAME_COLUMNS, SCHEMAS

Level = Literal["area", "county"]
Category = Literal["special", "key", "general"]
CREDIT_CLASSES = ("A", "B", "C", "D")
CATEGORIES = ("special", "key", "general")


def _f(doc: str, lo: float | None = None, hi: float | None = None, **kw: Any) -> Any:
    """Dataclass field with documentation and an allowed range."""
    return field(metadata={"doc": doc, "range": (lo, hi)}, **kw)


@dataclass(frozen=True)
class Unit:
    id: str = _f("identifier used in the registers (xiongan, xiongxian…)")
    name: str = _f("Chinese name (新区本级, 雄县…)")
    level: Level = _f("area = the upper (new-area / city) level, county = a county bureau")
    draws_from: Literal["all", "own"] = _f(
        "all = draws from every object in the jurisdiction; own = only its own objects")
    rule: str = _f("rule id")
    authority: str = _f("the bureau's official name as official documents give it "
                        "(河北雄安新区管理委员会生态环境局, 雄县生态环境局…); empty: derived", default="")


@dataclass(frozen=True)
class Condition:
    id: str = _f("condition identifier, written into category_reason")
    category: Category = _f("category this condition designates")
    field: str = _f("enterprise register column it tests")
    op: Literal["is_true", "is_false", "in", "ge", "le", "eq"] = _f("comparison")
    rule: str = _f("rule id")
    label: str = _f("Chinese description of the condition")
    value: Any = _f("operand: none for is_true/is_false, a number for ge/le, a value of the "
                    "column's type for eq, a non-empty list of them for in", default=None)


@dataclass(frozen=True)
class Categories:
    rule: str = _f("rule id")
    precedence: tuple[Category, ...] = _f(
        "order in which designations win when several conditions hold (R2 conflict rule)")
    default: Category = _f("category of an object no condition designates")
    conditions: tuple[Condition, ...] = _f("designating conditions")


@dataclass(frozen=True)
class QuotaRule:
    id: str = _f("rule identifier")
    level: Level = _f("level of the drawing units the rule applies to")
    category: Category = _f("category drawn")
    subset: Literal["all", "positive_list", "not_positive_list"] = _f(
        "objects of the category the rule covers")
    basis: Literal["share", "per_inspector"] = _f(
        "share = ratio x objects; per_inspector = ratio x active certified inspectors of the unit")
    ratio: float = _f("minimum ratio (share of objects, or objects per inspector)", 0.0, 1000.0)
    per: Literal["quarter", "year"] = _f("period the ratio refers to")
    method: Literal["random", "offsite_full"] = _f(
        "random draw, or full off-site coverage of every object")
    credit_weighted: bool = _f("share the quota across credit classes by the credit weights (R3)")
    rule: str = _f("rule id")


@dataclass(frozen=True)
class Quotas:
    rule: str = _f("rule id")
    period: Literal["quarter"] = _f("drawing period")
    rules: tuple[QuotaRule, ...] = _f("one entry per level x category x subset")


@dataclass(frozen=True)
class CreditRisk:
    rule: str = _f("rule id")
    weights: dict[str, float] = _f(
        "relative inclusion weight per credit class A-D (> 0: every object keeps a chance)",
        0.0, 100.0)
    min_share: float = _f("minimum share of draws that use the credit-risk classes", 0.0, 1.0)
    ratios: dict[str, float] | None = _f(
        "target sampling ratio per credit class A-D (optional; e.g. Hejian 2022: A 0.05, "
        "B 0.20, C 0.30, D 0.30); when set it replaces the weights as the inclusion weights "
        "and a stratum draws at least the sum of ratio x objects", 0.0, 1.0, default=None)
    ratios_per: Literal["quarter", "year"] = _f(
        "period the per-class ratios refer to (optional; default quarter)", default="quarter")


@dataclass(frozen=True)
class Joint:
    rule: str = _f("rule id")
    internal_min_share: float = _f("minimum share of internal joint inspections per year", 0.0, 1.0)
    inter_departmental_per_quarter: int = _f(
        "minimum inter-departmental joint inspections per quarter and level", 0, 1000)
    count_offsite: bool = _f(
        "off-site (desk) checks may be designated internal joint checks and count towards "
        "internal_min_share (optional; default false: an internal joint check is one on-site "
        "visit by several business lines, 进一次门、查多项事)", default=False)


@dataclass(frozen=True)
class Workload:
    rule: str = _f("rule id")
    min_objects_per_inspector_per_year: float = _f(
        "yearly draws must reach inspectors x this number", 0.0, 1000.0)


@dataclass(frozen=True)
class Draw:
    rule: str = _f("rule id")
    mode: Literal["untargeted", "targeted"] = _f("default draw mode (R6)")
    overlap: Literal["independent", "rotation", "yearly_cap"] = _f(
        "overlap control across quarters")
    yearly_cap: int = _f("at most this many inspections of one object a year (yearly_cap)", 1, 52)
    cap_exemptions: tuple[str, ...] = _f("task origins the yearly cap does not count")
    between_levels: Literal["avoid", "merge"] = _f(
        "object drawn by both the area level and its county in a quarter: avoid the second "
        "visit, or merge both into one joint visit")
    area_inspectors_across_units: bool = _f(
        "the area level may draw inspectors from every unit")
    overlap_scope: Literal["unit", "all_levels"] = _f(
        "whose earlier checks rotation and the yearly cap count: unit = each inspecting body "
        "its own (the default), all_levels = checks by any unit (optional)", default="unit")


@dataclass(frozen=True)
class Staffing:
    rule: str = _f("rule id")
    min_inspectors_per_task: int = _f("certified, active inspectors per task", 2, 20)
    require_business_line_match: bool = _f("at least one inspector of the item's business line")
    recusal_quarters: int = _f("no inspector who inspected the object in the last N quarters", 0, 40)
    recuse_own_unit: bool = _f("no inspector from the object's own unit")
    max_tasks_per_inspector_per_quarter: int = _f("cap of tasks per inspector", 1, 1000)
    max_offsite_tasks_per_inspector_per_quarter: int | None = _f(
        "separate cap for off-site (desk) tasks; when set, the cap above counts on-site tasks "
        "only (optional; default: one cap for all tasks)", 1, 10000, default=None)


@dataclass(frozen=True)
class Methods:
    rule: str = _f("rule id")
    offsite_first: bool = _f("objects with off-site capability get technology/other checks")
    onsite_triggers: tuple[str, ...] = _f("task origins that always get an on-site check")


@dataclass(frozen=True)
class Reporting:
    rule: str = _f("rule id")
    results_publication: Literal["monthly"] = _f("how often results are published")
    results_within_working_days: int = _f("results published within N working days", 1, 365)
    summary_working_days_before_quarter_end: int = _f(
        "quarterly summary due within the last N working days of the quarter", 0, 60)
    statistics_working_days_after_quarter_end: int = _f(
        "statistics table due within N working days after the quarter", 0, 60)


@dataclass(frozen=True)
class Evaluation:
    rule: str = _f("rule id")
    weights: dict[str, float] = _f(
        "points per indicator (quotas_met, internal_joint_share, inter_departmental, "
        "credit_share, results_on_time, reports_on_time, follow_up_closed)", 0.0, 1000.0)
    results_on_time_min_share: float = _f(
        "share of results that must be published within the working-day limit", 0.0, 1.0)
    follow_up_closed_min_share: float = _f(
        "share of follow-ups (hand-over, transfer, referral, penalty) closed by the "
        "evaluation date", 0.0, 1.0)
    as_of_working_days_after_quarter_end: int = _f(
        "the evaluation looks at a quarter as of N working days after it ends", 0, 120)


#: Days a follow-up case has to be closed in when no 整改期限 is set (policy section
#: ``follow_up.due_days`` overrides any of them): an order to correct 30 days; a matter handed
#: over (转办) 30, transferred (移交) 60 or referred to the judicial authorities 90 days; a
#: penalty case 90 days from 立案 (生态环境行政处罚办法: decided within 90 days of filing).
FOLLOW_UP_DUE_DAYS = {"rectification_order": 30, "hand_over": 30, "transfer": 60,
                      "judicial_referral": 90, "penalty": 90}


@dataclass(frozen=True)
class FollowUp:
    """How follow-up cases (后续处置台账, :mod:`dsr_analysis.followups`) are tracked
    (optional section ``follow_up``; every key optional)."""

    rule: str = _f("rule id", default="R7")
    due_days: dict[str, int] | None = _f(
        "days after a case is opened by which it is due when no 整改期限 is set, per "
        "follow-up type (rectification_order, hand_over, transfer, judicial_referral, "
        "penalty); a type left out keeps its default (30, 30, 60, 90, 90)", 1, 3650,
        default=None)

    def days(self, follow_up: str) -> int:
        """Days a case of type ``follow_up`` has from its opening (policy, else default)."""
        given = self.due_days or {}
        return int(given.get(follow_up, FOLLOW_UP_DUE_DAYS[follow_up]))


@dataclass(frozen=True)
class UnitDocuments:
    """A unit's official-document settings (GB/T 9704-2012): every key optional; what a
    bureau has not configured is left blank on the page for the office to fill in by hand,
    never invented."""

    masthead: str = _f("发文机关标志, e.g. 雄县生态环境局文件 (default: the authority + 文件)",
                       default="")
    number_prefix: str = _f("发文字号 prefix, e.g. 雄环 (numbers 雄环〔2023〕12号)", default="")
    signer: str = _f("签发人 of upward documents (the summary report); empty: a blank to sign",
                     default="")
    copy_to: tuple[str, ...] = _f("抄送机关 printed in the 版记", default=())
    printed_by: str = _f("印发机关 in the 版记 (default: the authority's office)", default="")
    contact: str = _f("contact line (联系人、联系电话), printed as given in public notices and "
                      "as the 附注 of upward reports", default="")
    objection: str = _f("objection/supervision line of public notices (异议、监督电话), printed "
                        "as given", default="")


@dataclass(frozen=True)
class StatisticsForm:
    """The marks of the quarterly statistics table as a statistical form (统计报表制度): shown
    at the upper right; empty values are printed as blanks, never invented."""

    table_number: str = _f("表号, e.g. 雄环统1表", default="")
    authority: str = _f("制表机关 (default: the area level's authority)", default="")
    approval_authority: str = _f("批准（备案）机关", default="")
    approval_number: str = _f("批准（备案）文号", default="")
    valid_until: str = _f("有效期限, e.g. 2025年12月", default="")


@dataclass(frozen=True)
class Documents:
    """Official documents (optional section ``documents``): per unit the GB/T 9704 settings
    and the statistics form's marks."""

    units: dict[str, UnitDocuments] | None = _f("per unit id: its document settings",
                                                default=None)
    statistics_form: StatisticsForm | None = _f("the statistics table's form marks",
                                                default=None)

    def unit(self, unit_id: str) -> UnitDocuments:
        """A unit's settings (defaults when the unit has none)."""
        return (self.units or {}).get(unit_id) or UnitDocuments()


@dataclass(frozen=True)
class PlannerInputs:
    """What a draft saved by the planner assumed beyond its rules (optional section
    ``planner``): the inspectors it planned with and the cost of a check. Read by the
    planner only; draws and reports ignore it."""

    based_on: str = _f("id of the plan the draft started from")
    inspectors: dict[str, int] = _f(
        "inspectors available for double-random checks, per unit id", 0, 100000)
    days_per_inspector_per_quarter: float = _f(
        "inspector-days each available inspector gives to random checks per quarter", 0.0, 92.0)
    onsite_inspector_days: float = _f("inspector-days per on-site check", 0.0, 100.0)
    offsite_inspector_days: float = _f("inspector-days per off-site check", 0.0, 100.0)
    joint_extra_inspector_days: float = _f(
        "inspector-days an internal joint check adds (a second business line)", 0.0, 100.0)


@dataclass(frozen=True)
class Rollover:
    """How next year's register flags are derived from this year's results and tasks
    (optional section ``rollover``; :mod:`dsr_analysis.rollover`). Every key has a default,
    so a plan without the section rolls over as documented there."""

    rule: str = _f("rule id", default="R2")
    penalty_year_by: Literal["date_checked", "date_follow_up_closed"] = _f(
        "which date puts a penalty case (立案处罚) in a year: date_checked = the check that "
        "opened the case (default: every case counted in the year it was opened, also when "
        "it is still open at the year's end), date_follow_up_closed = the case closed "
        "(结案) in the year", default="date_checked")
    supervision_order_column: bool = _f(
        "a result whose optional column supervision_order (挂牌督办) is true marks the firm "
        "as under supervision order (default true)", default=True)
    supervision_order_follow_ups: tuple[str, ...] = _f(
        "follow-up types (e.g. judicial_referral) that also count as a supervision order "
        "(default: none)", default=())
    complaint_origins: tuple[str, ...] = _f(
        "task origins counted as complaints and reports (投诉举报) of the year (default: "
        "complaint)", default=("complaint",))
    complaints_confirmed_only: bool = _f(
        "count only complaint tasks whose check found a problem or an offence (有效投诉举报; "
        "default false: every complaint task of the year)", default=False)


#: Seed of the synthetic national unit table (:func:`dsr_analysis.sample.national_units`).
NATIONAL_UNITS_SEED = 20220101


@dataclass(frozen=True)
class HierarchyLevel:
    level: str = _f("name of the level as the unit table writes it (province, city, county…)")
    draws_from: Literal["all", "own", "none"] = _f(
        "all = a unit of this level draws from every object under it (the upper drawing "
        "level: quota rules of level area); own = only the objects registered to the unit "
        "itself (quota rules of level county); none = the level plans and compares, it "
        "does not draw")


@dataclass(frozen=True)
class Hierarchy:
    rule: str = _f("rule id")
    source: str = _f(
        "the unit table: 'synthetic' (the synthetic national units of "
        "dsr_analysis.sample.national_units) or a CSV file, relative to the policy file, with "
        "columns id, name, level, parent (blank for the top level) and optional authority")
    levels: tuple[HierarchyLevel, ...] = _f("the levels, top level first")
    within: str = _f("only the units under this unit id (one province, one city); empty: "
                     "every unit of the table (optional)", default="")
    seed: int = _f("seed of the synthetic unit table (optional)", 0, 2**63 - 1,
                   default=NATIONAL_UNITS_SEED)


@dataclass(frozen=True)
class Policy:
    """A jurisdiction's double-random rules for one year, loaded from YAML."""

    id: str = _f("policy identifier")
    name: str = _f("title of the plan (Chinese)")
    year: int = _f("year the plan covers", 2000, 2100)
    units: tuple[Unit, ...] = _f("drawing units")
    categories: Categories = _f("category conditions (R2)")
    quotas: Quotas = _f("quarterly minimum frequencies (R4)")
    credit_risk: CreditRisk = _f("credit-risk classes (R3)")
    joint: Joint = _f("joint inspections (R5)")
    draw: Draw = _f("draw mode and overlap control (R4, R6)")
    staffing: Staffing = _f("inspector teams and recusal (R1)")
    methods: Methods = _f("inspection methods (R6)")
    reporting: Reporting = _f("reporting calendar (R8, R9)")
    workload: Workload | None = _f("inspector workload rule (optional)", default=None)
    evaluation: Evaluation | None = _f(
        "evaluation of the counties (R10): indicator weights and targets (optional)", default=None)
    hierarchy: Hierarchy | None = _f(
        "units named by a hierarchy (province → city → county) instead of listed under "
        "units; dsr_analysis.hierarchy expands it into jurisdictions (optional)", default=None)
    planner: PlannerInputs | None = _f(
        "the planner's inputs saved with a draft: inspectors and the cost of a check "
        "(optional)", default=None)
    rollover: Rollover | None = _f(
        "how next year's register flags are derived from this year's results and tasks "
        "(optional; default: Rollover())", default=None)
    follow_up: FollowUp | None = _f(
        "follow-up cases: days a case has when no 整改期限 is set (optional; defaults "
        "FOLLOW_UP_DUE_DAYS)", default=None)
    documents: Documents | None = _f(
        "official documents: per unit 发文机关标志, 发文字号, 签发人, 抄送, 印发机关, contact "
        "lines; the statistics form's marks (optional)", default=None)
    path: str = field(default="", metadata={"doc": "file it was loaded from", "internal": True})
    sha256: str = field(default="", metadata={"doc": "SHA-256 of the file's bytes", "internal": True})

    @property
    def document_rules(self) -> Documents:
        """The ``documents`` section, or its defaults when the policy has none."""
        return self.documents if self.documents is not None else Documents()

    @property
    def follow_up_rules(self) -> FollowUp:
        """The ``follow_up`` section, or its defaults when the policy has none."""
        return self.follow_up if self.follow_up is not None else FollowUp()

    @property
    def unit_names(self) -> dict[str, str]:
        """Unit id -> Chinese name."""
        return {u.id: u.name for u in self.units}

    def unit(self, unit_id: str) -> Unit:
        for u in self.units:
            if u.id == unit_id:
                return u
        raise PolicyError(_("{file}: unknown unit '{unit}'").format(file=self.path, unit=unit_id))

    def authority(self, unit_id: str | None = None) -> str:
        """The official name of a unit's bureau (default: the area level's, which runs the
        draw): the unit's ``authority``; else, for the area level, the plan's title up to
        生态环境局; else the unit's name followed by 生态环境局."""
        if unit_id is None:
            area = [u for u in self.units if u.level == "area"] or list(self.units)
            unit_id = area[0].id
        u = self.unit(unit_id)
        if u.authority:
            return u.authority
        if u.level == "area":
            m = re.match(r"^(.*?生态环境局)", self.name or "")
            if m:
                return m.group(1)
        return f"{u.name}生态环境局"


#: Comparisons a condition may make, per kind of enterprise register column
#: (:data:`~dsr_analysis.schema.SCHEMAS`): ``is_true``/``is_false`` on true/false columns,
#: ``ge``/``le`` on number columns, ``eq``/``in`` on every column.
CONDITION_OPS: dict[str, tuple[str, ...]] = {
    "bool": ("is_true", "is_false", "eq", "in"),
    "int": ("ge", "le", "eq", "in"),
    "text": ("eq", "in"),
}


def _column_kind(column: str) -> tuple[str, str, tuple[str, ...] | None]:
    """(kind for :data:`CONDITION_OPS`, description, allowed values or None) of a column."""
    kind = SCHEMAS["enterprises"][column][0]
    if kind == "bool":
        return "bool", _("true/false"), None
    if kind == "int":
        return "int", _("whole number"), None
    if kind.startswith("enum:"):
        return "text", _("text"), tuple(ENUMS[kind.removeprefix("enum:")])
    return "text", _("text"), None


def _condition_value_problem(kind: str, allowed: tuple[str, ...] | None, op: str, value: Any,
                             where: str, column: str, file: str) -> str | None:
    """What is wrong with one operand ``value`` of ``op`` on ``column`` (None if nothing)."""
    if kind == "bool" and not isinstance(value, bool):
        return _("{file}: key '{key}': '{op}' on column '{column}' (true/false) needs true or "
                 "false, got {value}").format(file=file, key=where, op=op, column=column,
                                              value=show(value))
    if kind == "int":
        whole = op in ("eq", "in")  # a count equals whole numbers only
        try:
            check_number(value, file, where, whole=whole)
        except PolicyError:
            message = (_("{file}: key '{key}': '{op}' on column '{column}' (whole number) needs "
                         "a whole number, got {value}") if whole else
                       _("{file}: key '{key}': '{op}' on column '{column}' (whole number) needs "
                         "a finite number, got {value}"))
            return message.format(file=file, key=where, op=op, column=column, value=show(value))
    if kind == "text":
        if not isinstance(value, str):
            return _("{file}: key '{key}': '{op}' on column '{column}' (text) needs text, got "
                     "{value}").format(file=file, key=where, op=op, column=column,
                                       value=show(value))
        if allowed is not None and value not in allowed:
            return _("{file}: key '{key}': {value} is not a value of column '{column}' "
                     "(allowed: {allowed})").format(file=file, key=where, value=show(value),
                                                    column=column, allowed=", ".join(allowed))
    return None


def _condition_problems(cond: Condition, key: str, file: str, unit_ids: tuple[str, ...]) -> list[str]:
    """Problems of one category condition: its column, comparison and operand must fit the
    enterprise register (``is_true`` on a text column would designate nobody, silently)."""
    if cond.field not in FRAME_COLUMNS:
        return [_("{file}: key '{key}.field': unknown enterprise column {column} (allowed: "
                  "{allowed})").format(file=file, key=key, column=show(cond.field),
                                       allowed=", ".join(FRAME_COLUMNS))]
    kind, description, allowed = _column_kind(cond.field)
    if SCHEMAS["enterprises"][cond.field][0] == "unit":
        allowed = unit_ids
    if cond.op not in CONDITION_OPS[kind]:
        return [_("{file}: key '{key}.op': '{op}' does not apply to column '{column}' "
                  "({kind}); use one of {allowed}").format(
                      file=file, key=key, op=cond.op, column=cond.field, kind=description,
                      allowed=", ".join(CONDITION_OPS[kind]))]
    if cond.op in ("is_true", "is_false"):
        if cond.value is not None:
            return [_("{file}: key '{key}.value': '{op}' takes no value, got {value}").format(
                file=file, key=key, op=cond.op, value=show(cond.value))]
        return []
    if cond.value is None:
        return [_("{file}: key '{key}.value': '{op}' needs a value").format(
            file=file, key=key, op=cond.op)]
    if cond.op == "in":
        if not isinstance(cond.value, tuple) or not cond.value:
            return [_("{file}: key '{key}.value': 'in' needs a non-empty list, got "
                      "{value}").format(file=file, key=key, value=show(cond.value))]
        values = [(f"{key}.value[{i}]", v) for i, v in enumerate(cond.value)]
    else:
        values = [(f"{key}.value", cond.value)]
    problems = [_condition_value_problem(kind, allowed, cond.op, v, where, cond.field, file)
                for where, v in values]
    return [p for p in problems if p is not None]


def _hierarchy_problems(policy: Policy, file: str) -> list[str]:
    """Problems of the optional ``hierarchy`` section (the unit table itself is checked
    when :mod:`dsr_analysis.hierarchy` reads it)."""
    h = policy.hierarchy
    if h is None:
        return []
    problems = []
    if policy.units:
        problems.append(_("{file}: key 'units': give the units either as a list or by a "
                          "hierarchy, not both (leave units: [] with a hierarchy)").format(
                              file=file))
    names = [lv.level for lv in h.levels]
    if not names:
        problems.append(_("{file}: key 'hierarchy.levels': at least one level is needed").format(
            file=file))
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        problems.append(_("{file}: key 'hierarchy.levels': level {level} is listed "
                          "twice").format(file=file, level=show(twice[0])))
    drawing_all = [lv.level for lv in h.levels if lv.draws_from == "all"]
    if len(drawing_all) > 1:
        problems.append(_("{file}: key 'hierarchy.levels': at most one level may draw from "
                          "all objects under its units (draws_from: all): {levels}").format(
                              file=file, levels=clip(", ".join(drawing_all))))
    if names and not any(lv.draws_from == "own" for lv in h.levels):
        problems.append(_("{file}: key 'hierarchy.levels': no level draws from its own "
                          "objects (draws_from: own): nobody would draw the counties' "
                          "objects").format(file=file))
    if not h.source.strip():
        problems.append(_("{file}: key 'hierarchy.source': empty (use 'synthetic' or a CSV "
                          "file of units)").format(file=file))
    return problems


def _check(policy: Policy, file: str) -> None:
    """Cross-field checks the types cannot express; raises one PolicyError listing every
    problem found, one line each."""
    problems: list[str] = []
    ids = [u.id for u in policy.units]
    if not ids and policy.hierarchy is None:
        problems.append(_("{file}: key 'units': at least one drawing unit is needed").format(
            file=file))
    problems += _hierarchy_problems(policy, file)
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        problems.append(_("{file}: key 'units': duplicate unit id {unit}").format(
            file=file, unit=show(twice[0])))
    if sorted(policy.categories.precedence) != sorted(CATEGORIES):
        problems.append(_("{file}: key 'categories.precedence': must list special, key and "
                          "general once each").format(file=file))
    if policy.rollover is not None:
        follow_ups = [k for k in ENUMS["follow_up"] if k != "none"]
        for i, f in enumerate(policy.rollover.supervision_order_follow_ups):
            if f not in follow_ups:
                problems.append(_("{file}: key 'rollover.supervision_order_follow_ups[{i}]': "
                                  "unknown follow-up {value} (allowed: {allowed})").format(
                                      file=file, i=i, value=show(f),
                                      allowed=", ".join(follow_ups)))
    if policy.evaluation is not None:
        allowed = ("quotas_met", "internal_joint_share", "inter_departmental", "credit_share",
                   "results_on_time", "reports_on_time", "follow_up_closed")
        unknown = sorted(set(policy.evaluation.weights) - set(allowed))
        if unknown:
            problems.append(_("{file}: key 'evaluation.weights.{name}': unknown indicator "
                              "(allowed: {allowed})").format(file=file, name=clip(unknown[0]),
                                                             allowed=", ".join(allowed)))
        if not any(w > 0 for w in policy.evaluation.weights.values()):
            problems.append(_("{file}: key 'evaluation.weights': every weight is 0 (no "
                              "indicator would count; give at least one a weight above "
                              "0)").format(file=file))
    if policy.follow_up is not None and policy.follow_up.due_days:
        unknown = sorted(set(policy.follow_up.due_days) - set(FOLLOW_UP_DUE_DAYS))
        if unknown:
            problems.append(_("{file}: key 'follow_up.due_days.{name}': unknown follow-up "
                              "type (allowed: {allowed})").format(
                                  file=file, name=clip(unknown[0]),
                                  allowed=", ".join(FOLLOW_UP_DUE_DAYS)))
    for name in ("weights", "ratios"):
        values = getattr(policy.credit_risk, name)
        if values is None:
            continue
        if set(values) != set(CREDIT_CLASSES):
            problems.append(_("{file}: key 'credit_risk.{name}': must give a value for each "
                              "of A, B, C, D").format(file=file, name=name))
            continue
        if not any(values[c] > 0 for c in CREDIT_CLASSES):
            problems.append(_("{file}: key 'credit_risk.{name}': every class is 0 (nothing "
                              "could ever be drawn)").format(file=file, name=name))
            continue
        for c in CREDIT_CLASSES:
            if not values[c] > 0:  # also rejects NaN
                problems.append(
                    _("{file}: key 'credit_risk.{name}.{credit_class}': {value} must be above 0 "
                      "(a class with no weight could never be drawn)").format(
                          file=file, name=name, credit_class=c, value=show(values[c])))
    drawing_all = [u.id for u in policy.units if u.draws_from == "all"]
    if len(drawing_all) > 1:
        problems.append(_("{file}: key 'units': at most one unit may draw from all objects "
                          "(draws_from: all): {units}").format(
                              file=file, units=clip(", ".join(drawing_all))))
    for i, cond in enumerate(policy.categories.conditions):
        problems += _condition_problems(cond, f"categories.conditions[{i}]", file, tuple(ids))
    if not policy.quotas.rules:
        problems.append(_("{file}: key 'quotas.rules': at least one quota rule is needed "
                          "(without one nothing is ever drawn)").format(file=file))
    seen = set()
    for i, r in enumerate(policy.quotas.rules):
        key = f"quotas.rules[{i}]"
        if r.basis == "share" and r.ratio > 1:
            problems.append(_("{file}: key '{key}.ratio': a share must be within [0, 1]").format(
                file=file, key=key))
        sig = (r.level, r.category, r.subset)
        overlapping = {(r.level, r.category, "all")} if r.subset != "all" else {
            (r.level, r.category, s) for s in ("positive_list", "not_positive_list")}
        if sig in seen or overlapping & seen:
            problems.append(_("{file}: key '{key}': overlaps another rule for "
                              "{level}/{category}/{subset}").format(
                                  file=file, key=key, level=r.level, category=r.category,
                                  subset=r.subset))
        seen.add(sig)
    if problems:
        raise PolicyError("\n".join(problems))


def check_policy(policy: Policy, file: str) -> None:
    """The loader's cross-field checks of a policy built in code (e.g. a jurisdiction of a
    hierarchy, :mod:`dsr_analysis.hierarchy`); :class:`PolicyError` listing every problem."""
    _check(policy, file)


def load_policy(path: str | Path | None = None) -> Policy:
    """Load and check a policy file (default: the Xiong'an 2023 plan).

    A bare name (``chizhou-2019``) is looked up in ``parameters/policies/``.
    """
    if path is None:
        path = DEFAULT_POLICY
    path = Path(path)
    if not path.exists() and not path.suffix and (POLICIES_DIR / f"{path}.yaml").exists():
        path = POLICIES_DIR / f"{path}.yaml"
    file = str(path)
    raw_bytes = read_regular(path, _("policy file"), PolicyError)
    data = read_yaml(raw_bytes, file, PolicyError)
    policy = build(Policy, data, file, "")
    _check(policy, file)
    return dataclasses.replace(policy, path=file, sha256=hashlib.sha256(raw_bytes).hexdigest())


def policy_to_dict(policy: Policy) -> dict[str, Any]:
    """Plain mapping of a policy (the YAML form), without the internal fields."""

    def conv(obj: Any) -> Any:
        if dataclasses.is_dataclass(obj):
            return {f.name: conv(getattr(obj, f.name)) for f in dataclasses.fields(obj)
                    if not f.metadata.get("internal")
                    and not (f.default is None and getattr(obj, f.name) is None)}
        if isinstance(obj, tuple):
            return [conv(v) for v in obj]
        if isinstance(obj, dict):
            return {k: conv(v) for k, v in obj.items()}
        return obj

    return conv(policy)


class _PolicyDumper(yaml.SafeDumper):
    """Writes a policy as the hand-written files look: one line per rule or condition."""


def _is_leaf(value: Any) -> bool:
    if isinstance(value, list):
        return all(not isinstance(v, (dict, list)) for v in value)
    return not isinstance(value, dict)


def _represent_dict(dumper: yaml.SafeDumper, data: dict) -> yaml.Node:
    flow = all(_is_leaf(v) for v in data.values()) and len(data) > 1
    return dumper.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=flow)


def _represent_list(dumper: yaml.SafeDumper, data: list) -> yaml.Node:
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data,
                                     flow_style=all(_is_leaf(v) for v in data))


_PolicyDumper.add_representer(dict, _represent_dict)
_PolicyDumper.add_representer(list, _represent_list)


def dump_policy(policy: Policy, header: str = "") -> str:
    """The one YAML form of a policy (what every writer of a policy file writes): ``header``
    as ``#`` comment lines, then :func:`policy_to_dict` one line per rule or condition, as the
    hand-written files look. :func:`load_policy` reads it back equal to ``policy`` (but for
    ``path`` and ``sha256``)."""
    comments = "".join(f"# {line}\n" for line in header.splitlines())
    return comments + yaml.dump(policy_to_dict(policy), Dumper=_PolicyDumper, allow_unicode=True,
                                sort_keys=False, width=1000, default_flow_style=False)


def list_policies() -> list[Path]:
    """Policy files shipped in ``parameters/policies/``."""
    return sorted(POLICIES_DIR.glob("*.yaml"))


_build = build  # transitional name for modules not yet moved to dsr_analysis.config.build
