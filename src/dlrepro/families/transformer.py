"""The Transformer of note 003 (lecture 08; Vaswani et al. 2017), small enough to train in seconds
on a CPU, with every part the note explains as a setting, so that each can be taken away:

  positions     sinusoidal (the paper's table), learned (one trained row per position), none
  scaled        attention scores divided by √d_k (the paper) or not
  heads, head_dim   several heads of width d_k, or one (d_k = d_model / heads unless set)
  decoder_mask  causal (the decoder sees only the past) or none (the future is visible)

Two models from the same blocks:
  Seq2Seq        encoder–decoder (self-attention, then cross-attention to the encoder's output) on
                 algorithmic tasks whose data come from the seed: copy, reverse or sort a random
                 string of `vocab` symbols, lengths min_len..max_len in training; scored by greedy
                 decoding on held-out strings of those lengths and of longer ones (long_len).
  LanguageModel  decoder-only, character-level, on the project's corpus (`task: lm`); scored in
                 bits per character on held-out text.

Pre-norm blocks (LayerNorm before each sublayer, a final LayerNorm): they train without the
learning-rate warm-up that post-norm needs (Xiong et al. 2020), which keeps the ablations about
attention and not about a warm-up schedule. Attention runs through
`F.scaled_dot_product_attention` (its `scale=` is the √d_k switch, `is_causal` the mask); for the
report's attention maps, entropies and the tests, `Attention.record` computes the same
attention explicitly, from the same parameters, and keeps the weights.

Trained by the engine (train/engine.py) with this family's steps (TransformerSteps): a round of
`log_every` steps is the engine's epoch, so a run gets the device and its GPU slot, the progress
bar, divergence as a result and a checkpoint every round (model, optimizer, its own data
generator, history), from which a killed run resumes to identical numbers. Data are drawn on the
CPU from the run's generators and moved to the device. Variants of one seed see the same data
and, where shapes agree, the same initialisation.
"""
from __future__ import annotations

import math

import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from dlrepro.families import Family
from dlrepro.train.seeding import derive_seed
from dlrepro.train.work import Work

TASKS = ("copy", "reverse", "sort", "lm")
BOS = 0                 # seq2seq token 0 starts the decoder's input; symbols are 1..vocab
SAMPLE_PROMPTS, SAMPLE_CHARS = 3, 80


# -- the parts -----------------------------------------------------------------------------------
def sinusoidal_table(positions: int, d_model: int) -> torch.Tensor:
    """PE[p, 2i] = sin(p / 10000^(2i/d)), PE[p, 2i+1] = cos(p / 10000^(2i/d))."""
    p = torch.arange(positions, dtype=torch.float64)[:, None]
    angle = p / 10000 ** (torch.arange(0, d_model, 2, dtype=torch.float64) / d_model)
    table = torch.zeros(positions, d_model, dtype=torch.float64)
    table[:, 0::2], table[:, 1::2] = torch.sin(angle), torch.cos(angle)
    return table.float()


class Positions(nn.Module):
    """What is added to the token embeddings at positions 0..T−1. Learned rows beyond the
    training lengths exist but are never trained (no gradient reaches them)."""

    def __init__(self, kind: str, max_positions: int, d_model: int):
        super().__init__()
        self.kind = kind
        if kind == "learned":
            self.table = nn.Embedding(max_positions, d_model)
        elif kind == "sinusoidal":
            self.register_buffer("table", sinusoidal_table(max_positions, d_model), persistent=False)

    def forward(self, length: int) -> torch.Tensor | float:
        if self.kind == "none":
            return 0.0
        if self.kind == "learned":
            return self.table.weight[:length]
        return self.table[:length]


