"""dsr_analysis: registers, policy, quotas, draws, simulation and reports for
"double-random, one-public" (双随机、一公开) environmental supervision."""

__version__ = "0.1.0"
