"""The learning-rate schedules Step 4's was chosen from, each as a change to Step 3's recipe.

``python -m mnist_core schedules`` trains them; the step pages read the study's table back.
"""

from __future__ import annotations

from mnist_core.engine.config import TrainConfig
from mnist_core.lesson.steps import get_step

# name -> how it differs from Step 3's recipe (same network, dropout and rotation; constant lr 0.01)
CANDIDATES: dict[str, dict] = {
    "constant 0.01 (Step 3)": {},
    "StepLR 0.05, x0.1 every 5 epochs (Step 4)": {"step": 4, "scheduler": "step", "lr": 0.05, "step_size": 5,
                                         "step_gamma": 0.1},
    "OneCycle, peak 0.05": {"step": 4, "scheduler": "onecycle", "lr": 0.05},
}


def candidate_config(name: str, seed: int) -> TrainConfig:
    return get_step(3).recipe.with_(seed=seed, **CANDIDATES[name])