class Attention(nn.Module):
    """Multi-head attention: heads × head_dim wide queries, keys and values, then one output
    projection back to d_model."""

    def __init__(self, d_model: int, heads: int, head_dim: int, scaled: bool):
        super().__init__()
        self.heads, self.head_dim, self.scaled = heads, head_dim, scaled
        self.query, self.key, self.value = (nn.Linear(d_model, heads * head_dim) for _ in range(3))
        self.out = nn.Linear(heads * head_dim, d_model)
        self.record = False     # True: compute the weights explicitly and keep them (self.weights)
        self.weights = None

    def _split(self, x: torch.Tensor) -> torch.Tensor:        # (B, T, H·D) -> (B, H, T, D)
        return x.unflatten(-1, (self.heads, self.head_dim)).transpose(1, 2)

    def scores(self, x: torch.Tensor, source: torch.Tensor) -> torch.Tensor:
        """The logits of the softmax, (B, H, T_query, T_key)."""
        q, k = self._split(self.query(x)), self._split(self.key(source))
        scores = q @ k.transpose(-2, -1)
        return scores / math.sqrt(self.head_dim) if self.scaled else scores

    def forward(self, x: torch.Tensor, source: torch.Tensor, causal: bool) -> torch.Tensor:
        v = self._split(self.value(source))
        if self.record:
            scores = self.scores(x, source)
            if causal:
                future = torch.ones(scores.shape[-2:], dtype=torch.bool, device=x.device).triu(1)
                scores = scores.masked_fill(future, float("-inf"))
            self.weights = scores.softmax(-1)
            y = self.weights @ v
        else:
            q, k = self._split(self.query(x)), self._split(self.key(source))
            # scale=None is SDPA's default 1/√d_k; 1.0 leaves the dot products as they are
            y = F.scaled_dot_product_attention(q, k, v, is_causal=causal,
                                               scale=None if self.scaled else 1.0)
        return self.out(y.transpose(1, 2).flatten(2))


class Block(nn.Module):
    """Pre-norm block: self-attention, cross-attention to `memory` (decoder blocks), an MLP."""

    def __init__(self, s: dict, cross: bool):
        super().__init__()
        d = s["d_model"]
        attention = lambda: Attention(d, s["heads"], head_dim(s), s["scaled"])  # noqa: E731
        self.norm1, self.self_attention = nn.LayerNorm(d), attention()
        self.norm2, self.cross_attention = (nn.LayerNorm(d), attention()) if cross else (None, None)
        self.norm3 = nn.LayerNorm(d)
        self.mlp = nn.Sequential(nn.Linear(d, s["ff"]), nn.ReLU(), nn.Linear(s["ff"], d))

    def forward(self, x, memory=None, causal=False):
        h = self.norm1(x)
        x = x + self.self_attention(h, h, causal)
        if self.cross_attention is not None:
            x = x + self.cross_attention(self.norm2(x), memory, False)
        return x + self.mlp(self.norm3(x))


def head_dim(s: dict) -> int:
    return s["head_dim"] or s["d_model"] // s["heads"]


