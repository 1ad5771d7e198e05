"""Per-epoch measurements beyond loss and accuracy, taken on a copy of the model.

The copy runs under a forked RNG, so probing changes neither the weights, the BatchNorm running
statistics nor the random stream of training: a probed run trains exactly like an unprobed one.
"""
from __future__ import annotations

import copy

import torch
import torch.nn.functional as F

from dlrepro.data import Split

PROBE_EXAMPLES = 1024   # batch for gradient norms and activation statistics
NOISE_DRAWS = 8         # minibatch gradients per gradient-noise estimate
CHUNK = 4096


def weight_layers(model) -> list[torch.nn.Module]:
    """Layers with weights, input to output: the 'layers' of per-layer gradient norms."""
    return [m for m in model.modules() if isinstance(m, (torch.nn.Linear, torch.nn.Conv2d))]


def _flat_grad(model) -> torch.Tensor:
    return torch.cat([p.grad.reshape(-1) for p in model.parameters() if p.grad is not None])


def _full_gradient(model, train: Split) -> torch.Tensor:
    """Gradient of the mean training loss over the whole training split (chunked)."""
    model.zero_grad(set_to_none=True)
    n = len(train)
    for start in range(0, n, CHUNK):
        x, y = train.x[start:start + CHUNK], train.y[start:start + CHUNK]
        (F.cross_entropy(model(x), y, reduction="sum") / n).backward()
    return _flat_grad(model).clone()


def grad_noise(model, train: Split, batch_size: int, generator: torch.Generator) -> torch.Tensor:
    """E ||g_B - g||^2: how far a minibatch gradient strays from the full-batch gradient."""
    full = _full_gradient(model, train)
    n = len(train)
    if batch_size >= n:
        return torch.zeros((), device=full.device)
    total = torch.zeros((), device=full.device)
    for _ in range(NOISE_DRAWS):
        idx = torch.randperm(n, generator=generator)[:batch_size].to(train.x.device)
        model.zero_grad(set_to_none=True)
        F.cross_entropy(model(train.x[idx]), train.y[idx]).backward()
        total += (_flat_grad(model) - full).pow(2).sum()
    return total / NOISE_DRAWS


def measure(model, probes: list[str], train: Split, batch_size: int, seed: int) -> dict:
    """Dict of scalar tensors; the caller converts them with one host sync per epoch."""
    if not probes:
        return {}
    probe_model = copy.deepcopy(model).train()
    out: dict[str, torch.Tensor] = {}
    devices = [train.x.device] if train.x.device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        if "grad_norms" in probes or "activation_stats" in probes:
            activations = []
            hooks = [m.register_forward_hook(lambda _m, _i, output: activations.append(output))
                     for m in probe_model.modules() if getattr(m, "is_hidden_activation", False)]
            probe_model.zero_grad(set_to_none=True)
            x, y = train.x[:PROBE_EXAMPLES], train.y[:PROBE_EXAMPLES]
            F.cross_entropy(probe_model(x), y).backward()
            for hook in hooks:
                hook.remove()
            if "grad_norms" in probes:
                for i, layer in enumerate(weight_layers(probe_model)):
                    out[f"grad_norm/{i}"] = layer.weight.grad.norm()
            if "activation_stats" in probes:
                for i, act in enumerate(activations):
                    act = act.detach()
                    out[f"act_mean/{i}"] = act.mean()
                    out[f"act_std/{i}"] = act.std()
        if "grad_noise" in probes:
            generator = torch.Generator().manual_seed(seed)
            out["grad_noise"] = grad_noise(probe_model, train, batch_size, generator)
    return out
