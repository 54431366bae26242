"""What every trainer does with its own `train_step()` and `end_epoch()`: a whole epoch, and a run of epochs."""

from __future__ import annotations

from collections.abc import Iterator


class EpochLoop:
    """Epochs from batches: a trainer gives `train_step() -> bool` (True when it ended an epoch),
    `end_epoch() -> dict` (the epoch's metrics) and `spec` (its default number of epochs)."""

    def run_epoch(self) -> dict:
        """Train one whole epoch (or the rest of the current one) and return its metrics."""
        while not self.train_step():
            pass
        return self.end_epoch()

    def fit(self, epochs: int | None = None) -> Iterator[dict]:
        """Train for `epochs` (default: the spec's), yielding metrics after each epoch."""
        for _ in range(epochs if epochs is not None else self.spec.train.epochs):
            yield self.run_epoch()
