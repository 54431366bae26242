"""Which of a worker's runs train as one stack: runs of one `key` join a stack between two epochs, a run that
leaves is taken out, and a stack left with one run that has no partner in sight gives that run back to plain
training (a stack of one is slower than the run alone)."""

from __future__ import annotations

from .key import key
from .model import Stack

MAX_RUNS = 64  # runs in one stack: beyond this a step's batch would be larger than a worker should hold


class Stacking:
    """A worker's stacks, by key. `runs` is the worker's dict of runs (each with .id, .trainer, .group, .mode,
    .stack and .key attributes), read, never changed here except for .stack and .key."""

    def __init__(self, runs: dict, enabled: bool = True) -> None:
        self.runs, self.enabled = runs, enabled
        self.stacks: dict[tuple, Stack] = {}

    def consider(self, run) -> bool:
        """Called for a new run and at each epoch end of an unstacked one: put it in its key's stack when it
        has company (a stack, or another run of its key training alone); True when it is now stacked."""
        if not self.enabled or run.stack is not None:
            return False
        if run.key is False:  # not computed yet
            run.key = key(run.trainer, run.group)
        tr = run.trainer
        if run.key is None or tr._pos < tr.n:
            return False
        stack = self.stacks.get(run.key)
        if stack is None:
            partners = [r for r in self.runs.values() if r is not run and r.key == run.key and r.stack is None]
            if not partners:
                return False
            # those between epochs too (runs started together) join now; the others at their epoch's end
            joining = [run] + [r for r in partners if r.trainer._pos >= r.trainer.n][:MAX_RUNS - 1]
            stack = self.stacks[run.key] = Stack([(r.id, r.trainer) for r in joining])
        elif len(stack) >= MAX_RUNS:
            return False
        else:
            stack.add(run.id, tr)
            joining = [run]
        for r in joining:
            r.stack = stack
            stack.set_active(r.id, r.mode != "paused")
        return True

    def leave(self, run) -> None:
        """Take `run` out of its stack (its trainer gets its weights and state back)."""
        stack, run.stack = run.stack, None
        if stack is None:
            return
        stack.remove(run.id)
        if not len(stack):
            self.stacks.pop(stack.key, None)

    def settle(self, stack: Stack) -> None:
        """After a stack's epoch ends: a lone run between epochs with no partner in sight trains alone again."""
        if len(stack) != 1 or stack.pos[0] < stack.n:
            return
        run = self.runs.get(stack.ids[0])
        if run is None:
            return
        if any(r is not run and r.key == run.key and r.stack is None for r in self.runs.values()):
            return  # a partner will join at its own epoch's end
        self.leave(run)
