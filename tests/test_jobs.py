"""jobs.py with each backend: the same calls, events and limits whether jobs train in this host's worker processes
(`local`), on a Ray cluster started by this process (`ray`) or on a head node reached through Ray Client
(`ray-client`). One Ray cluster per backend for the whole module."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import multiprocessing as mp
import os
import re
import signal
import subprocess
import sys
import threading

import numpy as np
import pytest
import raycluster  # first: it sets the environment Ray reads when it is imported
import torch
from helpers import wait_until

import playground as pg
from playground.backends.local import LocalBackend
from playground.build import build
from playground.jobs import JobPool, JobRefused, Limits

TIMEOUT = 60  # generous: a fresh worker imports torch first

LAYERS = [{"type": "Linear", "out_features": 8}, {"type": "Tanh"}, {"type": "Linear", "out_features": 2}]


def spec(epochs: int = 3, **train) -> dict:
    """60 circle points: 48 to train on, 3 batches of 16 an epoch."""
    return {"data": {"name": "circle", "n_samples": 60, "seed": 1}, "model": {"layers": LAYERS},
            "train": {"epochs": epochs, "batch_size": 16, "device": "cpu", **train}}


def wait(job, predicate, timeout: float = TIMEOUT) -> None:
    assert job.wait_for(predicate, timeout), f"timed out: state={job.state} message={job.message!r}"


def settled(job) -> dict:
    """The job's progress as its worker has it now. A worker takes commands in order and a paused run takes
    no step until told, so pausing it again (a no-op) makes the worker report its true step count: wait for
    that report instead of sleeping and hoping that nothing changed meanwhile."""
    seen = job.version
    job.pause()
    wait(job, lambda: job.version >= seen + 2)  # its progress, then its state
    assert job.state == "paused"
    return job.progress


def idle(pool: JobPool) -> None:
    """Wait until no job is placed on a worker (the reader frees a finished job's place just after its event)."""
    wait_until(lambda: pool.running() == 0, TIMEOUT, "no job on a worker")


def finish(pool: JobPool) -> None:
    """Stop whatever a test left behind, so that the next test starts from an idle pool."""
    for job in pool.jobs():
        if not job.finished:
            job.stop()
            wait(job, lambda j=job: j.finished)
    idle(pool)


@pytest.fixture(scope="module")
def pool_threads():
    """The threads that ran before the pool started."""
    return set(threading.enumerate())


BACKENDS = ["local", "ray", pytest.param("ray-client", marks=pytest.mark.slow)]


@pytest.fixture(scope="module", params=BACKENDS)
def pool(request, pool_threads, tmp_path_factory):
    """A pool on each backend in turn; not niced: on a busy test machine niced trainers crawl. The Ray pools keep
    three idle actors warm, so that tests do not wait for actors to start."""
    if request.param == "local":
        p = JobPool(workers=2, nice=0)
        ever = {w.process for w in p.backend._workers}
        yield p
        ever |= {w.process for w in p.backend._workers}
        p.shutdown()
        assert not ever & set(mp.active_children())  # (other tests' pools, e.g. the app's, may live on)
        assert set(threading.enumerate()) <= pool_threads
        return
    from playground.backends.ray_cluster import RayBackend
    with contextlib.ExitStack() as stack:
        if request.param == "ray":
            stack.enter_context(raycluster.in_process())
            backend = RayBackend(spare=3)
        else:
            address, _ = stack.enter_context(raycluster.head_node(tmp_path_factory.mktemp("ray-head")))
            backend = RayBackend(address, spare=3)
            stack.callback(raycluster.need_ray().shutdown)  # disconnect (if the pool has not) before the head stops
        p = JobPool(backend=backend, nice=0)
        assert backend.connected(120), backend.lost
        yield p
        p.shutdown()
        assert not [t for t in threading.enumerate() if t.name.startswith("playground-")]


def kill_trainer(pool: JobPool, job) -> None:
    """End the process that trains `job` with SIGKILL, as the out-of-memory killer would."""
    if isinstance(pool.backend, LocalBackend):
        os.kill(pool.backend._workers[job.worker].process.pid, signal.SIGKILL)
    else:
        actor = pool.backend._actors[job.worker]
        os.kill(pool.backend.ray.get(actor.handle.pid.remote()), signal.SIGKILL)


def died(pool: JobPool) -> str:
    """What a job says when the process that trained it was killed."""
    if isinstance(pool.backend, LocalBackend):
        return r"the training process stopped unexpectedly \(exit code -9, e.g. out of memory\); start the run again"
    return r"the trainer on the Ray cluster stopped unexpectedly \(.+\); start the run again"


@pytest.fixture
def jobs(pool):
    yield pool
    finish(pool)


@pytest.mark.slow  # starts worker processes
def test_start_to_done_with_metrics(jobs):
    job = jobs.submit(spec(3), owner="t-done")
    assert job.wait(TIMEOUT), job.state
    assert job.state == "done" and job.message == ""
    assert [m["epoch"] for m in job.metrics] == [1, 2, 3]
    assert {"train_loss", "val_loss", "val_accuracy", "seconds"} <= set(job.metrics[-1])
    assert job.info["params"] == 2 * 8 + 8 + 8 * 2 + 2 and job.info["steps_per_epoch"] == 3
    assert job.info["device"] == "CPU" and job.info["train_samples"] == 48
    assert job.progress["steps"] == 9 and job.progress["epoch"] == 3
    assert job.report["kind"] == "confusion" and np.array(job.report["matrix"]).sum() == 12
    events, cursor = job.events_since(0)
    assert events == job.metrics and cursor == 3 and job.events_since(3) == ([], 3)
    assert json.loads(json.dumps(job.public()))["state"] == "done"
    assert jobs.get(job.id) is job and job in jobs.jobs("t-done")


def test_metrics_match_a_local_run(jobs):
    # the worker runs the same Trainer: same seed, same losses as training here
    job = jobs.submit(spec(2), owner="t-same")
    assert job.wait(TIMEOUT) and job.state == "done"
    local = list(pg.Trainer(pg.from_dict(spec(2))).fit())
    strip = lambda ms: [{k: v for k, v in m.items() if k != "seconds"} for m in ms]
    assert len(job.metrics) == len(local) == 2
    for remote, here in zip(strip(job.metrics), strip(local), strict=True):
        assert remote == pytest.approx(here)


def test_pause_step_resume(jobs):
    job = jobs.submit(spec(3), owner="t-step", paused=True)
    wait(job, lambda: job.state == "paused" and job.info.get("steps_per_epoch") == 3)
    assert settled(job)["steps"] == 0 and job.metrics == []  # paused from the start
    for n in (1, 2):
        job.step("batch")
        wait(job, lambda n=n: job.progress.get("steps") == n and job.state == "paused")
        assert job.progress["batch"] == n
    assert settled(job)["steps"] == 2  # exactly one batch a step
    job.step("epoch")  # finishes the current epoch, then pauses
    wait(job, lambda: len(job.metrics) == 1 and job.state == "paused")
    assert job.progress["steps"] == 3 and job.progress["epoch"] == 1
    job.step("epoch")
    wait(job, lambda: len(job.metrics) == 2 and job.state == "paused")
    assert settled(job)["steps"] == 6 and len(job.metrics) == 2
    job.resume()
    assert job.wait(TIMEOUT) and job.state == "done"
    assert [m["steps"] for m in job.metrics] == [3, 6, 9]


def test_pause_a_running_job_and_stop_it(jobs):
    job = jobs.submit(spec(5000), owner="t-stop")
    wait(job, lambda: job.state == "running" and len(job.metrics) >= 1)
    job.pause()
    wait(job, lambda: job.state == "paused")
    steps = settled(job)["steps"]
    assert settled(job)["steps"] == steps  # no step between two reports of the worker
    job.resume()
    wait(job, lambda: job.state == "running" and job.progress["steps"] > steps)
    job.stop()
    assert job.wait(TIMEOUT)
    assert job.state == "stopped" and job.message == "stopped by the user"
    assert len(job.metrics) < 5000


def test_a_stop_can_say_why(jobs):
    """A run stopped for a reason other than a click says so (e.g. its page was closed)."""
    running = jobs.submit(spec(5000), owner="t-why")
    waiting = jobs.submit(spec(5000), owner="t-why", paused=True)
    wait(running, lambda: running.state == "running")
    running.stop("its page was closed")
    waiting.stop("its page was closed")
    assert running.wait(TIMEOUT) and waiting.wait(TIMEOUT)
    assert (running.state, running.message) == ("stopped", "its page was closed")
    assert (waiting.state, waiting.message) == ("stopped", "its page was closed")


def test_snapshot_returns_the_models_weights(jobs):
    job = jobs.submit(spec(3), owner="t-snap", paused=True)
    wait(job, lambda: job.state == "paused")
    first = job.snapshot()
    expected = build(pg.from_dict(spec()), pg.load(pg.from_dict(spec()).data).info).state_dict()
    assert list(first) == list(expected)
    for k, v in first.items():
        assert isinstance(v, np.ndarray) and v.shape == tuple(expected[k].shape)
    # the same seed builds the same initial weights in the worker as here
    torch.manual_seed(0)
    here = pg.Trainer(pg.from_dict(spec())).model.state_dict()
    assert all(np.array_equal(first[k], here[k].numpy()) for k in first)
    job.step("batch")
    wait(job, lambda: job.progress.get("steps") == 1 and job.state == "paused")
    second = job.snapshot()
    assert not np.array_equal(first["0.weight"], second["0.weight"])
    job.stop()
    assert job.wait(TIMEOUT)


def test_a_run_can_bring_its_final_weights_back(jobs):
    job = jobs.submit(spec(2), owner="t-final", final_weights=True)
    assert job.wait(TIMEOUT) and job.state == "done"
    trainer = pg.Trainer(pg.from_dict(spec(2)))
    list(trainer.fit())
    final = job.snapshot(timeout=0)  # no request: it came with the end of the run
    assert final is not None and all(np.array_equal(final[k], v.numpy()) for k, v in trainer.model.state_dict().items())


def test_limits_refuse_with_messages(jobs, monkeypatch):
    with pytest.raises(JobRefused, match="^6000 epochs asked for; this server allows at most 5000 a run$"):
        jobs.submit(spec(), epochs=6000)
    monkeypatch.setattr(jobs, "limits", Limits(max_params=50))
    with pytest.raises(JobRefused, match="the model has 136 parameters; this server allows at most 50") as e:
        jobs.submit({**spec(), "model": {"layers": [{"type": "Linear", "out_features": 10}, *LAYERS]}})
    assert e.value.path == "model.layers"
    monkeypatch.setattr(jobs, "limits", Limits(jobs_per_owner=2))
    mine = [jobs.submit(spec(), owner="alice", paused=True) for _ in range(2)]
    with pytest.raises(JobRefused, match=r"you already have 2 runs going \(the limit is 2\); stop one first"):
        jobs.submit(spec(), owner="alice")
    other = jobs.submit(spec(), owner="bob", paused=True)  # the limit is per owner
    mine[0].stop()
    assert mine[0].wait(TIMEOUT)
    mine.append(jobs.submit(spec(), owner="alice", paused=True))  # room again
    for job in [*mine, other]:
        job.stop()
        assert job.wait(TIMEOUT)
    assert len(jobs.jobs("alice")) == 3


def test_max_running_queues_the_second_job(jobs, monkeypatch):
    idle(jobs)
    monkeypatch.setattr(jobs, "limits", Limits(max_running=1))
    first = jobs.submit(spec(2), owner="t-queue", paused=True)
    second = jobs.submit(spec(2), owner="t-queue")
    third = jobs.submit(spec(2), owner="t-queue")
    assert (first.queue_position, second.queue_position, third.queue_position) == (None, 1, 2)
    # a handle is found by identity: its metrics and statistics (arrays) are never compared
    second.stats.append({"layers": [{"weight_hist": {"counts": np.zeros(30)}}]})
    assert second != dataclasses.replace(second) and third.queue_position == 2
    assert jobs.stats()["queued"] == 2 and jobs.stats()["running"] == 1
    third.stop()
    assert third.state == "stopped" and third.message == "stopped before it started"
    wait(first, lambda: first.state == "paused")
    settled(first)  # every event of the first has reached the pool, which places waiting jobs on events
    assert second.state == "queued" and second.public()["queue_position"] == 1  # waits while the first is paused
    first.resume()
    assert first.wait(TIMEOUT) and first.state == "done"
    assert second.wait(TIMEOUT) and second.state == "done"
    assert second.queue_position is None and len(second.metrics) == 2
    assert second.created >= first.created


def test_invalid_specs_are_refused_at_submit(jobs):
    with pytest.raises(pg.SpecError, match="^train.epochs"):
        jobs.submit({**spec(), "train": {"epochs": 0}})
    with pytest.raises(pg.BuildError, match=r"^layer 1 \(Conv2d\)"):
        jobs.submit({**spec(), "model": {"layers": [{"type": "Conv2d"}]}})
    with pytest.raises(pg.PlaygroundError, match="unknown option 'nosie'"):
        jobs.submit({**spec(), "data": {"name": "circle", "nosie": 0.1}})


def test_a_failing_job_fails_with_a_message_and_the_worker_goes_on(jobs):
    bad = {**spec(50, loss="mse", optimizer={"type": "SGD", "lr": 10}),
           "data": {"name": "plane", "n_samples": 60},
           "model": {"layers": [{"type": "Linear", "out_features": 16}, {"type": "Linear", "out_features": 1}]}}
    job = jobs.submit(bad, owner="t-fail")
    assert job.wait(TIMEOUT)
    assert job.state == "failed" and "learning rate" in job.message and job.message.startswith("epoch ")
    if isinstance(jobs.backend, LocalBackend):
        assert all(w.process.is_alive() for w in jobs.backend._workers)
    again = jobs.submit(spec(1), owner="t-fail")
    assert again.wait(TIMEOUT) and again.state == "done"


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA GPU")
def test_a_job_that_cannot_start_fails_with_a_message(jobs):
    job = jobs.submit(spec(1, device="cuda"), owner="t-cuda")
    assert job.wait(TIMEOUT)
    assert job.state == "failed" and job.message.startswith("train.device: cuda was asked for")
    again = jobs.submit(spec(1), owner="t-cuda")
    assert again.wait(TIMEOUT) and again.state == "done"


def test_views_deliver_grid2d(jobs):
    job = jobs.submit(spec(2), owner="t-view", views={"grid2d": {"res": 16}})
    assert job.wait(TIMEOUT) and job.state == "done"
    view = job.views["grid2d"]
    assert view["res"] == 16 and view["surface"].shape == (16, 16, 2) and view["epoch"] == 2
    assert [n.shape for n in view["neurons"]] == [(8, 16, 16)]


def test_a_group_trains_in_lock_step_on_one_worker(jobs):
    a, b = jobs.submit_group([spec(4), spec(4)], owner="t-ab")
    c, d = jobs.submit_group([spec(4), spec(4, optimizer={"type": "SGD", "lr": 0.5})], owner="t-ab2")
    for job in (a, b, c, d):
        assert job.wait(TIMEOUT) and job.state == "done", job.message
    assert a.group == b.group and a.worker == b.worker and c.worker == d.worker
    # identical setups in lock-step: identical data, seed, initial weights, hence identical curves
    assert [m["val_loss"] for m in a.metrics] == [m["val_loss"] for m in b.metrics]
    assert [m["val_loss"] for m in c.metrics] != [m["val_loss"] for m in d.metrics]
    assert c.metrics[0]["steps"] == d.metrics[0]["steps"] == 3


def test_a_group_counts_against_the_owner_limit(jobs, monkeypatch):
    monkeypatch.setattr(jobs.limits, "jobs_per_owner", 1)
    with pytest.raises(JobRefused, match="runs going"):
        jobs.submit_group([spec(2), spec(2)], owner="t-ab3")


@pytest.mark.slow  # starts worker processes
def test_a_killed_trainer_fails_its_job_and_the_backend_goes_on(jobs):
    """A worker process or a Ray actor killed mid-run (out of memory, say) fails its job with a message; the
    backend replaces it, and new jobs train."""
    job = jobs.submit(spec(5000), owner="t-kill")
    wait(job, lambda: job.state == "running" and len(job.metrics) >= 1)
    place = job.worker
    local = isinstance(jobs.backend, LocalBackend)
    old = jobs.backend._workers[place].process if local else None  # before the kill: it may be replaced at once
    kill_trainer(jobs, job)
    assert job.wait(TIMEOUT)
    assert job.state == "failed" and re.fullmatch(died(jobs), job.message), job.message
    if local:
        wait_until(lambda: jobs.backend._workers[place].process is not old, TIMEOUT, "the reader to replace it")
        old.join(5)
    else:
        wait_until(lambda: place not in jobs.backend._actors, TIMEOUT, "the backend to drop the dead actor")
    # two jobs at once: on the local backend both workers (the replacement included) take one
    idle(jobs)
    fresh = [jobs.submit(spec(1), owner="t-kill") for _ in range(2)]
    for j in fresh:
        assert j.wait(TIMEOUT) and j.state == "done", j.message
    if local:  # the replacement works under the dead worker's number
        assert {j.worker for j in fresh} == {0, 1}
    else:  # a new actor, under a new name
        assert place not in {j.worker for j in fresh}


def test_killing_a_chatty_trainer_leaves_the_other_working(jobs):
    # a trainer killed mid-message must only break its own jobs' events, never the pool's
    a = jobs.submit(spec(5000), owner="t-k1", views={"grid2d": {"res": 48}})
    b = jobs.submit(spec(5000), owner="t-k2")
    for job in (a, b):
        wait(job, lambda j=job: j.state == "running" and len(j.metrics) >= 1)
    assert a.worker != b.worker
    kill_trainer(jobs, a)
    wait(a, lambda: a.state == "failed")
    seen = len(b.metrics)
    wait(b, lambda: len(b.metrics) > seen + 3)  # b's events still flow
    assert b.snapshot() is b.snapshot()  # while it trains, back-to-back snapshots are one request
    b.stop()
    wait(b, lambda: b.finished)


ORPHAN = """
import os, signal
from playground.jobs import JobPool
if __name__ == "__main__":
    pool = JobPool(workers=1, nice=0)
    job = pool.submit({spec!r})
    assert job.wait_for(lambda: job.state == "running", {timeout})
    print(pool.backend._workers[0].process.pid, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)  # the app dies without shutting its pool down
"""


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as f:
            return any(line.split()[:2] == ["State:", "Z"] for line in f)  # a zombie has exited
    except FileNotFoundError:
        return True


@pytest.mark.slow
def test_tune_changes_the_learning_rate_of_a_running_job(jobs):
    job = jobs.submit(spec(200, optimizer={"type": "SGD", "lr": 0.1}), owner="t-tune", paused=True)
    wait(job, lambda: job.state == "paused")
    job.step("epoch")
    wait(job, lambda: len(job.metrics) == 1 and job.state == "paused")
    job.tune(lr=0.02)
    assert job.spec["train"]["optimizer"]["lr"] == 0.02
    job.step("epoch")
    wait(job, lambda: len(job.metrics) == 2 and job.state == "paused")
    assert [m["lr"] for m in job.metrics] == [0.1, 0.02]
    with pytest.raises(pg.PlaygroundError, match="cannot change batch_size"):
        job.tune(batch_size=3)
    job.stop()
    assert job.wait(TIMEOUT)


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads /proc")
def test_workers_exit_when_the_app_is_killed(tmp_path):
    script = tmp_path / "app.py"
    script.write_text(ORPHAN.format(spec=spec(5000), timeout=TIMEOUT))
    out = tmp_path / "out.txt"
    with open(out, "w") as f:  # a file, not a pipe: a lingering worker would hold a pipe open
        code = subprocess.run([sys.executable, str(script)], stdout=f, stderr=subprocess.STDOUT,
                              timeout=2 * TIMEOUT).returncode
    assert code == -signal.SIGKILL, out.read_text()
    pid = int(out.read_text().split()[0])
    try:
        wait_until(lambda: _gone(pid), 15, "the worker to exit with the app that started it")
    finally:
        if not _gone(pid):
            os.kill(pid, signal.SIGKILL)


def test_the_memory_attack_is_refused_at_submit_naming_the_layer(jobs):
    # 8 parameters that ask for 34 GB a batch: refused before any worker sees it
    attack = {"data": {"name": "shapes", "size": 64, "n_samples": 200},
              "model": {"layers": [{"type": "Upsample", "scale_factor": 16}, {"type": "Upsample", "scale_factor": 16},
                                   {"type": "Conv2d", "out_channels": 1, "kernel_size": 1},
                                   {"type": "AdaptiveAvgPool2d", "output_size": 1}, {"type": "Flatten"},
                                   {"type": "Linear", "out_features": 3}]},
              "train": {"batch_size": 32, "device": "cpu"}}
    before = len(jobs.jobs())
    with pytest.raises(JobRefused, match=r"^layer 2 \(Upsample\): output 1×16384×16384 per sample"):
        jobs.submit(attack, owner="t-mem")
    big_data = dict(spec(), data={"name": "shapes", "n_samples": 20000, "size": 64},
                    model={"layers": [{"type": "Flatten"}, {"type": "Linear", "out_features": 3}]})
    with pytest.raises(JobRefused, match="this server allows 64 MB a dataset"):
        jobs.submit(big_data, owner="t-mem")
    assert len(jobs.jobs()) == before


def test_the_memory_cap_is_a_limit_the_host_sets(jobs, monkeypatch):
    monkeypatch.setattr(jobs, "limits", dataclasses.replace(jobs.limits, max_memory_mb=1))
    with pytest.raises(JobRefused, match=r"^data: building the dataset takes about 7.1 MB \(it holds 2.4 MB\); this "
                                         "run needs about .* over this server's 1.0 MB a run"):
        jobs.submit(dict(spec(), data={"name": "shapes"},  # 2.5 MB of images
                         model={"layers": [{"type": "Flatten"}, {"type": "Linear", "out_features": 3}]}))


def test_jobs_wait_while_running_ones_hold_the_memory_budget(jobs, monkeypatch):
    # each job's estimate counts while it is on a worker (paused too); past the budget, later jobs queue
    first = jobs.submit(spec(50), owner="t-budget-a", paused=True)
    wait(first, lambda: first.state == "paused")
    assert first.memory > 0 and jobs.memory_in_use() == first.memory
    budget = first.memory * 1.5 / 2**20  # room for one more of the same, not for two
    monkeypatch.setattr(jobs, "limits", dataclasses.replace(jobs.limits, max_total_memory_mb=budget))
    second = jobs.submit(spec(2), owner="t-budget-b")
    assert second.state == "queued" and second.queue_position == 1
    first.stop()
    assert second.wait(TIMEOUT) and second.state == "done"


def test_finished_jobs_keep_weights_within_a_byte_budget(jobs, monkeypatch):
    old, new = (jobs.submit(spec(3), owner=f"t-keep-{i}", track={"checkpoints": 3}) for i in range(2))
    for job in (old, new):
        assert job.wait(TIMEOUT) and job.state == "done"
    size = new.kept_bytes()
    assert size > 0 and old.kept_bytes() == size
    monkeypatch.setattr(jobs, "limits", dataclasses.replace(jobs.limits, keep_weights_mb=1.5 * size / 2**20))
    with jobs._lock:
        jobs._prune()
    assert new.checkpoints() and old.checkpoints() is None  # the older run gave its weights up
    assert old.metrics and old.report  # its figures stay


def test_an_upload_trains_for_its_owner_and_is_refused_to_anyone_else(jobs):
    from playground.uploads import ANOTHER_SESSION
    raw = b"a,b,kind\n" + b"".join(f"{i},{i % 3},{'x' if i % 2 else 'y'}\n".encode() for i in range(40))
    upload = jobs.store.put(raw, "t-owner", "mine.csv")
    mine = dict(spec(2), data={"name": "csv", "upload": upload, "target": "kind"})
    with pytest.raises(pg.PlaygroundError) as e:
        jobs.submit(mine, owner="t-stranger")
    assert e.value.message == ANOTHER_SESSION
    job = jobs.submit(mine, owner="t-owner")  # the worker gets the bytes, the spec keeps only the id
    assert job.wait(TIMEOUT) and job.state == "done", job.message
    assert job.spec["data"] == mine["data"] and job.info["train_samples"] == 32
    with pytest.raises(pg.PlaygroundError, match="cannot read files on the server"):
        jobs.submit(dict(spec(), data={"name": "csv", "file": "/dev/zero"}), owner="t-owner")


def test_an_upload_that_expires_while_its_job_waits_fails_the_job(jobs, monkeypatch):
    raw = b"a,kind\n" + b"".join(f"{i},{'x' if i % 2 else 'y'}\n".encode() for i in range(20))
    upload = jobs.store.put(raw, "t-wait", "w.csv")
    monkeypatch.setattr(jobs, "limits", dataclasses.replace(jobs.limits, max_running=0))
    job = jobs.submit(dict(spec(), data={"name": "csv", "upload": upload}), owner="t-wait")
    assert job.state == "queued"
    jobs.store.forget("t-wait")
    monkeypatch.setattr(jobs, "limits", dataclasses.replace(jobs.limits, max_running=32))
    with jobs._lock:
        jobs._dispatch()
    assert job.state == "failed" and "upload it again" in job.message


def trainer_pids(pool: JobPool) -> set[int]:
    """The process ids of the pool's trainers: its worker processes, or its actors' (all on this machine here)."""
    if isinstance(pool.backend, LocalBackend):
        return {w.process.pid for w in pool.backend._workers}
    ray = pool.backend.ray
    return set(ray.get([a.handle.pid.remote() for a in pool.backend._actors.values()]))


# Last in this file: it shuts the shared pool down (the fixture's own shutdown is then a no-op).
@pytest.mark.slow
def test_shutdown_leaves_no_process_or_thread(pool, pool_threads):
    running = pool.submit(spec(5000), owner="t-end")
    paused = pool.submit(spec(5000), owner="t-end", paused=True)
    wait(running, lambda: running.state == "running")
    pool.limits = Limits(max_running=2)
    waiting = pool.submit(spec(5000), owner="t-end")
    assert waiting.state == "queued"
    pids = trainer_pids(pool)
    assert len(pids) >= 2 and not any(_gone(pid) for pid in pids)
    pool.shutdown()
    wait_until(lambda: all(_gone(pid) for pid in pids), TIMEOUT, "every trainer process to end")
    if isinstance(pool.backend, LocalBackend):
        assert all(w.process.exitcode is not None for w in pool.backend._workers)
        assert set(threading.enumerate()) == pool_threads  # the reader and the queue feeders are gone
    else:  # Ray's own threads belong to the cluster the test started; the pool's reader is gone
        assert pool.backend.workers() == 0
        assert not [t for t in threading.enumerate() if t.name.startswith("playground-")]
    for job in (running, paused, waiting):
        assert job.state == "stopped" and job.message == "the server shut down"
    with pytest.raises(JobRefused, match="shutting down"):
        pool.submit(spec())
    pool.shutdown()  # twice is harmless
