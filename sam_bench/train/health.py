"""Is a run healthy? Pure functions over a cell's loss log and evaluation curve.

Three verdicts, so that an optimizer comparison reports a failed run as a result instead
of crashing on it or silently averaging it in:

* **diverged, non-finite**: the training loss became NaN or ±inf.
* **diverged, collapsed**: the loss sat at the uniform-output value ln K (K outputs: the
  vocabulary of a text-to-text model, the classes of a classifier) at every step after the
  first: the network outputs the same flat distribution whatever the input.
* **degenerate**: a task's evaluation curve never rose above what a constant prediction
  scores (the majority class; STS-B at any constant, e.g. the label mean, has correlation 0):
  the run never left its plateau. Marked per task; the run itself finished.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Sequence

NONFINITE, COLLAPSED = "nonfinite", "collapsed"
COLLAPSE_RTOL = 1e-3  # |loss - ln K| / ln K; a learning run moves further than this within steps
PLATEAU_MARGIN = 0.5  # metric points (0-100 scale) above the constant-prediction score that still count as plateau


@dataclass(frozen=True)
class Divergence:
    step: int  # the step (1-based, as in the curve) at which the run was stopped
    last_finite_loss: float | None
    reason: str  # NONFINITE or COLLAPSED
    message: str

    def to_json(self) -> dict:
        return asdict(self)


def _last_finite(losses: Sequence[float]) -> float | None:
    finite = [x for x in losses if math.isfinite(x)]
    return float(finite[-1]) if finite else None


def nonfinite(losses: Sequence[float]) -> Divergence | None:
    """The first non-finite training loss, if any (``losses[i]`` is the loss of step i + 1)."""
    for i, loss in enumerate(losses):
        if not math.isfinite(loss):
            return Divergence(i + 1, _last_finite(losses[:i]), NONFINITE,
                              f"training loss is {loss} at step {i + 1}")
    return None


def collapsed(losses: Sequence[float], uniform_loss: float | None, *, min_steps: int = 4,
              rtol: float = COLLAPSE_RTOL) -> Divergence | None:
    """A loss at ln K for every step after the first (the first is the initial model's), over
    at least ``min_steps`` steps; None when the run is not (yet) collapsed or K is unknown."""
    tail = list(losses[1:])
    if uniform_loss is None or uniform_loss <= 0 or len(tail) < min_steps:
        return None
    if all(math.isfinite(x) and abs(x - uniform_loss) <= rtol * uniform_loss for x in tail):
        return Divergence(len(losses), _last_finite(losses), COLLAPSED,
                          f"training loss stayed at {tail[-1]:.4f} = ln {math.exp(uniform_loss):.0f} (the uniform "
                          f"output) from step 2 to step {len(losses)}")
    return None


def degenerate_tasks(curve: Sequence[dict], chance: dict[tuple[str, str], float], *,
                     margin: float = PLATEAU_MARGIN) -> list[str]:
    """Tasks whose every metric with a known constant-prediction score stayed within ``margin``
    of it (or below) at every evaluation of the curve (``{step, task, metric, value}`` entries)."""
    by_task: dict[str, list[bool]] = {}
    for point in curve:
        key = (point["task"], point["metric"])
        if key in chance:
            by_task.setdefault(point["task"], []).append(point["value"] <= chance[key] + margin)
    return sorted(task for task, at_plateau in by_task.items() if at_plateau and all(at_plateau))
