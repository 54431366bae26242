"""backends/ray_cluster.py against a real head node (`ray start --head` on 127.0.0.1, one GPU declared, reached
through Ray Client): GPU shares, jobs packed per actor, the command line and the app's pool on Ray, a cluster that
cannot be reached, and (last) a cluster lost under running jobs. tests/test_jobs.py runs the whole job interface
on this backend too."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import types

import pytest
import raycluster  # first: it sets the environment Ray reads when it is imported
from helpers import ROOT, wait_until

import playground as pg
from playground import backends, presets
from playground.backends.ray_cluster import RayBackend, init
from playground.jobs import JobPool, JobRefused
from playground.runs import load_run

TIMEOUT = 120
LAYERS = [{"type": "Linear", "out_features": 8}, {"type": "Tanh"}, {"type": "Linear", "out_features": 2}]


def spec(epochs: int = 3, **train) -> dict:
    return {"data": {"name": "circle", "n_samples": 60, "seed": 1}, "model": {"layers": LAYERS},
            "train": {"epochs": epochs, "batch_size": 16, **train}}


def strip(metrics: list[dict]) -> list[dict]:
    return [{k: v for k, v in m.items() if k != "seconds"} for m in metrics]


@pytest.fixture(scope="module")
def head(tmp_path_factory):
    """A head node with 2 CPUs and one (declared) GPU; this process connects to it once for the module."""
    ray = raycluster.need_ray()
    with raycluster.head_node(tmp_path_factory.mktemp("ray-head"), num_cpus=2, num_gpus=1) as (address, proc):
        init(ray, address, log_to_driver=False)
        try:
            yield address, proc
        finally:
            ray.shutdown()


def ray_pool(address: str, **options) -> JobPool:
    backend = RayBackend(address, **options)
    pool = JobPool(backend=backend, nice=0)
    assert backend.connected(TIMEOUT), backend.lost
    return pool


def test_settings_come_from_the_environment():
    assert backends.settings({}) == backends.Settings()
    s = backends.settings({"PLAYGROUND_BACKEND": "Ray", "RAY_ADDRESS": "ray://gpu-box:10001",
                           "PLAYGROUND_RAY_GPUS": "0.25", "PLAYGROUND_RAY_JOBS_PER_ACTOR": "4",
                           "PLAYGROUND_RAY_SPARE": "0", "PLAYGROUND_RAY_FALLBACK": "local"})
    assert s == backends.Settings("ray", "ray://gpu-box:10001", 0.25, 4, 0, "local")
    for env, message in [({"PLAYGROUND_BACKEND": "spark"}, "PLAYGROUND_BACKEND='spark': use one of local, ray"),
                         ({"PLAYGROUND_RAY_GPUS": "a quarter"}, "PLAYGROUND_RAY_GPUS='a quarter' is not a number"),
                         ({"PLAYGROUND_RAY_GPUS": "-1"}, "PLAYGROUND_RAY_GPUS=-1: use a value from 0.0 to 64.0"),
                         ({"PLAYGROUND_RAY_FALLBACK": "cloud"}, "PLAYGROUND_RAY_FALLBACK='cloud': use local")]:
        with pytest.raises(pg.PlaygroundError) as e:
            backends.settings(env)
        assert e.value.message.startswith(message)


class FlakyRay:
    """A stand-in for the ray module whose init fails as Ray Client's does: `failures` times, with `error`."""

    def __init__(self, failures: int, error: Exception) -> None:
        self.failures, self.error, self.calls = failures, error, []

    def init(self, address, **kwargs) -> None:
        self.calls.append("init")
        if len(self.calls) // 2 < self.failures:
            raise self.error

    def shutdown(self) -> None:
        self.calls.append("shutdown")


def test_connecting_tries_again_when_the_client_server_dies_as_it_starts():
    died = ConnectionAbortedError("Initialization failure from server: Starting Ray client server failed.")
    ray = FlakyRay(2, died)
    init(ray, "ray://gpu-box:10001", log_to_driver=False)
    assert ray.calls == ["init", "shutdown", "init", "shutdown", "init"]
    with pytest.raises(ConnectionAbortedError):  # not for ever
        init(FlakyRay(3, died), "ray://gpu-box:10001")
    silent = FlakyRay(1, ConnectionError("ray client connection timeout"))
    with pytest.raises(ConnectionError):  # nothing answers: no second wait
        init(silent, "ray://gpu-box:10001")
    assert silent.calls == ["init"]


