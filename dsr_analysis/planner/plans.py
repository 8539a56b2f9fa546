"""Plans: the policy files a plan starts from, the tuned plan, the register it is counted on
(one prepared cache) and saving a draft.

* :func:`build_policy` — the tuned plan as a :class:`~dsr_analysis.policy.Policy`
  (``dataclasses.replace`` on the plan it starts from), with the inspectors and the cost of a
  check it assumed (the policy's optional ``planner`` section);
* :func:`map_onto_units` — another jurisdiction's rules on the register's units;
* :func:`prepare_register` — the register read, classified and grouped once per register and
  plan units (a slider move never re-reads it);
* :func:`save_policy` — a draft written through :func:`dsr_analysis.policy.dump_policy` into
  the planner's workspace (:func:`plans_directory`: ``$DSR_WORKSPACE/plans``, default
  ``~/dsr-workspace/plans``), outside the code checkout: ``parameters/policies/`` holds the
  shipped plans and is never written.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..categories import classify
from ..draw.ledger import DEFAULT_LEDGER, drawn_under
from ..errors import ParameterError, PolicyError
from ..i18n import _
from ..paths import POLICIES_DIR, WORKSPACE_ENV, workspace_dir
from ..policy import CREDIT_CLASSES, PlannerInputs, Policy, dump_policy, list_policies, load_policy
from ..registers import Registers, load_registers
from ..simulation.analytic import group_objects
from ..simulation.coverage import inspectors_by_unit
from .labels import LEVEL_ZH, place_of, plan_label, rule_label
from .settings import (ASSUMPTIONS, OVERLAP_MODES, PlannerSettings, as_number, check_assumptions,
                       default_assumptions, planner_settings)

def plans_directory() -> Path:
    """Where the planner saves drafts: ``$DSR_WORKSPACE/plans``, or ``~/dsr-workspace/plans``
    (outside the code checkout; ``parameters/policies/`` keeps the shipped plans only)."""
    return workspace_dir() / "plans"


class PlanExistsError(ParameterError):
    """A plan would overwrite an existing policy file it may not (or without being told to)."""


_POLICY_CACHE: dict[tuple, Policy] = {}


_PREPARED_CACHE: dict[tuple, PreparedRegister] = {}


_REGISTER_CACHE: dict[tuple, Registers] = {}


def base_policy_names() -> list[str]:
    """Names of the policy files a plan can start from (``parameters/policies/*.yaml``)."""
    return [p.stem for p in list_policies()]


def plan_files(directory: str | Path) -> list[Path]:
    """The policy files of ``directory`` (sorted; none when it does not exist)."""
    directory = Path(directory)
    return sorted(directory.glob("*.yaml")) if directory.is_dir() else []


def resolve_policy(base_policy: str | Path | Policy) -> Policy:
    """A Policy from a name in ``parameters/policies/``, a path, or a Policy (cached by the
    file's path, size and modification time)."""
    if isinstance(base_policy, Policy):
        return base_policy
    path = Path(base_policy)
    if not path.exists() and not path.suffix and (POLICIES_DIR / f"{path}.yaml").exists():
        path = POLICIES_DIR / f"{path}.yaml"
    try:
        stat = path.stat()
    except OSError:
        return load_policy(path)  # raises PolicyError naming the file
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    if key not in _POLICY_CACHE:
        _POLICY_CACHE[key] = load_policy(path)
    return _POLICY_CACHE[key]


def map_onto_units(plan: Policy, jurisdiction: Policy) -> Policy:
    """The rules of ``plan`` on the units of ``jurisdiction`` (the register's units).

    A plan written for other units (Chizhou's, Guangzhou's) keeps its rules - quotas per level
    and category, credit weights, overlap control, joint checks, staffing - and takes the
    jurisdiction's units: each rule applies to the jurisdiction's units of its level (the
    area level's rules to 新区本级, the county rules to each county) and who draws from whom
    is the jurisdiction's (新区本级 draws from every object). Its title becomes the
    jurisdiction's; ``planner.based_on`` keeps where it came from once saved.

    Raises :class:`~dsr_analysis.errors.ParameterError`, in Chinese, when it cannot be done:
    a rule for a level the jurisdiction has no unit of, or a category condition that names
    the plan's own units.
    """
    if [u.id for u in plan.units] == [u.id for u in jurisdiction.units]:
        return plan
    problems = []
    levels = {u.level for u in jurisdiction.units}
    for r in plan.quotas.rules:
        if r.level not in levels:
            problems.append(f"规则“{rule_label(plan, r)}”针对{LEVEL_ZH[r.level]}单位，"
                            f"而本登记册的单位（{'、'.join(jurisdiction.unit_names.values())}）"
                            f"中没有{LEVEL_ZH[r.level]}单位")
    for c in plan.categories.conditions:
        if c.field == "unit":
            problems.append(f"分类条件“{c.label}”按所属单位划分，而所列单位不在本登记册中")
    if problems:
        raise ParameterError(f"方案“{plan_label(plan)}”的抽查规则不能用于本登记册：" + "；".join(problems))
    authority = jurisdiction.authority()
    name = f"{authority}{plan.year}年“双随机、一公开”抽查计划（参照{place_of(plan)}规则）"
    return dataclasses.replace(plan, units=jurisdiction.units, name=name, path="", sha256="")


@dataclass(frozen=True)
class PreparedRegister:
    registers: Registers
    classified: pd.DataFrame
    groups: pd.DataFrame          # unit, category, positive_list, credit_class, offsite_capable, n


def _registers_key(registers: Registers | str | Path | None) -> tuple:
    if registers is None or registers == "":
        return ("sample",)
    if isinstance(registers, Registers):
        return ("object", id(registers))
    return ("dir", str(Path(registers).resolve()))


def prepare_register(registers: Registers | str | Path | None, policy: Policy) -> PreparedRegister:
    """Registers, classification and strata counts, cached: a slider change never
    re-reads or re-classifies the register."""
    units = tuple(sorted(policy.unit_names.items()))
    key = (_registers_key(registers), units, policy.categories)
    hit = _PREPARED_CACHE.get(key)
    if hit is not None:
        return hit
    if isinstance(registers, Registers):
        reg = registers
    else:
        rkey = (_registers_key(registers), units)
        if rkey not in _REGISTER_CACHE:
            _REGISTER_CACHE[rkey] = load_registers(registers or None, units=policy.unit_names)
        reg = _REGISTER_CACHE[rkey]
    classified = classify(reg.enterprises, policy)
    groups = group_objects(classified)
    prepared = PreparedRegister(reg, classified, groups)
    # A Registers object passed in stays referenced by the cache, so its id is not reused.
    _PREPARED_CACHE[key] = prepared
    return prepared


def default_inspectors(policy: Policy, registers: Registers | str | Path | None,
                       settings: PlannerSettings | None = None) -> dict[str, int]:
    """Active, certified inspectors of each unit (x ``budget.inspector_scale``), as the
    simulation engine counts them: the planner's starting value for "inspectors available"."""
    settings = settings or planner_settings()
    reg = prepare_register(registers, policy).registers
    return inspectors_by_unit(reg.inspectors, policy, settings.budget.inspector_scale)


def random_rules(policy: Policy) -> list:
    """Quota rules whose ratio a planner can tune (random draws; full off-site coverage of
    the positive list has no ratio)."""
    return [r for r in policy.quotas.rules if r.method == "random"]


def build_policy(
    base_policy: str | Path | Policy,
    ratios: Mapping[str, float],
    credit_weights: Mapping[str, float],
    overlap: str,
    yearly_cap: int,
    internal_joint_share: float,
    *,
    year: int | None = None,
    inspectors_available: Mapping[str, int] | None = None,
    assumptions: Mapping[str, float] | None = None,
) -> Policy:
    """The tuned plan: the base policy with the planner's values (``dataclasses.replace``).

    Parameters
    ----------
    base_policy : name, path or Policy
        The plan it starts from (a file in ``parameters/policies/``).
    ratios : mapping
        Quota rule id -> ratio (share of objects per quarter, or objects per inspector for a
        staff-ratio rule). Rules not named keep the base ratio.
    credit_weights : mapping
        Credit class A-D -> relative sampling weight (R3).
    overlap : {'independent', 'rotation', 'yearly_cap'}
        Overlap control across quarters.
    yearly_cap : int
        At most this many random draws of one object a year (used with ``yearly_cap``).
    internal_joint_share : float
        Planned share of internal joint inspections (R5), written as the plan's minimum.
    year : int, optional
        Year of the new plan; the (first) year in the plan's title changes with it.
    inspectors_available, assumptions : mapping, optional
        Inspectors per unit and the cost of a check (:data:`ASSUMPTIONS`) the plan was made
        with; given, they become the plan's ``planner`` section (:class:`PlannerInputs`),
        saved with it. ``assumptions`` defaults to ``parameters/planner.yaml``'s.
    """
    base = resolve_policy(base_policy)
    where = f"plan based on {base.id}"
    new_rules = _tuned_rules(base, ratios, where)
    weights = _checked_weights(credit_weights, where)
    if overlap not in OVERLAP_MODES:
        raise ParameterError(_("{where}: overlap: {value!r} is not one of {modes}").format(
            where=where, value=overlap, modes=", ".join(OVERLAP_MODES)))
    if isinstance(yearly_cap, bool) or not isinstance(yearly_cap, (int, np.integer)) \
            or not 1 <= yearly_cap <= 52:
        raise ParameterError(_("{where}: yearly_cap: {value!r} is not a whole number in [1, 52]"
                               ).format(where=where, value=yearly_cap))
    share = as_number(internal_joint_share, f"{where}: internal_joint_share")
    if not 0.0 <= share <= 1.0:
        raise ParameterError(_("{where}: internal_joint_share: {value!r} is out of range [0, 1]"
                               ).format(where=where, value=share))
    changes: dict[str, Any] = dict(
        quotas=dataclasses.replace(base.quotas, rules=tuple(new_rules)),
        credit_risk=dataclasses.replace(base.credit_risk, weights=weights),
        draw=dataclasses.replace(base.draw, overlap=overlap, yearly_cap=int(yearly_cap)),
        joint=dataclasses.replace(base.joint, internal_min_share=share),
        path="", sha256="",
    )
    if year is not None:
        if isinstance(year, bool) or not isinstance(year, (int, np.integer)) \
                or not 2000 <= year <= 2100:
            raise ParameterError(_("{where}: year: {value!r} is not a year in [2000, 2100]").format(
                where=where, value=year))
        changes["year"] = int(year)
        changes["name"] = base.name.replace(str(base.year), str(year), 1)
    if inspectors_available is not None:
        check_inspectors(base, inspectors_available)
        a = check_assumptions(assumptions if assumptions is not None else default_assumptions())
        changes["planner"] = PlannerInputs(
            based_on=base.planner.based_on if base.planner is not None else base.id,
            inspectors={u.id: int(inspectors_available[u.id]) for u in base.units}, **a)
    elif assumptions is not None:
        raise ParameterError(_("{where}: assumptions are saved with the inspectors: give "
                               "inspectors_available too").format(where=where))
    return dataclasses.replace(base, **changes)


def _tuned_rules(base: Policy, ratios: Mapping[str, float], where: str) -> list:
    """The base plan's quota rules with the ratios given (checked)."""
    rules = {r.id: r for r in base.quotas.rules}
    tunable = [r.id for r in random_rules(base)]
    for name in ratios:
        if name not in rules:
            raise ParameterError(_("{where}: ratios: unknown quota rule '{rule}' (rules of "
                                   "{policy}: {rules})").format(where=where, rule=name,
                                                               policy=base.id,
                                                               rules=", ".join(tunable)))
        if rules[name].method != "random":
            raise ParameterError(_("{where}: ratios: rule '{rule}' is full off-site coverage "
                                   "and has no ratio to tune").format(where=where, rule=name))
    new_rules = []
    for r in base.quotas.rules:
        if r.id in ratios:
            value = as_number(ratios[r.id], f"{where}: ratios['{r.id}']")
            hi = 1.0 if r.basis == "share" else 1000.0
            if not 0.0 <= value <= hi:
                raise ParameterError(_("{where}: ratios['{rule}']: {value!r} is out of range "
                                       "[0, {hi:g}]").format(where=where, rule=r.id, value=value,
                                                             hi=hi))
            r = dataclasses.replace(r, ratio=value)
        new_rules.append(r)
    return new_rules


def _checked_weights(credit_weights: Mapping[str, float], where: str) -> dict[str, float]:
    """The credit classes' sampling weights (one per class A-D, each in [0, 100])."""
    if set(credit_weights) != set(CREDIT_CLASSES):
        raise ParameterError(_("{where}: credit_weights: give a weight for each of A, B, C, D "
                               "(got {got})").format(
            where=where, got=", ".join(map(str, credit_weights)) or _("none")))
    weights = {}
    for c in CREDIT_CLASSES:
        w = as_number(credit_weights[c], f"{where}: credit_weights['{c}']")
        if not 0.0 <= w <= 100.0:
            raise ParameterError(_("{where}: credit_weights['{cls}']: {value!r} is out of range "
                                   "[0, 100]").format(where=where, cls=c, value=w))
        weights[c] = w
    return weights


def check_inspectors(plan: Policy, inspectors_available: Mapping[str, int]) -> None:
    missing = [u.id for u in plan.units if u.id not in inspectors_available]
    unknown = [k for k in inspectors_available if k not in plan.unit_names]
    if missing or unknown:
        parts = ([_("missing unit(s) {units}").format(units=", ".join(missing))] if missing
                 else []) + ([_("unknown unit(s) {units}").format(units=", ".join(unknown))]
                             if unknown else [])
        raise ParameterError(_("inspectors_available: {problems} (units of {policy}: {units})"
                               ).format(problems="; ".join(parts), policy=plan.id,
                                        units=", ".join(plan.unit_names)))
    for k, v in inspectors_available.items():
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0:
            raise ParameterError(_("inspectors_available['{unit}']: {value!r} is not a whole "
                                   "number >= 0").format(unit=k, value=v))


def plan_from_policy(policy: Policy) -> dict[str, Any]:
    """The planner's rule controls that reproduce ``policy`` (its widgets' start values)."""
    return dict(
        ratios={r.id: r.ratio for r in random_rules(policy)},
        credit_weights=dict(policy.credit_risk.weights),
        overlap=policy.draw.overlap,
        yearly_cap=policy.draw.yearly_cap,
        internal_joint_share=policy.joint.internal_min_share,
    )


def plan_inputs(policy: Policy, registers: Registers | str | Path | None = None,
                settings: PlannerSettings | None = None) -> dict[str, Any]:
    """The inspectors and the cost of a check to plan ``policy`` with: what a draft saved
    (its ``planner`` section) or, for a plan without one, the register's active certified
    inspectors and ``parameters/planner.yaml``'s assumptions. A saved count for a unit the
    plan no longer has is dropped; a unit without one gets the register's count.

    Returns ``dict(inspectors_available=..., assumptions=...)`` (keyword arguments of
    :func:`plan_outcome`)."""
    settings = settings or planner_settings()
    counts = default_inspectors(policy, registers, settings)
    saved = policy.planner
    if saved is None:
        return dict(inspectors_available=counts, assumptions=default_assumptions(settings))
    inspectors = {u.id: int(saved.inspectors.get(u.id, counts[u.id])) for u in policy.units}
    assumptions = {k: float(getattr(saved, k)) for k in ASSUMPTIONS}
    return dict(inspectors_available=inspectors, assumptions=assumptions)


_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


_YEAR_IN_NAME = re.compile(r"(?<!\d)(2\d{3})(?!\d)")


def check_plan_name(name: str, year: int) -> str:
    """The file name a plan is saved under, checked (Chinese messages): letters, digits,
    ``-``, ``_`` and ``.``; a year in the name must be the plan's year (``xiongan-2025`` is
    not a 2024 plan). Returns the name without a trailing ``.yaml``."""
    name = str(name).strip()
    if name.endswith(".yaml"):
        name = name[: -len(".yaml")]
    if not _NAME.match(name):
        raise ParameterError(_("plan name '{name}' cannot be used: only letters, "
                               "digits, '-', '_' and '.', starting with a letter or digit "
                               "(e.g. {example})").format(name=name, example="xiongan-2024"))
    years = {int(y) for y in _YEAR_IN_NAME.findall(name) if 2000 <= int(y) <= 2100}
    if years and years != {int(year)}:
        shown = "、".join(str(y) for y in sorted(years))
        raise ParameterError(f"方案名称“{name}”中的年份 {shown} 与计划年度 {year} 不一致；"
                             f"请改名称或计划年度")
    return name


def save_policy(
    policy: Policy,
    name: str,
    directory: str | Path | None = None,
    overwrite: bool = False,
    note: str = "",
    ledgers: Sequence[str | Path] | None = None,
) -> Path:
    """Write ``policy`` as ``<directory>/<name>.yaml`` (its id becomes ``name``).

    The name is checked by :func:`check_plan_name` (a year in it must be the plan's). The file
    is written to a temporary name, loaded back with :func:`load_policy` (so a file the loader
    would reject is never left behind), then moved into place. An existing file is replaced
    only with ``overwrite=True`` (otherwise :class:`PlanExistsError`) and only when it is a
    draft the planner saved (it has a ``planner`` section): a published plan (the 2023 plan,
    Chizhou's, Guangzhou's) is never replaced. Nor is a file that a draw or commitment of one
    of ``ledgers`` (default: the outputs' ledger) was made under: its draws must keep
    replaying from it. Every refusal is a Chinese message.
    """
    name = check_plan_name(name, policy.year)
    directory = Path(directory) if directory is not None else plans_directory()
    if directory.resolve() == POLICIES_DIR.resolve():
        raise ParameterError(_("{folder} holds the plans shipped with the software and is "
                               "not written to; save the plan into the workspace (default "
                               "{workspace})").format(folder=directory,
                                                       workspace=plans_directory()))
    target = directory / f"{name}.yaml"
    if target.exists() and not overwrite:
        raise PlanExistsError(f"方案“{name}”已存在，未保存；请另取名称，或确认覆盖已有文件后再保存")
    if target.exists():
        sha = hashlib.sha256(target.read_bytes()).hexdigest()
        for ledger in (ledgers if ledgers is not None else [DEFAULT_LEDGER]):
            used = drawn_under(ledger, sha)
            if used is not None:
                raise PlanExistsError(
                    f"方案“{name}”已用于{used.quarter}的抽取（抽取记录第 {used.seq} 条），不能覆盖；"
                    "请另取方案名称保存")
        try:
            existing = load_policy(target)
        except PolicyError:
            existing = None
        if existing is None or existing.planner is None:
            raise PlanExistsError(f"方案“{name}”是已发布的方案（不是本编制器保存的草稿），不能覆盖；"
                                  "请另取方案名称保存")
    policy = dataclasses.replace(policy, id=name)
    text = dump_policy(policy, f"{policy.name}\nSaved by the planner"
                       + (f"; {note}" if note else "") + ".")
    directory.mkdir(parents=True, exist_ok=True)
    tmp = directory / f".{name}.yaml.{os.getpid()}.tmp"
    try:
        tmp.write_text(text, encoding="utf-8")
        load_policy(tmp)
        if overwrite:
            os.replace(tmp, target)
        else:
            try:
                os.link(tmp, target)
            except FileExistsError:
                raise PlanExistsError(f"方案“{name}”已存在，未保存；请另取名称，或确认覆盖已有"
                                      "文件后再保存") from None
    finally:
        tmp.unlink(missing_ok=True)
    return target


__all__ = ["WORKSPACE_ENV", "PlanExistsError", "PreparedRegister", "base_policy_names",
           "build_policy", "check_inspectors", "check_plan_name", "default_inspectors",
           "map_onto_units", "plan_files", "plan_from_policy", "plan_inputs", "plans_directory",
           "prepare_register", "random_rules", "resolve_policy", "save_policy"]
