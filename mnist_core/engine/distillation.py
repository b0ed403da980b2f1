"""Knowledge distillation: a small network learns from a bigger one's answers as well as from the labels.

A trained network's answer carries more than its top class: how much a 7 looks like a 1 to it, or a 4
like a 9. Matching those softened answers (Hinton, Vinyals and Dean, 2015) gives the student more to go on
per image than one right label. The teacher is a shipped step's network, read from ``assets/``; it
only answers (evaluation mode, no gradients), on the very batch the student trains on, augmentation
included. Its own training is a cost the student's run does not show: Step 4's run took minutes too.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from mnist_core.common.paths import shipped_run_path
from mnist_core.engine.checkpoints import CheckpointError, load_checkpoint


class TeacherMissing(ValueError):
    """The step named as the teacher has no usable shipped network; the message says which and why."""


def load_teacher(step: int, device: torch.device) -> nn.Module:
    """Step ``step``'s shipped network, in evaluation mode, with its weights frozen."""
    path = shipped_run_path(step) / "model.pt"
    try:
        teacher, _ = load_checkpoint(path, device)
    except CheckpointError as exc:
        raise TeacherMissing(f"Step {step}'s shipped network cannot teach: {exc}") from None
    for parameter in teacher.parameters():
        parameter.requires_grad_(False)
    return teacher.eval()


def distillation_loss(student_log_probs: torch.Tensor, teacher_log_probs: torch.Tensor,
                      temperature: float) -> torch.Tensor:
    """How far the student's softened answers are from the teacher's (KL divergence, mean per image).

    The networks end in log-softmax; dividing log-probabilities by T and normalising again is the
    softmax of the logits divided by T (the constant each row was shifted by cancels). The T² keeps the
    gradient's size independent of T, as in the paper.
    """
    student = F.log_softmax(student_log_probs / temperature, dim=1)
    teacher = F.log_softmax(teacher_log_probs / temperature, dim=1)
    return F.kl_div(student, teacher, log_target=True, reduction="batchmean") * temperature ** 2