class SlowRay:
    """A stand-in for the ray module whose `get` times out `slow` times before the hub's batch comes."""

    class exceptions:  # noqa: N801 (as ray.exceptions)
        class GetTimeoutError(Exception):
            pass

    def __init__(self, slow: int, backend) -> None:
        self.slow, self.backend, self.gets = slow, backend, 0

    def get(self, ref, timeout=None):
        self.gets += 1
        if self.gets <= self.slow:
            raise self.exceptions.GetTimeoutError("Get timed out: some object(s) not ready.")
        self.backend._closed = True  # one batch, then the reader ends
        return [("a1", [{"job": "j1", "type": "progress", "steps": 1}])]


class Pool:
    """The pool's side of what the reader calls."""

    def __init__(self) -> None:
        self._lock, self.delivered, self.failed = threading.RLock(), [], []

    def _deliver(self, events) -> None:
        self.delivered += events

    def _fail(self, ids, message) -> None:
        self.failed.append((ids, message))


def slow_backend(slow: int) -> tuple[RayBackend, SlowRay]:
    backend = RayBackend("ray://gpu-box:10001", timeout=0.01)
    backend.pool = Pool()
    backend._lock = backend.pool._lock
    backend.ray = SlowRay(slow, backend)
    backend.hub = types.SimpleNamespace(pull=types.SimpleNamespace(remote=lambda wait, interval: "ref"))
    return backend, backend.ray


def test_a_slow_pull_is_waited_for_and_only_a_long_silence_loses_the_cluster():
    from playground.backends.ray_cluster import SLOW_PULLS
    backend, ray = slow_backend(SLOW_PULLS - 1)  # slow, but answers in the end: nothing is lost
    backend._read()
    assert backend.lost is None and backend.pool.delivered == [{"job": "j1", "type": "progress", "steps": 1}]
    backend, ray = slow_backend(SLOW_PULLS)  # silent for that long: lost, with the reason
    backend._read()
    assert backend.lost == "the training cluster cannot be reached (Get timed out: some object(s) not ready.); " \
                           "try again later" and ray.gets == SLOW_PULLS


UNREACHABLE = """
import raycluster
from playground.backends.local import LocalBackend
from playground.backends.ray_cluster import RayBackend, init
from playground.jobs import JobPool, JobRefused

if __name__ == "__main__":
    spec = {spec!r}
    backend = RayBackend("ray://127.0.0.1:{port}")
    pool = JobPool(backend=backend, nice=0)
    assert not backend.connected(120)
    print("LOST", backend.lost, flush=True)
    try:
        pool.submit(spec, owner="a")
    except JobRefused as e:
        print("REFUSED", e.message, flush=True)
    pool.shutdown()
    pool = JobPool(backend=RayBackend("ray://127.0.0.1:{port}"), nice=0, fallback=lambda: LocalBackend(1))
    job = pool.submit(spec, owner="a")
    assert job.wait(120), job.state
    print("FALLBACK", pool.backend.name, job.state, len(job.metrics), flush=True)
    pool.shutdown()
"""


@pytest.mark.slow
def test_a_cluster_that_cannot_be_reached_refuses_jobs_with_the_reason_or_falls_back(tmp_path):
    """Nothing listens at the address: the app starts anyway (connecting happens in the background); new jobs
    are refused with the reason, or train on this host when PLAYGROUND_RAY_FALLBACK=local. In a process of its own:
    a process holds one Ray connection."""
    script = tmp_path / "unreachable.py"
    script.write_text(UNREACHABLE.format(spec=spec(2, device="cpu"), port=raycluster.free_port()))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "tests"), str(ROOT)])}
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300, env=env)
    lines = {line.split(" ", 1)[0]: line.split(" ", 1)[1] for line in out.stdout.splitlines() if " " in line}
    assert out.returncode == 0, out.stderr[-3000:]
    assert lines["LOST"].startswith("the training cluster cannot be reached (")
    assert lines["REFUSED"] == lines["LOST"]
    assert lines["FALLBACK"] == "local done 2"