class Seq2Seq(nn.Module):
    """Encoder–decoder on symbol strings; the decoder reads BOS + the target shifted right."""

    def __init__(self, s: dict):
        super().__init__()
        d, tokens = s["d_model"], s["vocab"] + 1
        self.embed = nn.Embedding(tokens, d)     # one table: both sides use the same symbols
        self.positions = Positions(s["positions"], s["long_len"][1] + 1, d)
        self.encoder = nn.ModuleList(Block(s, cross=False) for _ in range(s["layers"]))
        self.decoder = nn.ModuleList(Block(s, cross=True) for _ in range(s["layers"]))
        self.encoder_norm, self.decoder_norm = nn.LayerNorm(d), nn.LayerNorm(d)
        self.head = nn.Linear(d, tokens)
        self.causal = s["decoder_mask"] == "causal"

    def encode(self, source: torch.Tensor) -> torch.Tensor:
        x = self.embed(source) + self.positions(source.shape[1])
        for block in self.encoder:
            x = block(x)
        return self.encoder_norm(x)

    def decode(self, decoder_input: torch.Tensor, memory: torch.Tensor) -> torch.Tensor:
        y = self.embed(decoder_input) + self.positions(decoder_input.shape[1])
        for block in self.decoder:
            y = block(y, memory, self.causal)
        return self.head(self.decoder_norm(y))

    def forward(self, source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Teacher forcing: logits for every target position."""
        return self.decode(shift_right(target), self.encode(source))

    @torch.no_grad()
    def greedy(self, source: torch.Tensor) -> torch.Tensor:
        """Decode as many symbols as the source has, each from the ones decoded before it."""
        memory = self.encode(source)
        out = torch.full((len(source), 1), BOS, dtype=torch.long, device=source.device)
        for _ in range(source.shape[1]):
            logits = self.decode(out, memory)[:, -1]
            logits[:, BOS] = float("-inf")
            out = torch.cat([out, logits.argmax(-1, keepdim=True)], 1)
        return out[:, 1:]

    def attentions(self) -> dict[str, Attention]:
        """Every attention by kind/layer (layer 1 next to the input)."""
        named = {f"encoder/{i + 1}": b.self_attention for i, b in enumerate(self.encoder)}
        named |= {f"decoder/{i + 1}": b.self_attention for i, b in enumerate(self.decoder)}
        return named | {f"cross/{i + 1}": b.cross_attention for i, b in enumerate(self.decoder)}


class LanguageModel(nn.Module):
    """Decoder-only: the same blocks without cross-attention, predicting the next character."""

    def __init__(self, s: dict, characters: int):
        super().__init__()
        d = s["d_model"]
        self.embed = nn.Embedding(characters, d)
        self.positions = Positions(s["positions"], s["context"], d)
        self.blocks = nn.ModuleList(Block(s, cross=False) for _ in range(s["layers"]))
        self.norm, self.head = nn.LayerNorm(d), nn.Linear(d, characters)
        self.causal = s["decoder_mask"] == "causal"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.embed(x) + self.positions(x.shape[1])
        for block in self.blocks:
            h = block(h, causal=self.causal)
        return self.head(self.norm(h))

    @torch.no_grad()
    def greedy(self, prompt: torch.Tensor, length: int, context: int) -> torch.Tensor:
        out = prompt
        for _ in range(length):
            out = torch.cat([out, self(out[:, -context:])[:, -1].argmax(-1, keepdim=True)], 1)
        return out[:, prompt.shape[1]:]

    def attentions(self) -> dict[str, Attention]:
        return {f"decoder/{i + 1}": b.self_attention for i, b in enumerate(self.blocks)}


def shift_right(target: torch.Tensor) -> torch.Tensor:
    return torch.cat([torch.full_like(target[:, :1], BOS), target[:, :-1]], 1)


# -- data ----------------------------------------------------------------------------------------
def make_strings(task: str, n: int, length: int, vocab: int, generator) -> tuple:
    source = torch.randint(1, vocab + 1, (n, length), generator=generator)
    target = {"copy": source, "reverse": source.flip(1), "sort": source.sort(1).values}[task]
    return source, target


def held_out_strings(s: dict, lengths: range, generator) -> list[tuple]:
    return [make_strings(s["task"], s["eval_strings"], n, s["vocab"], generator) for n in lengths]


class CharText:
    """The corpus as character ids: training text first, held-out text from its end."""

    def __init__(self, path, s: dict):
        with open(path, encoding="utf-8") as f:
            text = f.read(s["text_chars"] + s["eval_chars"]).replace("\n", " ")
        if len(text) < s["eval_chars"] + 10 * s["context"]:
            from dlrepro.errors import DataError
            raise DataError(f"corpus {path} has {len(text)} characters; the language model needs "
                            f"more than eval_chars + 10 x context = "
                            f"{s['eval_chars'] + 10 * s['context']}: lower them in its settings")
        self.characters = sorted(set(text))
        lookup = {c: i for i, c in enumerate(self.characters)}
        encoded = torch.tensor([lookup[c] for c in text])
        self.train, self.held_out = encoded[:-s["eval_chars"]], encoded[-s["eval_chars"]:]

    def batch(self, n: int, context: int, generator) -> torch.Tensor:
        start = torch.randint(0, len(self.train) - context - 1, (n,), generator=generator)
        return self.train[start[:, None] + torch.arange(context + 1)]

    def held_out_windows(self, context: int) -> torch.Tensor:
        usable = (len(self.held_out) // (context + 1)) * (context + 1)
        return self.held_out[:usable].view(-1, context + 1)

    def baselines(self, windows: torch.Tensor) -> dict[str, float]:
        """Bits per character of the held-out windows' predicted characters under unigram and
        bigram models counted on the training text (add-one smoothing): what a model that uses
        no context, or only the previous character, achieves."""
        n = len(self.characters)
        unigram = torch.bincount(self.train, minlength=n).double() + 1
        bigram = torch.bincount(self.train[:-1] * n + self.train[1:], minlength=n * n).double()
        bigram = bigram.view(n, n) + 1
        previous, following = windows[:, :-1].flatten(), windows[:, 1:].flatten()
        log_unigram = (unigram / unigram.sum()).log2()[following]
        log_bigram = (bigram / bigram.sum(1, keepdim=True)).log2()[previous, following]
        return {"unigram_bits_per_char": float(-log_unigram.mean()),
                "bigram_bits_per_char": float(-log_bigram.mean())}

    def text(self, ids) -> str:
        return "".join(self.characters[i] for i in ids)


# -- measuring -----------------------------------------------------------------------------------
def attention_entropy(weights: torch.Tensor) -> float:
    """Mean entropy (nats) of the attention distributions (rows over keys)."""
    return float(-(torch.xlogy(weights, weights)).sum(-1).mean().detach())


def recorded(model, run):
    """Run `run()` with every attention computed explicitly; returns (result, {name: weights})."""
    attentions = model.attentions()
    for a in attentions.values():
        a.record = True
    try:
        result = run()
    finally:
        for a in attentions.values():
            a.record = False
    return result, {name: a.weights for name, a in attentions.items()}


def query_key_grad_norms(model) -> dict[str, float]:
    """Norm of the gradient reaching each attention's query and key weights: what a saturated
    softmax starves."""
    return {f"qk_grad {name}": float(torch.cat([a.query.weight.grad.flatten(),
                                                 a.key.weight.grad.flatten()]).norm())
            for name, a in model.attentions().items()}


def greedy_scores(model, strings: list[tuple]) -> dict[str, float]:
    correct = exact = tokens = count = 0
    for source, target in strings:
        hit = model.greedy(source) == target
        correct, tokens = correct + int(hit.sum()), tokens + hit.numel()
        exact, count = exact + int(hit.all(1).sum()), count + len(hit)
    return {"token_accuracy": correct / tokens, "exact_accuracy": exact / count}


def teacher_forced_scores(model, strings: list[tuple]) -> dict[str, float]:
    loss = correct = tokens = 0.0
    with torch.no_grad():
        for source, target in strings:
            logits = model(source, target)
            loss += float(F.cross_entropy(logits.flatten(0, 1), target.flatten(), reduction="sum"))
            correct += float((logits.argmax(-1) == target).sum())
            tokens += target.numel()
    return {"teacher_forced_loss": loss / tokens, "teacher_forced_accuracy": correct / tokens}


def lm_loss(model, windows: torch.Tensor, batch: int = 64) -> float:
    """Mean next-character loss (nats) over the windows."""
    total = 0.0
    with torch.no_grad():
        for chunk in windows.split(batch):
            logits = model(chunk[:, :-1])
            total += float(F.cross_entropy(logits.flatten(0, 1), chunk[:, 1:].flatten(),
                                           reduction="sum"))
    return total / windows[:, 1:].numel()


# -- one run -------------------------------------------------------------------------------------
class Task:
    """The task's model, its training batches and its measurements, on `device`. Data are drawn
    on the CPU from the run's generators (the same strings and windows on every device) and
    moved there."""

    def __init__(self, s: dict, corpus, seed: int, device=torch.device("cpu")):
        self.s, self.device = s, device
        test = torch.Generator().manual_seed(derive_seed(seed, "transformer", f"{s['task']}/test"))
        if s["task"] == "lm":
            self.text = CharText(corpus, s)
            self.model = LanguageModel(s, len(self.text.characters)).to(device)
            self.windows = self.text.held_out_windows(s["context"])[:s["eval_strings"]].to(device)
            self.probe = (self.windows[:8, :-1],)
        else:
            self.model = Seq2Seq(s).to(device)
            low, high = s["train_len"]
            self.held_out = self._on_device(held_out_strings(s, range(low, high + 1), test))
            self.longer = self._on_device(held_out_strings(s, range(high + 1, s["long_len"][1] + 1), test))
            self.probe = self.held_out[0]

    def _on_device(self, strings: list[tuple]) -> list[tuple]:
        return [tuple(x.to(self.device) for x in pair) for pair in strings]

    def loss(self, generator) -> torch.Tensor:
        s = self.s
        if s["task"] == "lm":
            chunk = self.text.batch(s["batch_size"], s["context"], generator).to(self.device)
            logits = self.model(chunk[:, :-1])
            return F.cross_entropy(logits.flatten(0, 1), chunk[:, 1:].flatten())
        low, high = s["train_len"]
        length = int(torch.randint(low, high + 1, (1,), generator=generator))
        source, target = (x.to(self.device) for x in
                          make_strings(s["task"], s["batch_size"], length, s["vocab"], generator))
        return F.cross_entropy(self.model(source, target).flatten(0, 1), target.flatten())

    def log_row(self) -> dict:
        """Held-out loss and accuracy, attention entropy per attention on the probe inputs."""
        model = self.model
        if self.s["task"] == "lm":
            row = {"bits_per_char": lm_loss(model, self.windows) / math.log(2)}
        else:
            row = {**teacher_forced_scores(model, self.held_out),
                   "greedy_token_accuracy": greedy_scores(model, self.held_out[:1])["token_accuracy"]}
        with torch.no_grad():
            _, weights = recorded(model, lambda: model(*self.probe))
        entropies = {f"entropy {name}": attention_entropy(w) for name, w in weights.items()}
        return row | entropies | {"attention_entropy": sum(entropies.values()) / len(entropies)}

    def final_metrics(self) -> tuple[dict, dict, dict]:
        """(metrics, figures, tables)"""
        model, s = self.model, self.s
        if s["task"] == "lm":
            prompts = self.windows[:SAMPLE_PROMPTS, :20]
            samples = model.greedy(prompts, SAMPLE_CHARS, s["context"])
            table = pd.DataFrame({"prompt": [self.text.text(p.tolist()) for p in prompts],
                                  "greedy continuation": [self.text.text(c.tolist()) for c in samples]})
            text = self.windows[0, :24]          # a fixed held-out text, the same in every variant
            with torch.no_grad():
                _, weights = recorded(model, lambda: model(text[None]))
            tokens = list(self.text.text(text.tolist()))
            return ({"bits_per_char": lm_loss(model, self.windows) / math.log(2),
                     **self.text.baselines(self.windows)},
                    attention_figure(weights, tokens, tokens), {"samples": table})
        metrics = {**greedy_scores(model, self.held_out),
                   **{f"long_{k}": v for k, v in greedy_scores(model, self.longer).items()},
                   **teacher_forced_scores(model, self.held_out)}
        source = self.probe[0][:1]       # one fixed held-out string, the same in every variant
        decoded = model.greedy(source)
        with torch.no_grad():
            _, weights = recorded(model, lambda: model(source, decoded))
        symbols = [str(int(t)) for t in source[0]]
        return metrics, attention_figure(weights, symbols, ["BOS", *map(str, decoded[0, :-1].tolist())]), {}


def attention_figure(weights: dict, source: list[str], target: list[str]) -> dict:
    """The report's per-head attention maps (plots.attention_maps) of one input, each with the
    labels of its keys and queries: encoder self-attention reads the source against itself, the
    decoder's self-attention the target against itself, cross-attention target over source."""
    maps = {}
    for name, w in weights.items():
        keys = source if name.startswith(("encoder", "cross")) else target
        queries = source if name.startswith("encoder") else target
        maps[name] = {"weights": w[0], "keys": keys, "queries": queries}
    return {"attention": {"kind": "attention_maps", "maps": maps}}


class TransformerSteps:
    """The engine's steps (train/engine.py, a group of one) for a Transformer run. A round (the
    engine's epoch) is `log_every` optimisation steps, begun by a held-out measurement: a row
    of the history, with the gradients that reach q and k in the round's first step; the last
    round ends with the final measurement. The run's own generator draws its training data and
    is saved with the weights in each round's checkpoint, so a killed run resumes to the same
    numbers."""

    def __init__(self, family, spec: dict, inputs):
        self.spec, self.s, self.corpus = spec, spec["settings"], inputs["corpus"]
        self.seed = derive_seed(spec["seed"], "transformer", self.s["task"])  # the same in every variant
        self.epochs = math.ceil(self.s["steps"] / self.s["log_every"])

    def prepare_data(self, device) -> None:
        self.device = device

    def build(self, device) -> None:
        torch.manual_seed(self.seed)          # initialisation: the same where variants' shapes agree
        self.task = Task(self.s, self.corpus, self.spec["seed"], device)
        self.model = self.task.model
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=self.s["lr"], betas=(0.9, 0.98))
        self.generator = torch.Generator().manual_seed(self.seed)     # the training data
        self.step, self.running = 0, []

    def measure(self) -> dict:
        """A history row: the step, the mean training loss since the last row, held-out scores."""
        self.model.eval()
        row = {"step": self.step,
               "train_loss": sum(self.running) / len(self.running) if self.running else math.nan,
               **self.task.log_row()}
        self.model.train()
        self.running = []
        return row

    def train_step(self) -> float:
        """One optimisation step; the loss is read once (a non-finite one stops before the update)."""
        loss = self.task.loss(self.generator)
        value = loss.item()
        if not math.isfinite(value):
            return value
        for group in self.optimizer.param_groups:
            group["lr"] = learning_rate(self.s, self.step)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.running.append(value)
        return value

    def start(self) -> list[dict]:
        return []            # the first row (step 0) is measured as round 1 begins

    def train_epoch(self, epoch: int) -> list[dict]:
        row = self.measure()
        end = min(epoch * self.s["log_every"], self.s["steps"])
        self.diverged = False
        while self.step < end:
            value = self.train_step()
            if not math.isfinite(value):   # the history ends with the step that diverged
                self.diverged = True
                return [row, {"step": self.step, "train_loss": value}][self.step == row["step"]:]
            if self.step == row["step"]:
                row |= query_key_grad_norms(self.model)
            self.optimizer.step()
            self.step += 1
        return [row]

    def end_epoch(self, epoch, rows, epoch_time, elapsed):
        if self.diverged:
            return rows, "diverged"
        if self.step == self.s["steps"]:
            rows = [*rows, self.measure()]
        return rows, "ok"

    def state_dict(self) -> dict:
        return {"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                "generator": self.generator.get_state(), "step": self.step,
                "running": self.running}

    def load_state_dict(self, state: dict) -> None:
        self.model.load_state_dict(state["model"])
        if "optimizer" in state:          # absent once the run has finished
            self.optimizer.load_state_dict(state["optimizer"])
        self.generator.set_state(state["generator"])
        self.step, self.running = state["step"], state["running"]

    def finish(self, history: list[dict], status: str, folder) -> dict:
        self.model.eval()
        metrics, figures, tables = self.task.final_metrics() if status == "ok" else ({}, {}, {})
        folder.save_outputs({"figures": figures})
        for name, table in tables.items():
            folder.write_table(name, table)
        return {"status": status, **metrics, **_curve_metrics(pd.DataFrame(history))}


