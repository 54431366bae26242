"""The 2-D live view's packing (ui/server/grid_stream.py) and the probe options it uses: bytes decode to the view."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest

from playground import probe
from playground.train import Trainer
from ui.server.grid_stream import encode_view, slim

HIDDEN = [{"type": "Linear", "out_features": 5}, {"type": "Tanh"}, {"type": "Linear", "out_features": 3},
          {"type": "ReLU"}]


def trainer(make_spec, data, out, loss="cross_entropy"):
    tr = Trainer(make_spec(data, HIDDEN + [{"type": "Linear", "out_features": out}], loss=loss, epochs=1))
    tr.run_epoch()
    return tr


def raw(b64: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(b64), np.uint8)


def test_thumbnails_on_their_own_grid_match_the_full_grid(make_spec):
    tr = trainer(make_spec, "circle", 2)
    fine, coarse = probe.grid2d(tr, res=9), probe.grid2d(tr, res=9, neuron_res=5)
    assert coarse["neuron_res"] == 5 and fine["neuron_res"] == 9
    assert [n.shape for n in coarse["neurons"]] == [(5, 5, 5), (3, 5, 5)]
    np.testing.assert_array_equal(coarse["surface"], fine["surface"])
    # a 5-point grid over [-6, 6] is every other point of the 9-point one
    np.testing.assert_allclose(coarse["neurons"][0].astype(np.float32), fine["neurons"][0][:, ::2, ::2], atol=2e-3)
    assert [b.shape for b in coarse["biases"]] == [(5,), (3,), (2,)]
    np.testing.assert_allclose(coarse["biases"][0], tr.model[0].bias.detach().numpy())


def test_binary_surface_packs_p0_minus_p1(make_spec):
    tr = trainer(make_spec, "xor", 2)
    view = probe.grid2d(tr, res=8, neuron_res=4)
    e = encode_view(view)
    assert (e["mode"], e["res"], e["nres"], e["layers"], e["epoch"]) == ("diverging", 8, 4, [5, 3], 1)
    s = view["surface"].astype(np.float32)
    got = raw(e["surface"]).reshape(8, 8) / 127.5 - 1
    np.testing.assert_allclose(got, s[..., 0] - s[..., 1], atol=0.01)
    n = raw(e["neurons"])
    assert n.size == (5 + 3) * 16
    np.testing.assert_allclose(n[:16].reshape(4, 4) / 127.5 - 1, view["neurons"][0][0].astype(np.float32), atol=0.01)
    relu = n[5 * 16:]
    assert relu.min() >= 127  # ReLU maps are >= 0, the middle of the scale or above
    assert [np.array(w).shape for w in e["weights"]] == [(5, 2), (3, 5), (2, 3)]
    h = raw(e["hidden"]).reshape(-1, 2)
    assert len(h) == len(view["hidden"]) and h.max() <= 255
    json.dumps(e)  # all plain JSON


def test_many_classes_pack_the_class_and_its_probability(make_spec):
    tr = trainer(make_spec, {"name": "gauss", "classes": 4, "n_samples": 80}, 4)
    view = probe.grid2d(tr, res=6)
    e = encode_view(view)
    assert e["mode"] == "classes"
    b = raw(e["surface"]).reshape(6, 6, 2)
    s = view["surface"].astype(np.float32)
    np.testing.assert_array_equal(b[..., 0], s.argmax(-1))
    np.testing.assert_allclose(b[..., 1] / 255, s.max(-1), atol=0.01)


def test_regression_surface_is_the_output_clamped(make_spec):
    tr = trainer(make_spec, "multigauss", 1, loss="mse")
    view = probe.grid2d(tr, res=5)
    e = encode_view(view)
    got = raw(e["surface"]).reshape(5, 5) / 127.5 - 1
    np.testing.assert_allclose(got, np.clip(view["surface"][..., 0].astype(np.float32), -1, 1), atol=0.01)


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_bad_numbers_do_not_break_the_stream(make_spec, value):
    tr = trainer(make_spec, "circle", 2)
    view = probe.grid2d(tr, res=4)
    view["surface"] = np.full_like(view["surface"], value)
    view["hidden"] = np.full_like(view["hidden"], value)
    view["weights"][0][:] = value
    e = encode_view(view)
    json.dumps(e, allow_nan=False)
    assert raw(e["surface"]).min() >= 0


def test_slim_keeps_what_the_page_draws():
    m = {"epoch": 3, "train_loss": 0.5, "val_loss": 0.6, "val_accuracy": 0.8, "lr": 0.1, "seconds": 2.0}
    assert slim([m]) == [{"epoch": 3, "train_loss": 0.5, "val_loss": 0.6, "val_accuracy": 0.8}]


def test_the_worker_can_pack_and_packing_twice_changes_nothing(make_spec):
    tr = trainer(make_spec, {"name": "spiral", "classes": 3, "n_samples": 90}, 3)
    plain, packed = probe.grid2d(tr, res=6, neuron_res=3), probe.grid2d(tr, res=6, neuron_res=3, pack=True)
    assert packed["packed"] and packed["surface"].dtype == np.uint8 and packed["neurons"].dtype == np.uint8
    assert probe.pack2d(packed) is packed
    assert encode_view(plain) == encode_view(packed)


def test_the_route_streams_a_run_to_its_owner_and_ends_with_it(monkeypatch):
    """The route's handler, driven as Starlette would: with the run's key, the packed view first, then 'end' once
    the run stops; without it, the 404 an unknown run gets."""
    import asyncio

    from starlette.requests import Request

    from playground import tfplay
    from playground.spec import from_dict
    from ui import server
    from ui.server import access, grid_stream
    monkeypatch.setenv("PLAYGROUND_WORKERS", "1")
    pool = server.pool()

    def request(job_id: str, key: str) -> Request:
        async def receive():
            await asyncio.sleep(3600)  # the client never hangs up by itself
        return Request({"type": "http", "method": "GET", "path": f"/api/playground/{job_id}/stream", "headers": [],
                        "path_params": {"job": job_id}, "query_string": f"key={key}".encode()}, receive)

    async def read(job_id: str, key: str, on_first=None) -> list[str]:
        response = await grid_stream.stream(request(job_id, key))
        if not hasattr(response, "body_iterator"):
            return [response.status_code, response.body.decode()]
        chunks = []
        async for chunk in response.body_iterator:
            chunks.append(chunk)
            if len(chunks) == 1 and on_first:
                on_first()
        return chunks

    try:
        job = pool.submit(from_dict(tfplay.default_spec()), owner="t-route", paused=True,
                          views={"grid2d": {"res": 8, "neuron_res": 4, "pack": True}})
        assert job.wait_for(lambda: "grid2d" in job.views and job.state == "paused", 60)
        unknown = asyncio.run(read("nope", access.job_key("nope")))
        assert unknown[0] == 404
        assert asyncio.run(read(job.id, "")) == unknown  # no key, or another run's: as if it did not exist
        assert asyncio.run(read(job.id, access.job_key("nope"))) == unknown
        chunks = asyncio.run(asyncio.wait_for(read(job.id, access.job_key(job.id), on_first=job.stop), 60))
        events = [json.loads(c.split("data: ", 1)[1]) for c in chunks]
        first = events[0]
        assert first["state"] == "paused" and first["view"]["res"] == 8 and first["view"]["layers"] == [4, 2]
        assert raw(first["view"]["surface"]).size == 64 and raw(first["view"]["neurons"]).size == 6 * 16
        assert chunks[-1].startswith("event: end") and events[-1]["state"] == "stopped"
    finally:
        pool.shutdown()
