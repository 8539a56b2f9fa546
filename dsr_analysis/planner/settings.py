"""The planner's settings: the planning assumptions no rule sets (``parameters/planner.yaml``).

The cost of a check (inspector-days per inspector and quarter, per on-site and off-site check,
the extra day of an internal joint check), the scenario whose behaviour parameters the
deterrence figures use, the coverage threshold of a gap and where the 2023 plan states each
rule. The page may change the cost of a check; a saved draft keeps what it used.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..config import build, read_yaml
from ..errors import ParameterError
from ..i18n import _
from ..paths import PARAMETERS_DIR
from ..simulation.coverage import Budget
from ..simulation.deterrence import DeterrenceParams
from ..simulation.scenarios import load_scenario

PLANNER_SETTINGS = PARAMETERS_DIR / "planner.yaml"


OVERLAP_MODES = ("independent", "rotation", "yearly_cap")


QUARTERS_PER_YEAR = 4


#: The cost of a check the page may change and a draft saves (keys of ``assumptions``).
ASSUMPTIONS = ("days_per_inspector_per_quarter", "onsite_inspector_days",
               "offsite_inspector_days", "joint_extra_inspector_days")


#: Slider steps of a rule's ratio: suggestions are on this grid, so a suggestion applied to the
#: slider is exactly the value that was checked.
RATIO_STEP = {"share": 0.01, "per_inspector": 0.1}


def _f(doc: str, lo: float | None = None, hi: float | None = None) -> Any:
    return field(metadata={"doc": doc, "range": (lo, hi)})


@dataclass(frozen=True)
class SimulationAssumptions:
    replicates: int = _f("simulated years behind the quick coverage check", 1, 10000)


@dataclass(frozen=True)
class PlannerSettings:
    """Planning assumptions of the planner (``parameters/planner.yaml``).

    ``budget`` (inspector-days per check and per inspector) and ``deterrence`` (behaviour
    model) are those of a simulation scenario (``parameters/scenarios/``), so the planner
    and the simulation notebooks cost a check and model a firm the same way. The planner
    never cuts quotas to the budget (``enforce`` is off): it shows the shortfall instead.
    """

    scenario: str = _f("scenario in parameters/scenarios/ whose budget and deterrence "
                       "parameters the planner uses")
    joint_extra_inspector_days: float = _f(
        "extra inspector-days an internal joint check adds (a second business line, R5)", 0.0, 100.0)
    simulation: SimulationAssumptions = _f("quick simulated coverage check")
    coverage_warning_below: float = _f(
        "groups of objects whose analytic yearly coverage is below this share are listed as "
        "coverage gaps (as are groups never drawn)", 0.0, 1.0)
    clauses: dict[str, str] = _f(
        "rule id -> the clause of the 2023 plan that sets it (cited by the page's help)")
    budget: Budget | None = field(default=None, metadata={
        "doc": "the scenario's budget, enforce off", "internal": True})
    deterrence: DeterrenceParams | None = field(default=None, metadata={
        "doc": "the scenario's deterrence parameters", "internal": True})
    scenario_name: str = field(default="", metadata={
        "doc": "the scenario's name (Chinese), cited under the model figures", "internal": True})


def load_planner_settings(path: str | Path | None = None) -> PlannerSettings:
    """Load the planner's assumptions (strict: unknown / missing keys, ranges)."""
    path = Path(path) if path is not None else PLANNER_SETTINGS
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ParameterError(_("{path}: cannot read planner settings ({reason})").format(
            path=path, reason=exc.strerror)) from exc
    data = read_yaml(text, str(path), ParameterError)
    settings = build(PlannerSettings, data, str(path), "", ParameterError)
    scenario = load_scenario(settings.scenario)
    return dataclasses.replace(settings, budget=dataclasses.replace(scenario.budget, enforce=False),
                               deterrence=scenario.deterrence, scenario_name=scenario.name)


_SETTINGS: dict[tuple, PlannerSettings] = {}


def planner_settings() -> PlannerSettings:
    """``parameters/planner.yaml``, loaded once per version of the file."""
    stat = PLANNER_SETTINGS.stat()
    key = (stat.st_mtime_ns, stat.st_size)
    if key not in _SETTINGS:
        _SETTINGS[key] = load_planner_settings()
    return _SETTINGS[key]


def default_assumptions(settings: PlannerSettings | None = None) -> dict[str, float]:
    """The cost of a check from ``parameters/planner.yaml`` (its scenario's budget and the
    extra day of an internal joint check): the start values of the page's assumptions."""
    settings = settings or planner_settings()
    b = settings.budget
    return dict(days_per_inspector_per_quarter=float(b.days_per_inspector_per_quarter),
                onsite_inspector_days=float(b.onsite_inspector_days),
                offsite_inspector_days=float(b.offsite_inspector_days),
                joint_extra_inspector_days=float(settings.joint_extra_inspector_days))


def check_assumptions(assumptions: Mapping[str, float]) -> dict[str, float]:
    if set(assumptions) != set(ASSUMPTIONS):
        raise ParameterError(_("assumptions: give exactly {names} (got {got})").format(
            names=", ".join(ASSUMPTIONS), got=", ".join(map(str, assumptions)) or _("none")))
    out = {}
    for k in ASSUMPTIONS:
        v = as_number(assumptions[k], f"assumptions['{k}']")
        hi = 92.0 if k == "days_per_inspector_per_quarter" else 100.0
        if not 0.0 <= v <= hi:
            raise ParameterError(_("assumptions['{name}']: {value!r} is out of range [0, {hi:g}]"
                                   ).format(name=k, value=v, hi=hi))
        out[k] = v
    return out


def as_number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ParameterError(_("{where}: expected a number, got {value!r}").format(
            where=where, value=value))
    value = float(value)
    if not math.isfinite(value):
        raise ParameterError(_("{where}: expected a finite number, got {value!r}").format(
            where=where, value=value))
    return value


def scenario_budget(assumptions: Mapping[str, float], settings: PlannerSettings) -> Budget:
    return dataclasses.replace(
        settings.budget, enforce=False,
        days_per_inspector_per_quarter=assumptions["days_per_inspector_per_quarter"],
        onsite_inspector_days=assumptions["onsite_inspector_days"],
        offsite_inspector_days=assumptions["offsite_inspector_days"])


def clause_of(rule: str, settings: PlannerSettings | None = None) -> str:
    """The clause of the 2023 plan that sets rule ``rule`` (empty when none is listed)."""
    return (settings or planner_settings()).clauses.get(rule, "")


__all__ = ["ASSUMPTIONS", "OVERLAP_MODES", "PLANNER_SETTINGS", "QUARTERS_PER_YEAR", "RATIO_STEP",
           "PlannerSettings", "SimulationAssumptions", "as_number", "check_assumptions",
           "clause_of", "default_assumptions", "load_planner_settings", "planner_settings",
           "scenario_budget"]
