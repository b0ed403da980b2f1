"""SGD with momentum and weight decay, the arithmetic of ``torch.optim.SGD`` without its start-up cost.

Creating a ``torch.optim`` optimizer imports ``torch._dynamo`` (to wrap ``step`` so the compiler
leaves it alone), and that import takes about as long as importing torch itself: one to three
seconds of every training process, the CLI's and each test's, before the first batch. The
trainer needs only plain SGD, so it does the same update itself, operation for operation as
``torch.optim.SGD``'s per-tensor path (``_single_tensor_sgd``; dampening 0, no Nesterov): a
test trains with both and compares every weight bit for bit.

``param_groups`` has the shape ``torch.optim`` gives it, so the schedule sets ``lr`` and
``momentum`` the same way for this optimizer and for Adam.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch


class SGD:
    """``torch.optim.SGD(params, lr, momentum, weight_decay)``'s update, one parameter group."""

    def __init__(self, params: Iterable[torch.Tensor], lr: float, momentum: float = 0.0,
                 weight_decay: float = 0.0) -> None:
        self.param_groups = [{"params": list(params), "lr": lr, "momentum": momentum, "weight_decay": weight_decay}]
        self._momentum_buffers: dict[int, torch.Tensor] = {}

    def zero_grad(self, set_to_none: bool = True) -> None:
        for param in self.param_groups[0]["params"]:
            if set_to_none:
                param.grad = None
            elif param.grad is not None:
                param.grad.zero_()

    @torch.no_grad()
    def step(self) -> None:
        group = self.param_groups[0]
        lr, momentum, weight_decay = group["lr"], group["momentum"], group["weight_decay"]
        for index, param in enumerate(group["params"]):
            if param.grad is None:
                continue
            grad = param.grad
            if weight_decay != 0:
                grad = grad.add(param, alpha=weight_decay)
            if momentum != 0:
                buffer = self._momentum_buffers.get(index)
                if buffer is None:  # the first step starts the running average at the gradient itself
                    buffer = self._momentum_buffers[index] = grad.detach().clone()
                else:
                    buffer.mul_(momentum).add_(grad, alpha=1)
                grad = buffer
            param.add_(grad, alpha=-lr)
