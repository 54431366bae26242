"""The few modules torch.nn lacks in the form the builder needs; `export` copies their source verbatim."""

from __future__ import annotations

import math

import torch
from torch import nn


class Recurrent(nn.Module):
    """A batch-first RNN/LSTM/GRU that returns the last step (default) or the whole sequence."""

    def __init__(self, cell: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bidirectional: bool = False, dropout: float = 0.0, return_sequences: bool = False) -> None:
        super().__init__()
        self.rnn = getattr(nn, cell)(input_size, hidden_size, num_layers=num_layers, batch_first=True,
                                     bidirectional=bidirectional, dropout=dropout if num_layers > 1 else 0.0)
        self.return_sequences = return_sequences

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.rnn(x)  # (B, T, H * directions)
        return out if self.return_sequences else out[:, -1]


class SelfAttention(nn.Module):
    """Multi-head self-attention over a (B, T, E) sequence; keeps the last weights when asked (for probes)."""

    def __init__(self, embed_dim: int, num_heads: int = 1, dropout: float = 0.0, bias: bool = True) -> None:
        super().__init__()
        self.attn = nn.MultiheadAttention(embed_dim, num_heads, dropout=dropout, bias=bias, batch_first=True)
        self.keep_weights = False
        self.last_weights: torch.Tensor | None = None  # (B, heads, T, T)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y, w = self.attn(x, x, x, need_weights=self.keep_weights, average_attn_weights=False)
        if self.keep_weights:
            self.last_weights = w.detach()
        return y


class PositionalEncoding(nn.Module):
    """Adds the sine/cosine position code of 'Attention is all you need' to a (B, T, E) sequence."""

    def __init__(self, seq_len: int, embed_dim: int) -> None:
        super().__init__()
        pos = torch.arange(seq_len).unsqueeze(1)  # (T, 1)
        freq = torch.exp(torch.arange(0, embed_dim, 2) * (-math.log(10000.0) / embed_dim))
        pe = torch.zeros(seq_len, embed_dim)
        pe[:, 0::2] = torch.sin(pos * freq)
        pe[:, 1::2] = torch.cos(pos * freq[: embed_dim // 2])
        self.register_buffer("pe", pe, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.pe


class Network(nn.Sequential):
    """The model a spec describes: its layers in order, each a torch module."""


class Residual(nn.Module):
    """A residual block: output = input + layers(input). When the layers change the input's shape, `skip` (a 1×1
    Conv2d for images, a Linear for vectors) carries the input into the new shape first."""

    def __init__(self, body: nn.Sequential, skip: nn.Module | None = None) -> None:
        super().__init__()
        self.body = body
        self.skip = skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x) + (x if self.skip is None else self.skip(x))


class Parallel(nn.Module):
    """Branches that all read the same input (an empty branch passes it on unchanged), their outputs merged:
    concatenated along `dim` (an image's channels, a vector's features), added, or multiplied."""

    def __init__(self, branches: list[nn.Sequential], merge: str = "concat", dim: int = 1) -> None:
        super().__init__()
        self.branches = nn.ModuleList(branches)
        self.merge = merge
        self.dim = dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outs = [branch(x) for branch in self.branches]
        if self.merge == "concat":
            return torch.cat(outs, self.dim)
        out = outs[0]
        for o in outs[1:]:
            out = out + o if self.merge == "add" else out * o
        return out


class Select(nn.Module):
    """Keeps some columns of its input along `dim` (a vector's features, an image's channels): the start of a
    tower that reads one field of a multi-field input."""

    def __init__(self, columns: list[int], dim: int = 1) -> None:
        super().__init__()
        self.columns = list(columns)
        self.dim = dim
        self.register_buffer("index", torch.tensor(self.columns, dtype=torch.long), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.index_select(self.dim, self.index)


BLOCK_MODULES = (Residual, Parallel)


def layers_in(model: nn.Module, prefix: tuple[int, ...] = ()) -> list[tuple[tuple[int, ...], nn.Module]]:
    """(path, module) of every layer of a built model, blocks and the layers inside them, in the spec's order
    (a block before its layers). A path counts as the spec does: 0-based, block by block, a Parallel's branch
    one step ((2, 0, 1): layer 3, branch 1, its 2nd layer)."""
    out = []
    top = model if isinstance(model, nn.Sequential) else list(model.children())
    for i, m in enumerate(top):
        path = (*prefix, i)
        out.append((path, m))
        if isinstance(m, Residual):
            out += layers_in(m.body, path)
        elif isinstance(m, Parallel):
            for b, branch in enumerate(m.branches):
                out += layers_in(branch, (*path, b))
    return out


def module_at(top, path: tuple[int, ...]) -> nn.Module:
    """The module at a layer path, in a built model (or its list of top-level modules)."""
    m, k = top[path[0]], 1
    while k < len(path):
        if isinstance(m, Residual):
            m, k = m.body[path[k]], k + 1
        elif isinstance(m, Parallel):
            m, k = m.branches[path[k]][path[k + 1]], k + 2
        else:
            raise IndexError(f"layer {label(path[:k])} holds no layers")
    return m


def label(path: tuple[int, ...]) -> str:
    """'3.2.1': a layer path as users count (1-based, block by block)."""
    return ".".join(str(i + 1) for i in path)