def test_a_trainer_asks_for_a_gpu_share_and_a_cpu_run_for_none(head):
    ray = raycluster.need_ray()
    address, _ = head
    pool = ray_pool(address, gpus=0.25, spare=0)
    try:
        assert pool.backend.has_gpu and pool.backend.capacity() == 4  # four quarter-GPU trainers fit
        a, b = (pool.submit(spec(50), owner=f"gpu{i}", paused=True) for i in range(2))
        c = pool.submit(spec(50, device="cpu"), owner="cpu", paused=True)
        for job in (a, b, c):
            assert job.wait_for(lambda j=job: j.state == "paused", TIMEOUT), job.message
        actors = pool.backend._actors
        assert [actors[j.worker].gpu for j in (a, b, c)] == [True, True, False]
        wait_until(lambda: ray.available_resources().get("GPU") == 0.5, TIMEOUT, "two quarters of the GPU in use")
        assert a.info["device"] == "CPU"  # a declared GPU, not a real one: "auto" trains on the CPU here
        for job in (a, b, c):
            job.stop()
            assert job.wait(TIMEOUT)
        wait_until(lambda: ray.available_resources().get("GPU") == 1.0, TIMEOUT, "the GPU to be free again")
    finally:
        pool.shutdown()


def test_jobs_share_an_actor_when_configured_and_train_as_locally(head):
    address, _ = head
    pool = ray_pool(address, jobs_per_actor=2, spare=0, gpus=0)
    try:
        a, b = (pool.submit(spec(3, device="cpu"), owner=f"pack{i}") for i in range(2))
        for job in (a, b):
            assert job.wait(TIMEOUT) and job.state == "done", job.message
        assert a.worker == b.worker
        local = list(pg.Trainer(pg.from_dict(spec(3, device="cpu"))).fit())
        assert strip(a.metrics) == strip(b.metrics) and len(local) == 3
        for remote, here in zip(strip(a.metrics), strip(local), strict=True):
            assert remote == pytest.approx(here)
    finally:
        pool.shutdown()


def test_the_app_pool_follows_the_environment(head, monkeypatch):
    from ui import server
    address, _ = head
    monkeypatch.setenv("PLAYGROUND_BACKEND", "ray")
    monkeypatch.setenv("RAY_ADDRESS", address)
    monkeypatch.setenv("PLAYGROUND_RAY_SPARE", "0")
    monkeypatch.setattr(server._STATE, "pool", None)
    pool = server.pool()
    try:
        assert pool.backend.name == "ray" and pool.backend.connected(TIMEOUT)
        job = pool.submit(spec(2, device="cpu"), owner="app")
        assert job.wait(TIMEOUT) and job.state == "done" and pool.stats()["backend"] == "ray"
    finally:
        pool.shutdown()


def app_runs(monkeypatch, env: dict, epochs: int) -> dict[str, list[dict]]:
    """Every preset as the Train page starts it (the app's pool from the environment, the page's tracking), each
    its own session's, for `epochs` epochs: the metrics of each, stopped on failure."""
    from ui import server
    from ui.views.runner import TRACK
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(server._STATE, "pool", None)
    pool = server.pool()
    try:
        jobs = {name: pool.submit(presets.get(name), owner=f"session-{name}", epochs=epochs, track=TRACK)
                for name in presets.names()}
        for name, job in jobs.items():
            assert job.wait(TIMEOUT * 3) and job.state == "done", f"{name}: {job.state} {job.message}"
        return {name: strip(job.metrics) for name, job in jobs.items()}
    finally:
        pool.shutdown()


@pytest.mark.slow
@pytest.mark.timeout(900)  # fourteen runs on each backend, on a 2-core machine that others share
def test_every_preset_trains_from_the_app_on_ray_as_on_local(head, monkeypatch):
    """PLAYGROUND_BACKEND=ray (through Ray Client) and local: every preset's first two epochs, started as the Train
    page starts a run, give the same metrics on the same seed. Seven runs an actor (a setting of DEPLOY.md): a
    trainer actor takes seconds to start on a busy 2-core machine, and one per run would take most of the test."""
    address, _ = head
    ray = app_runs(monkeypatch, {"PLAYGROUND_BACKEND": "ray", "RAY_ADDRESS": address, "PLAYGROUND_RAY_GPUS": "0",
                                 "PLAYGROUND_RAY_JOBS_PER_ACTOR": "7"}, 2)
    # each run alone on both sides: stacked runs (playground/stack/) agree within 1e-5, tested on their own
    local = app_runs(monkeypatch, {"PLAYGROUND_BACKEND": "local", "PLAYGROUND_WORKERS": "2", "PLAYGROUND_STACK": "0"},
                     2)
    assert sorted(ray) == sorted(presets.names()) and len(ray) >= 14
    for name in local:
        assert len(ray[name]) == len(local[name]) == 2, name
        for there, here in zip(ray[name], local[name], strict=True):
            assert there == pytest.approx(here, rel=1e-6, abs=1e-9), name


