"""Shared test helpers.

A tier whose real component is missing (NEST, Snakemake, Elephant, ...) is skipped with a
message that says how to get it. With SPIKEFLOW_NO_SKIP=1 (set by .ci/run) such a test fails
instead, so that nothing is silently skipped in CI: :func:`require` fails at once, and the
hooks below turn every other skip (``pytest.importorskip``, ``pytest.skip``, skip marks, a
module skipped at collection) into a failure that quotes the skip's reason. Expected failures
(``xfail``) are left alone.
"""

from __future__ import annotations

import importlib
import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CONFIGS = sorted((REPO / "workflow" / "config").glob("*.yaml"))


def _no_skip() -> bool:
    return os.environ.get("SPIKEFLOW_NO_SKIP") == "1"


def _skip_reason(report) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """With SPIKEFLOW_NO_SKIP=1 a skipped test (any way of skipping) is reported as failed."""
    outcome = yield
    report = outcome.get_result()
    if _no_skip() and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped, but SPIKEFLOW_NO_SKIP=1 forbids skips: {_skip_reason(report)}"


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    """With SPIKEFLOW_NO_SKIP=1 a module skipped at collection (importorskip at top level) fails."""
    outcome = yield
    report = outcome.get_result()
    if _no_skip() and report.skipped:
        report.outcome = "failed"
        report.longrepr = f"skipped at collection, but SPIKEFLOW_NO_SKIP=1 forbids skips: {_skip_reason(report)}"


def require(condition: bool, how: str) -> None:
    """Skip (or, in CI, fail) unless ``condition`` holds; ``how`` says how to get what is missing."""
    if condition:
        return
    if os.environ.get("SPIKEFLOW_NO_SKIP") == "1":
        pytest.fail(f"required component missing in CI: {how}")
    pytest.skip(how)


def require_module(name: str, how: str):
    try:
        return importlib.import_module(name)
    except ImportError:
        require(False, how)


def require_program(name: str, how: str) -> str:
    path = shutil.which(name)
    require(path is not None, how)
    return path


@pytest.fixture(scope="session")
def nest_module():
    """The real NEST (PyNEST), quiet."""
    os.environ.setdefault("PYNEST_QUIET", "1")
    return require_module("nest", "NEST is not installed: pip install -e '.[test]' (installs nest-simulator)")


@pytest.fixture(scope="session")
def wta_nest(nest_module):
    """NEST with spikeflow's WTA extension module built (cached) and loadable."""
    from spikeflow import nestext

    require(not nestext.is_binary_wheel(), "the WTA extension needs NEST built from the sdist (containers/build-nest.sh)")
    try:
        nestext.build()
    except nestext.NestExtensionError as err:
        require(False, f"cannot build the NEST extension module: {err}")
    return nest_module