def step_probe(s: dict, device, corpus=None):
    """One optimisation step of the run's own steps at these settings (benchmarks/gpu_check.py
    times it for the planner); the lm task reads `corpus`."""
    steps = TransformerSteps(None, {"settings": s, "seed": 0}, {"corpus": corpus})
    steps.prepare_data(device)
    steps.build(device)

    def step():
        steps.train_step()
        steps.optimizer.step()
    return step


def learning_rate(s: dict, step: int) -> float:
    """Cosine decay from lr to lr/10 over the run (no warm-up: pre-norm does not need one); a
    function of the step alone, so a resumed run follows the same schedule."""
    return s["lr"] * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * step / s["steps"])))


def _curve_metrics(history: pd.DataFrame) -> dict:
    """Read off the logged curves: how fast it learned, and attention at initialisation."""
    first = history.iloc[0]
    out = {"attention_entropy_initial": float(first["attention_entropy"])}
    grads = [c for c in history if c.startswith("qk_grad")]
    if grads:
        out["qk_grad_initial"] = float(first[grads].mean())
        out["qk_grad_mean"] = float(history[grads].mean(axis=1).mean())
    curve = "bits_per_char" if "bits_per_char" in history else "teacher_forced_loss"
    out[f"{curve}_mean"] = float(history[curve].mean())     # area under the held-out curve
    out["attention_entropy_final"] = float(history["attention_entropy"].iloc[-1])
    return {k: v for k, v in out.items() if math.isfinite(v)}


