"""backends/ray_actors.py without a cluster: commands taken in the order they were numbered, events coalesced
and batched, and the hub's pulls."""

from __future__ import annotations

import asyncio
import queue
import sys
import threading
import types

import pytest

from playground.backends import ray_actors
from playground.backends.ray_actors import EventHub, Inbox, Outbox, TrainerActor


def test_the_inbox_hands_commands_out_in_the_order_they_were_numbered():
    inbox = Inbox()
    inbox.put(1, ("resume", "j"))  # arrived first, sent second: held back
    with pytest.raises(queue.Empty):
        inbox.get_nowait()
    with pytest.raises(queue.Empty):
        inbox.get(timeout=0)
    inbox.put(0, ("pause", "j"))
    inbox.put(2, ("stop", "j"))
    assert [inbox.get_nowait() for _ in range(3)] == [("pause", "j"), ("resume", "j"), ("stop", "j")]


def test_a_waiting_get_wakes_for_the_next_command():
    inbox, got = Inbox(), []
    reader = threading.Thread(target=lambda: got.append(inbox.get(timeout=60)))
    reader.start()
    inbox.put(0, ("quit",))
    reader.join(60)
    assert got == [("quit",)]


def ev(job: str, kind: str, **payload) -> dict:
    return {"job": job, "type": kind, **payload}


def test_the_outbox_keeps_only_the_newest_unsent_progress_and_view_of_each_job():
    out = Outbox()
    out.send(ev("a", "progress", progress={"steps": 1}))
    out.send(ev("a", "metrics", metrics={"epoch": 1}))
    out.send(ev("b", "progress", progress={"steps": 7}))
    out.send(ev("a", "view", name="grid2d", data=1))
    out.send(ev("a", "progress", progress={"steps": 2}))
    out.send(ev("a", "view", name="grid2d", data=2))
    items, urgent = out.take(not_before=0.0)
    assert not urgent
    assert items == [ev("a", "metrics", metrics={"epoch": 1}), ev("b", "progress", progress={"steps": 7}),
                     ev("a", "progress", progress={"steps": 2}), ev("a", "view", name="grid2d", data=2)]
    assert out.take(not_before=0.0, timeout=0.0) == ([], False)  # taken once


def test_a_state_change_leaves_at_once_and_metrics_wait_for_their_turn():
    out = Outbox()
    out.send(ev("a", "metrics", metrics={"epoch": 1}))
    out.send(ev("a", "state", state="paused"))
    never = float("inf")  # not due by the clock: only an urgent event lets a batch leave before its turn
    items, urgent = out.take(not_before=never, timeout=60)
    assert urgent and [e["type"] for e in items] == ["metrics", "state"]


def test_a_closed_outbox_hands_over_what_is_left():
    out = Outbox()
    out.send(ev("a", "metrics", metrics={"epoch": 1}))
    out.close()
    assert out.take(not_before=float("inf"), timeout=60) == ([ev("a", "metrics", metrics={"epoch": 1})], False)
    assert out.take(not_before=0.0, timeout=60) == ([], False)


def test_the_hub_returns_every_trainers_batches_in_arrival_order():
    async def scenario():
        hub = EventHub()
        assert await hub.pull(0.0, 0.0) == []
        await hub.push("a1", [ev("j1", "metrics", metrics={})], False)
        await hub.push("a2", [ev("j2", "state", state="running")], True)
        await hub.push("a1", [ev("j1", "progress", progress={})], False)
        first = await hub.pull(60.0, 60.0)  # urgent: at once, though the interval has not passed
        await hub.push("a2", [ev("j2", "state", state="done")], True)
        second = await hub.pull(60.0, 60.0)
        return first, second

    first, second = asyncio.run(scenario())
    assert [(k, [e["type"] for e in evs]) for k, evs in first] == [("a1", ["metrics"]), ("a2", ["state"]),
                                                                   ("a1", ["progress"])]
    assert second == [("a2", [ev("j2", "state", state="done")])]


def test_a_slow_push_does_not_lengthen_the_interval_between_batches(monkeypatch):
    """The flusher on a clock of its own: each push to the hub takes 0.5 s (a slow link), the interval is 0.1 s.
    The next batch is due 0.1 s after the previous one was taken, so pushes follow each other back to back
    (a push each 0.5 s) instead of one each 0.6 s."""
    clock = [100.0]
    monkeypatch.setattr(ray_actors, "time", types.SimpleNamespace(monotonic=lambda: clock[0]))
    fake_ray = types.ModuleType("ray")

    def get(ref):
        clock[0] += 0.5
        return ref
    fake_ray.get = get
    monkeypatch.setitem(sys.modules, "ray", fake_ray)
    hub = types.SimpleNamespace(push=types.SimpleNamespace(remote=lambda key, items, urgent: None))
    actor = TrainerActor.__new__(TrainerActor)  # without __init__: no flusher thread; this test runs _flush
    actor.key, actor.hub, actor.interval = "a1", hub, 0.1
    asked: list[float] = []
    batches = iter([[ev("a", "progress", steps=i)] for i in range(3)])

    class Outbox:
        closed = False

        def take(self, not_before, timeout=1.0):
            asked.append(round(not_before - clock[0], 6))  # how long after now the next batch may leave
            batch = next(batches, None)
            if batch is None:
                self.closed = True
                return [], False
            return batch, False
    actor.outbox = Outbox()
    actor._flush()
    assert asked[1:] == [-0.4, -0.4, -0.4]  # due 0.4 s ago when asked: no wait after a 0.5 s push
