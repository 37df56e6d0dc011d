"""Fixtures of the workflow tier."""

import shutil

import pytest

from tests.conftest import REPO


@pytest.fixture
def workdir(tmp_path):
    """A copy of the workflow (Snakefile + workflow/) in a scratch directory."""
    shutil.copy(REPO / "Snakefile", tmp_path / "Snakefile")
    shutil.copytree(REPO / "workflow", tmp_path / "workflow", symlinks=False)
    return tmp_path