def plan_work(s: dict, data: dict) -> Work:
    """The planner's count (dlrepro.plan): the optimisation steps, and the held-out examples
    read at each measurement (a greedy decode reads a string once per output symbol) and at the
    end."""
    measurements = s["steps"] // s["log_every"] + 1
    if s["task"] == "lm":
        return Work(s["steps"], s["batch_size"], (measurements + 1) * s["eval_strings"])
    low, high = s["train_len"]
    held_out = s["eval_strings"] * (high - low + 1)
    final = s["eval_strings"] * sum(range(low, s["long_len"][1] + 1))     # greedy, every length
    return Work(s["steps"], s["batch_size"],
                measurements * (held_out + s["eval_strings"] * low) + final)


def _settings() -> dict:
    integer = lambda text, default, minimum=1: {  # noqa: E731
        "description": text, "type": "integer", "minimum": minimum, "default": default}
    pair = lambda text, default: {  # noqa: E731
        "description": text, "type": "array", "items": {"type": "integer", "minimum": 1},
        "minItems": 2, "maxItems": 2, "default": default}
    return {
        "task": {"description": "copy, reverse or sort (encoder–decoder) or lm (decoder-only "
                                "character model on the corpus).", "enum": list(TASKS),
                 "default": "copy"},
        "positions": {"description": "Positional encoding added to the embeddings.",
                      "enum": ["sinusoidal", "learned", "none"], "default": "sinusoidal"},
        "scaled": {"description": "Divide attention scores by √d_k.", "type": "boolean",
                   "default": True},
        "decoder_mask": {"description": "causal: a position sees only earlier ones; none: the "
                                        "future is visible in training.",
                         "enum": ["causal", "none"], "default": "causal"},
        "d_model": integer("Model width (even: the sinusoidal table pairs sin and cos).", 32, 2),
        "heads": integer("Attention heads.", 2),
        "head_dim": {"description": "d_k, each head's width (null = d_model / heads).",
                     "type": ["integer", "null"], "minimum": 1, "default": None},
        "layers": integer("Blocks in the encoder and in the decoder.", 2),
        "ff": integer("Hidden width of each block's MLP.", 64),
        "vocab": integer("Seq2seq: symbols in the strings.", 12, 2),
        "train_len": pair("Seq2seq: shortest and longest training string.", [8, 12]),
        "long_len": pair("Seq2seq: held-out longer strings, shortest and longest (beyond "
                         "train_len: length generalisation).", [13, 16]),
        "eval_strings": integer("Held-out strings per length (lm: held-out windows).", 32),
        "context": integer("lm: characters of context.", 32),
        "text_chars": integer("lm: characters of the corpus read (the held-out text is the "
                              "last eval_chars of them).", 1000000, 1000),
        "eval_chars": integer("lm: held-out characters.", 20000, 100),
        "steps": integer("Optimisation steps.", 400),
        "batch_size": integer("Strings (lm: windows) per step.", 32),
        "lr": {"description": "Adam's peak learning rate (β 0.9, 0.98), decayed by a cosine to a"
                              " tenth of it over the run.", "type": "number",
               "exclusiveMinimum": 0, "default": 0.003},
        "log_every": integer("Steps between held-out measurements and checkpoints.", 50),
    }


FAMILY = Family(
    name="transformer", kind="sequence", data="corpus", steps=TransformerSteps, plan_work=plan_work,
    step_probe=step_probe, figures=True,
    description="Transformer encoder–decoder (copy / reverse / sort) and decoder-only character LM",
    settings=_settings(),
    rules=[{"if": {"properties": {"positions": {"const": "sinusoidal"}}},
            "then": {"properties": {"d_model": {"multipleOf": 2}}}}])
