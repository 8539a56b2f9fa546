"""Simulation of a plan before it is published (R3, R4): what the official draw would do over
many replicated years.

Modules: :mod:`~dsr_analysis.simulation.sampling` (strata, budget, the vectorised sampler
shared by both engines), :mod:`~dsr_analysis.simulation.coverage` (coverage, visits, gaps,
workload), :mod:`~dsr_analysis.simulation.deterrence` (firms' responses to the inspection
odds), :mod:`~dsr_analysis.simulation.analytic` (the closed-form recursion the planner uses)
and :mod:`~dsr_analysis.simulation.scenarios` (scenario files, comparison, sweep,
optimisation); :mod:`~dsr_analysis.simulation.national` runs a hierarchy's jurisdictions
(:mod:`dsr_analysis.hierarchy`) as independent tasks. Every engine hands its work to an
executor of :mod:`dsr_analysis.distributed` - threads of this process, or a Dask cluster -
in tasks of one chunk of replicates (and one jurisdiction); the results are the same
wherever they run. All of them take strata, quotas and inclusion probabilities from
:mod:`dsr_analysis.quotas` and drawing order and overlap rules from
:mod:`dsr_analysis.overlap`, as the official draw does.
"""

