"""The annual-plan planner: what a changed plan costs and what it buys (R3, R4, R5).

Every output of the planner page (``notebooks/planner.ipynb``, :mod:`.app`) is computed by
pure functions whose arguments are the page's controls one-to-one, so the page cannot drift
from a test or a batch run. One concept per module:

* :mod:`.settings` — the planning assumptions (``parameters/planner.yaml``);
* :mod:`.labels` — the planner's Chinese labels (plans, rules, ratios, indicators);
* :mod:`.plans` — plans to start from, the tuned plan, the prepared register, saving a draft
  into the workspace;
* :mod:`.feasibility` — inspector-days needed against available, the 2023 minimums;
* :mod:`.coverage` — closed-form coverage under each overlap control, the coverage gaps;
* :mod:`.outcome` — :func:`plan_outcome` in named steps, the quota table made once;
* :mod:`.suggest` — the smallest changes that make an infeasible plan feasible;
* :mod:`.compare` — two plans side by side (English keys);
* :mod:`.views` — the Chinese tables, headline, comparison workbook and document;
* :mod:`.fragments` — the page's HTML pieces; :mod:`.widgets` — its widgets;
  :mod:`.app` — the widget page; :mod:`.cache` and :mod:`.page` — the first screen at once.

The names below are loaded on first use (the page's first screen needs none of the
numerical libraries).
"""

import importlib

#: Module of the package -> the names it gives the package (loaded on first use).
_MODULES = {
    'app': ('PlannerApp', 'build_planner'),
    'compare': ('PERCENT_TOTALS', 'PlanComparison', 'compare_outcomes'),
    'coverage': ('GAP_COLUMNS', 'coverage_gaps', 'draw_shortfalls', 'overlap_coverage'),
    'feasibility': ('MINIMUM_COLUMNS',),
    'labels': ('ASSUMPTIONS_ZH', 'GAP_KIND_ZH', 'OVERLAP_ZH', 'TOTALS_ZH', 'plan_label', 'ratio_text', 'rule_label'),
    'outcome': ('PlanOutcome', 'plan_outcome'),
    'page': ('PlannerPage', 'planner_page'),
    'plans': ('PlanExistsError', 'WORKSPACE_ENV', 'base_policy_names', 'build_policy', 'check_plan_name', 'default_inspectors', 'map_onto_units', 'plan_files', 'plan_from_policy', 'plan_inputs', 'plans_directory', 'prepare_register', 'random_rules', 'resolve_policy', 'save_policy'),
    'settings': ('ASSUMPTIONS', 'OVERLAP_MODES', 'PLANNER_SETTINGS', 'PlannerSettings', 'RATIO_STEP', 'clause_of', 'default_assumptions', 'load_planner_settings', 'planner_settings'),
    'suggest': ('Suggestion', 'suggest_changes'),
    'views': ('comparison_document', 'comparison_summary', 'comparison_tables', 'coverage_display', 'coverage_matrix', 'gaps_display', 'headline', 'minimums_display', 'quota_display', 'workload_display', 'write_comparison_xlsx'),
}
_WHERE = {name: module for module, names in _MODULES.items() for name in names}


def __getattr__(name: str):
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(name)
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))


__all__ = sorted(_WHERE)
