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
* :mod:`.fragments` — the page's HTML pieces; :mod:`.app` — the widget page.
"""

from .compare import PERCENT_TOTALS, PlanComparison, compare_outcomes
from .coverage import GAP_COLUMNS, coverage_gaps, draw_shortfalls, overlap_coverage
from .feasibility import MINIMUM_COLUMNS
from .labels import (ASSUMPTIONS_ZH, GAP_KIND_ZH, OVERLAP_ZH, TOTALS_ZH, plan_label, ratio_text,
                     rule_label)
from .outcome import PlanOutcome, plan_outcome
from .plans import (WORKSPACE_ENV, PlanExistsError, base_policy_names, build_policy,
                    check_plan_name, default_inspectors, map_onto_units, plan_files,
                    plan_from_policy, plan_inputs, plans_directory, prepare_register,
                    random_rules, resolve_policy, save_policy)
from .settings import (ASSUMPTIONS, OVERLAP_MODES, PLANNER_SETTINGS, RATIO_STEP, PlannerSettings,
                       clause_of, default_assumptions, load_planner_settings, planner_settings)
from .suggest import Suggestion, suggest_changes
from .views import (comparison_document, comparison_summary, comparison_tables,
                    coverage_display, coverage_matrix, gaps_display, headline, minimums_display,
                    quota_display, workload_display, write_comparison_xlsx)

__all__ = [
    "ASSUMPTIONS", "ASSUMPTIONS_ZH", "GAP_COLUMNS", "GAP_KIND_ZH", "MINIMUM_COLUMNS",
    "OVERLAP_MODES", "OVERLAP_ZH", "PERCENT_TOTALS", "PLANNER_SETTINGS", "RATIO_STEP",
    "TOTALS_ZH", "WORKSPACE_ENV", "PlanComparison", "PlanExistsError", "PlanOutcome",
    "PlannerSettings", "Suggestion", "base_policy_names", "build_policy", "check_plan_name",
    "clause_of", "compare_outcomes", "comparison_document", "comparison_summary",
    "comparison_tables", "coverage_display", "coverage_gaps", "coverage_matrix",
    "default_assumptions", "default_inspectors", "draw_shortfalls", "gaps_display", "headline",
    "load_planner_settings", "map_onto_units", "minimums_display", "overlap_coverage",
    "plan_files", "plan_from_policy", "plan_inputs", "plan_label", "plan_outcome",
    "planner_settings", "plans_directory", "prepare_register", "quota_display", "random_rules",
    "ratio_text", "resolve_policy", "rule_label", "save_policy", "suggest_changes",
    "workload_display", "write_comparison_xlsx",
]
