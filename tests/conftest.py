"""Shared fixtures: small specs that build and train in well under a second on the CPU."""

from __future__ import annotations

import copy
import os

import pytest
import torch

import playground as pg
from playground.data import load_cached

# The spec example of CONTRACT.md, verbatim: saved files and lessons depend on it parsing.
CONTRACT_EXAMPLE = {
    "version": 1,
    "name": "Spiral, two hidden layers",
    "data": {"name": "spiral", "n_samples": 600, "noise": 0.1, "val_fraction": 0.2, "seed": 0},
    "model": {"layers": [
        {"type": "Linear", "out_features": 16},
        {"type": "Tanh"},
        {"type": "Linear", "out_features": 16},
        {"type": "Tanh"},
        {"type": "Linear", "out_features": 2},
    ]},
    "train": {"loss": "cross_entropy",
              "optimizer": {"type": "Adam", "lr": 0.01, "weight_decay": 0.0},
              "batch_size": 32, "epochs": 50, "seed": 0, "device": "auto"},
}

SPIRAL = {
    "version": 1,
    "name": "Small spiral",
    "data": {"name": "spiral", "n_samples": 120, "noise": 0.1, "val_fraction": 0.25, "seed": 0},
    "model": {"layers": [
        {"type": "Linear", "out_features": 8},
        {"type": "Tanh"},
        {"type": "Linear", "out_features": 8},
        {"type": "Tanh"},
        {"type": "Linear", "out_features": 2},
    ]},
    "train": {"loss": "cross_entropy", "optimizer": {"type": "Adam", "lr": 0.01},
              "batch_size": 16, "epochs": 3, "seed": 0, "device": "cpu"},
}


@pytest.fixture
def contract_example() -> dict:
    """The CONTRACT.md spec as a fresh dict."""
    return copy.deepcopy(CONTRACT_EXAMPLE)


@pytest.fixture
def spiral_dict() -> dict:
    """A small two-hidden-layer spiral spec as a fresh dict (tests may change it)."""
    return copy.deepcopy(SPIRAL)


@pytest.fixture
def spiral_spec(spiral_dict) -> pg.Spec:
    return pg.from_dict(spiral_dict)


def _make_spec(data: dict | str, layers: list[dict], **train) -> pg.Spec:
    data = {"name": data} if isinstance(data, str) else dict(data)
    t = {"epochs": 2, "batch_size": 16, "seed": 0, "device": "cpu", **train}
    return pg.from_dict({"data": data, "model": {"layers": layers}, "train": t})


@pytest.fixture
def make_spec():
    """`make_spec(data, layers, **train)`: a Spec on the CPU; `data` is a name or a data dict."""
    return _make_spec


@pytest.fixture
def dataset():
    """`dataset(spec)`: the spec's dataset, cached across tests (datasets are read-only)."""
    return lambda spec: load_cached(spec.data)


@pytest.fixture(autouse=True)
def _seeded():
    """Every test starts from the same global torch seed."""
    torch.manual_seed(0)
    yield


@pytest.fixture(autouse=True)
def _apptest_like_the_real_server(monkeypatch):
    """AppTest re-detects the pages/ folder on every run and would start Streamlit's automatic multipage
    mode, running a page without app.py; the real server never does (app.py turns it off at import)."""
    import streamlit.testing.v1.app_test as app_test
    from streamlit.runtime.pages_manager import PagesManager

    class NavigationOnly(PagesManager):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            PagesManager.uses_pages_directory = False

    monkeypatch.setattr(app_test, "PagesManager", NavigationOnly)



# ---- the class board's databases (tests/databases.py) ----

@pytest.fixture(scope="session")
def postgres_url():
    """A PostgreSQL for the storage tests: PLAYGROUND_TEST_PG_URL, or a throwaway cluster made here."""
    from databases import postgres
    with postgres() as url:
        yield url


# ---- browser tests: a real `streamlit run app.py` per test module, and Debian's Chromium ----

@pytest.fixture(scope="module")
def one_torch_thread():
    """One torch thread (use it on modules of tiny models: on a busy 2-core machine two threads wait on
    each other)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def app_pool():
    """The app's job pool with one worker, started here: a pool first started inside a script run would
    spawn its workers from app.py."""
    from ui import server as ui_server
    old = os.environ.get("PLAYGROUND_WORKERS")
    os.environ["PLAYGROUND_WORKERS"] = "1"
    p = ui_server.pool()
    yield p
    p.shutdown()
    if old is None:
        os.environ.pop("PLAYGROUND_WORKERS", None)
    else:
        os.environ["PLAYGROUND_WORKERS"] = old


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The app served on a free port for this module's browser tests (its class board in a folder of its own)."""
    from browser import streamlit_server
    with streamlit_server(env={"PLAYGROUND_DATA_DIR": str(tmp_path_factory.mktemp("data"))}) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium (skipped without it, except under CI=true where it fails)."""
    from browser import CHROMIUM_ARGS, chromium_path
    path = chromium_path()
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield b
        b.close()
