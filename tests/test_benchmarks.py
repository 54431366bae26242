"""The benchmarks run from the repository alone: nothing outside it, nothing from tests/, and our own load tool
drives a real server."""

from __future__ import annotations

import ast
import json
import subprocess
import sys

import pytest
from helpers import ROOT

BENCHMARKS = sorted((ROOT / "benchmarks").glob("*.py"))
TEST_MODULES = {p.stem for p in (ROOT / "tests").glob("*.py")}


def test_there_are_benchmarks():
    assert {"classroom", "first_point", "streaming", "playground2d", "stload", "appserver"} <= {p.stem for p in
                                                                                              BENCHMARKS}


@pytest.mark.parametrize("path", BENCHMARKS, ids=lambda p: p.name)
def test_a_benchmark_reads_nothing_outside_the_repository_and_nothing_from_tests(path):
    source = path.read_text()
    assert "ROOT.parent" not in source and "/shared/" not in source and '"tests"' not in source
    for node in ast.walk(ast.parse(source)):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
            [node.module] if isinstance(node, ast.ImportFrom) and node.module else []
        assert not {n.split(".")[0] for n in names} & TEST_MODULES, (path.name, names)


@pytest.mark.parametrize("path", BENCHMARKS, ids=lambda p: p.name)
def test_a_benchmark_starts_from_any_folder(path, tmp_path):
    """`--help` from elsewhere: every import a benchmark makes at start resolves inside the repository."""
    r = subprocess.run([sys.executable, str(path), "--help"], cwd=tmp_path, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr


def test_stload_refuses_other_hosts():
    r = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "stload.py"), "http://example.org"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "non-loopback" in r.stderr


@pytest.mark.slow  # serves the app; 8 s of load: a first page can take 2 s on a busy 2-core host
def test_stload_loads_the_app(server):
    r = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "stload.py"), server, "--sessions", "2",
                        "--seconds", "8", "--ramp", "0", "--page", "/build", "--rerun-every", "0.5"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    summary = json.loads(r.stdout.strip().splitlines()[-1])
    assert summary["reruns"] >= 2 and summary["kinds"]["initial"]["n"] == 2, summary
    problems = ("timeouts", "app_exceptions", "page_not_found", "setup_failures", "conn_failures", "disconnects")
    assert all(summary[k] == 0 for k in problems), summary
