"""The seeds of one variant as one model: every parameter and buffer gets a leading seed axis.

Why torch.func (stack_module_state + functional_call + vmap) rather than hand-written batched
layers: a family's nn.Module stays exactly as written in its one readable file, and the same
stacking serves every family whose randomness comes from the engine. One kernel launch then
serves every seed: a matmul becomes a batched matmul, a BatchNorm keeps per-seed statistics
(its buffers are stacked too), and elementwise optimizers (SGD, momentum, RMSProp, Adam,
Adadelta) work on the stacked tensors unchanged.

What keeps each seed's run its own:
  - initialisation: each member is built under its own seed, exactly as the sequential run;
  - dropout: each member's masks are drawn from its own generator, in the order the sequential
    run's nn.Dropout would draw them from the global stream (on the CPU bit-identical masks);
  - the loss of the group is the sum of the members' losses, so each member's gradient is its
    own (d sum / d theta_i = d loss_i / d theta_i);
  - a member that stopped (diverged, early stopping) is frozen: its weights and statistics are
    put back after every step, so its result is that of the epoch it stopped at.
A group of one calls the model on its single member without vmap: the sequential arithmetic.
"""
from __future__ import annotations

import copy

import torch
from torch.func import functional_call, stack_module_state, vmap


class SeedStack:
    def __init__(self, models: list[torch.nn.Module]):
        self.size = len(models)
        self.template = models[0]                        # a real module: shapes, probes
        self.base = copy.deepcopy(models[0]).to("meta")  # holds no data: every call swaps it in
        self.keys = list(models[0].state_dict())         # what a checkpoint holds
        params, buffers = stack_module_state(models)
        member = dict(models[0].named_parameters())
        self.params = {k: _like(v, member[k]) for k, v in params.items()}   # leaves, seed axis first
        self.buffers = {k: v for k, v in buffers.items() if k in set(self.keys)}
        dropouts = [(name, m) for name, m in models[0].named_modules()
                    if isinstance(m, torch.nn.Dropout)]
        for name, m in dropouts:
            if "mask" not in dict(m.named_buffers()):
                raise TypeError(f"module '{name}' is a plain nn.Dropout: seeds trained together "
                                "need dlrepro.families.layers.Dropout, whose masks they draw")
        self.dropouts = [(name, m.p) for name, m in dropouts if m.p > 0]
        self.mask_shapes: dict[str, tuple] = {}
        self._vmapped = vmap(self._call, randomness="error")  # randomness comes from the masks

    def _call(self, params, buffers, masks, x):
        return functional_call(self.base, (params, buffers, masks), (x,))

    def train(self, mode: bool = True) -> None:
        self.base.train(mode)

    def eval(self) -> None:
        self.base.train(False)

    def __call__(self, x: torch.Tensor, masks: dict | None = None) -> torch.Tensor:
        """x: [seeds, batch, ...] -> [seeds, batch, ...]."""
        masks = masks or {}
        if self.size == 1:
            one = lambda d: {k: v[0] for k, v in d.items()}   # noqa: E731
            return self._call(one(self.params), one(self.buffers), one(masks), x[0]).unsqueeze(0)
        return self._vmapped(self.params, self.buffers, masks, x)

    # -- dropout masks -------------------------------------------------------------------------
    def draw_masks(self, example: torch.Tensor, generators: list[torch.Generator]) -> dict:
        """Each member's dropout masks for a batch shaped like example [seeds, batch, ...], from
        its own generator; on the CPU the very draws F.dropout makes (bernoulli_, then / (1-p))."""
        if not self.dropouts:
            return {}
        if not self.mask_shapes:
            self._find_mask_shapes(example[0, :1])
        batch, masks = example.shape[1], {}
        for name, p in self.dropouts:     # in forward order: the order the draws happen in
            masks[f"{name}.mask"] = []
        for i, generator in enumerate(generators):
            for name, p in self.dropouts:
                shape = (batch, *self.mask_shapes[name])
                mask = torch.empty(shape, device=example.device).bernoulli_(1 - p, generator=generator)
                masks[f"{name}.mask"].append(mask.div_(1 - p))
        return {k: torch.stack(v) for k, v in masks.items()}

    @torch.no_grad()
    def _find_mask_shapes(self, x: torch.Tensor) -> None:
        order = []
        hooks = [module.register_forward_pre_hook(
                    lambda m, inputs, name=name: order.append((name, tuple(inputs[0].shape[1:]))))
                 for name, module in self.template.named_modules()
                 if isinstance(module, torch.nn.Dropout)]
        was_training = self.template.training
        self.template.eval()
        self.template(x)
        self.template.train(was_training)
        for hook in hooks:
            hook.remove()
        self.mask_shapes = dict(order)
        by_name = dict(self.dropouts)
        self.dropouts = [(name, by_name[name]) for name, _ in order if name in by_name]

    # -- one member ----------------------------------------------------------------------------
    def tensors(self) -> dict[str, torch.Tensor]:
        return {**self.params, **self.buffers}

    def member_state(self, i: int) -> dict:
        """Member i's state_dict, as the sequential model's state_dict() would hold it."""
        tensors = self.tensors()
        return {k: tensors[k][i].detach().clone() for k in self.keys}

    @torch.no_grad()
    def load_member_state(self, i: int, state: dict) -> None:
        tensors = self.tensors()
        for k in self.keys:
            tensors[k][i].copy_(state[k])

    def module(self, i: int) -> torch.nn.Module:
        """Member i as an ordinary nn.Module (a copy): for probes."""
        model = copy.deepcopy(self.template)
        model.load_state_dict(self.member_state(i))
        return model


def _like(stacked: torch.Tensor, member: torch.Tensor) -> torch.Tensor:
    """The stacked leaf laid out so that each seed's slice has the member's strides: a family
    that builds its convolutions channels-last (the CNN: faster on a CPU) keeps that layout."""
    if stacked[0].stride() == member.stride():
        return stacked
    laid_out = torch.empty_strided((len(stacked), *member.shape), (member.numel(), *member.stride()),
                                   dtype=stacked.dtype, device=stacked.device)
    return laid_out.copy_(stacked.detach()).requires_grad_(stacked.requires_grad)


def member_optimizer_state(state: dict, i: int) -> dict:
    """Member i's slice of a stacked optimizer's state_dict (its per-parameter tensors)."""
    return {"state": {p: {k: v[i].clone() if torch.is_tensor(v) and v.dim() > 0 else v
                          for k, v in s.items()} for p, s in state["state"].items()},
            "param_groups": copy.deepcopy(state["param_groups"])}


def stack_optimizer_states(states: list[dict]) -> dict:
    """The stacked optimizer's state_dict from its members' slices. The stacked optimizer counts
    steps once for all members (Adam's `step`), and a member that stopped early stopped saving
    its count: shared scalars take the largest member's value."""
    def shared(values):
        return max(values, key=lambda v: float(v))

    ref = states[0]
    return {"state": {p: {k: torch.stack([s["state"][p][k] for s in states])
                          if torch.is_tensor(v) and v.dim() > 0
                          else shared([s["state"][p][k] for s in states])
                          for k, v in ref["state"][p].items()} for p in ref["state"]},
            "param_groups": copy.deepcopy(ref["param_groups"])}
