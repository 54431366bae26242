"""The GAN lab's stream (ui/server/gan_stream.py) and its polled feed: the bytes decode to the worker's view."""

from __future__ import annotations

import base64
import json

import numpy as np

from playground import ganlab, presets, probe
from playground.spec import from_dict
from playground.trainers import make_trainer
from ui.server.gan_stream import encode_view, event, slim, view_of


def trainer(preset: str = "gan-ring"):
    base = presets.get(preset).to_dict()
    d = ganlab.to_spec(ganlab.Settings(g_hidden=(8,), d_hidden=(8,), batch_size=16), base) \
        if preset == "gan-ring" else base
    d["data"]["n_samples"] = 200
    d["train"]["device"] = "cpu"
    tr = make_trainer(from_dict(d))
    tr.train_step()
    return tr


def floats(b64: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(b64), np.float32)


def test_the_2d_view_travels_as_bytes_that_decode_to_it():
    v = probe.VIEWS.get("gan2d")(trainer(), res=6, points=20, arrows=7, grid=4)
    e = encode_view(v)
    np.testing.assert_array_equal(floats(e["fake"]).reshape(20, 2), v["fake"])
    np.testing.assert_array_equal(floats(e["arrows"]).reshape(7, 2), v["arrows"])
    np.testing.assert_array_equal(floats(e["manifold"]).reshape(16, 2), v["manifold"])
    np.testing.assert_array_equal(np.frombuffer(base64.b64decode(e["surface"]), np.uint8), v["surface"])
    assert (e["phase"], e["g_steps"], e["d_steps"], e["res"], e["grid"]) == ("both", 1, 1, 6, 4)
    assert e["covered"] == v["covered"] and isinstance(e["d_loss"], float)
    json.dumps(e)  # all plain JSON


def test_images_travel_as_one_byte_a_pixel():
    v = probe.VIEWS.get("gan_images")(trainer("gan-digits"), samples=4, walk=3)
    e = encode_view(v)
    got = np.frombuffer(base64.b64decode(e["samples"]), np.uint8).reshape(4, 8, 8)
    np.testing.assert_array_equal(got, v["samples"])
    assert np.frombuffer(base64.b64decode(e["walk"]), np.uint8).size == 3 * 64
    json.dumps(e)


class Job:
    def __init__(self, views, metrics):
        self.views, self.metrics, self.state, self.message = views, metrics, "running", ""
        self.progress = {"epoch": 2, "steps": 200, "steps_per_s": 90.0}

    def events_since(self, cursor):
        return self.metrics[cursor:], len(self.metrics)


def test_an_event_carries_new_metrics_and_the_view():
    metrics = [{"epoch": 1, "d_loss": 1.0, "g_loss": 2.0, "modes_covered": 3, "lr": 0.001, "seconds": 1.0},
               {"epoch": 2, "d_loss": 1.1, "g_loss": 1.9, "modes_covered": 4, "lr": 0.001, "seconds": 2.0}]
    job = Job({"gan2d": {"epoch": 2, "fake": np.zeros((2, 2), np.float32)}}, metrics)
    assert view_of(job) is job.views["gan2d"]
    payload, cursor = event(job, 1, view_of(job))
    assert cursor == 2 and payload["metrics"] == [{"epoch": 2, "d_loss": 1.1, "g_loss": 1.9, "modes_covered": 4}]
    assert payload["progress"] == {"epoch": 2, "steps": 200, "steps_per_s": 90.0}
    assert floats(payload["view"]["fake"]).tolist() == [0, 0, 0, 0]
    assert slim(metrics)[0] == {"epoch": 1, "d_loss": 1.0, "g_loss": 2.0, "modes_covered": 3}
    assert view_of(Job({"grid2d": {}}, [])) is None
