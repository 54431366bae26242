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