def test_the_command_line_trains_on_the_cluster_with_the_same_lines(head, tmp_path, capsys):
    from playground import cli
    address, _ = head
    raw = "a,b,kind\n" + "".join(f"{i},{i % 3},{'x' if i % 2 else 'y'}\n" for i in range(40))
    (tmp_path / "pets.csv").write_text(raw)
    for name, s in [("circle", spec(3, device="cpu")),
                    ("csv", dict(spec(2, device="cpu"), data={"name": "csv", "file": str(tmp_path / "pets.csv"),
                                                               "target": "kind"}))]:
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(s))
        assert cli.main(["train", str(path), "--backend", "ray", "--address", address,
                         "--out", str(tmp_path / name)]) == 0
        remote = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        assert cli.main(["train", str(path)]) == 0
        local = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        assert len(remote) == s["train"]["epochs"] and strip(remote) == strip(local)
        _, weights, metrics = load_run(tmp_path / name)  # the final weights came back with the run
        assert weights is not None and strip(metrics) == strip(local)


ENVIRONMENT = """
import os

from playground.backends.ray_cluster import RayBackend, init
from playground.jobs import JobPool

if __name__ == "__main__":
    address = {address!r}
    backend = RayBackend(address, spare=0, gpus=0)
    pool = JobPool(backend=backend, nice=0)
    assert backend.connected(120), backend.lost
    job = pool.submit({spec!r}, owner="a")
    assert job.wait(120), job.state
    print("STATE", job.state, flush=True)
    print("MODE", os.environ.get("RAY_AUTH_MODE"), flush=True)
    if address is None:
        import ray  # (imported by the backend; not before it, as in the app)
        print("IP", ray.util.get_node_ip_address(), flush=True)
    pool.shutdown()
"""


@pytest.mark.slow
@pytest.mark.parametrize("where", ["started here", "head node"])
def test_a_token_alone_turns_authentication_on_and_an_own_cluster_stays_on_loopback(head, tmp_path, where):
    """As the app is deployed: RAY_AUTH_TOKEN set (a Streamlit secret), RAY_AUTH_MODE not. Through Ray Client the
    token must be sent (the head node refuses a client without it); a cluster the app starts itself binds
    127.0.0.1, not the machine's network address. In processes of their own, with Ray's environment unset."""
    address = head[0] if where == "head node" else None
    script = tmp_path / "environment.py"
    script.write_text(ENVIRONMENT.format(address=address, spec=spec(2, device="cpu")))
    env = {k: v for k, v in os.environ.items() if k not in ("RAY_AUTH_MODE", "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER")}
    env["PYTHONPATH"] = str(ROOT)
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300, env=env)
    lines = {line.split(" ", 1)[0]: line.split(" ", 1)[1] for line in out.stdout.splitlines() if " " in line}
    assert out.returncode == 0, out.stderr[-3000:]
    assert lines["STATE"] == "done" and lines["MODE"] == "token"
    if address is None:
        assert lines["IP"] == "127.0.0.1"


# Last: it stops the head node under running jobs.
@pytest.mark.slow
def test_a_lost_cluster_fails_its_jobs_and_the_app_goes_on(head):
    from playground.backends.local import LocalBackend
    address, proc = head
    plain = ray_pool(address, spare=0, gpus=0)
    falling = JobPool(backend=RayBackend(address, spare=0, gpus=0), nice=0, fallback=lambda: LocalBackend(1))
    assert falling.backend.connected(TIMEOUT)
    try:
        jobs = [p.submit(spec(5000, device="cpu"), owner="class") for p in (plain, falling)]
        for job in jobs:
            assert job.wait_for(lambda j=job: len(j.metrics) >= 1, TIMEOUT), job.message
        raycluster.stop(proc)
        for job in jobs:
            assert job.wait(TIMEOUT) and job.state == "failed"
            assert job.message.startswith("lost the connection to the training cluster (")
            assert job.message.endswith("); start the run again")
        with pytest.raises(JobRefused, match=r"^the training cluster cannot be reached \(.+\); try again later$"):
            plain.submit(spec(2, device="cpu"), owner="class")
        assert plain.jobs("class") == [jobs[0]] and plain.get(jobs[0].id) is jobs[0]  # the app still answers
        again = falling.submit(spec(2, device="cpu"), owner="class")  # this host's own workers take over
        assert again.wait(TIMEOUT) and again.state == "done" and falling.backend.name == "local"
    finally:
        plain.shutdown()
        falling.shutdown()
