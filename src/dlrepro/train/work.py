"""What a run computes, in the units the cost planner prices (dlrepro.plan): a family's
`plan_work` returns a Work, and the seconds come from the step costs measured for the run's shape
(benchmarks/gpu_check.py), never from a family's own timing."""
from __future__ import annotations

from typing import NamedTuple


class Work(NamedTuple):
    """`steps` optimisation steps of `batch` examples, and `evaluated` examples passed forward
    only (held-out measurements, scoring, sampling): each costs a training step's share of one
    example times the planner's forward fraction."""
    steps: int
    batch: int
    evaluated: float = 0.0
