"""Provenance facts asked once per process (a batch of runs shares them) still follow a change."""

from __future__ import annotations

import hashlib
import os

from spikeflow.driver import provenance


def test_container_digest_follows_the_image(tmp_path, monkeypatch):
    image = tmp_path / "spikeflow.sif"
    image.write_bytes(b"first image")
    monkeypatch.setenv("APPTAINER_CONTAINER", str(image))
    first = provenance.container()["sha256"]
    assert first == hashlib.sha256(b"first image").hexdigest() == provenance.container()["sha256"]
    image.write_bytes(b"another image, rebuilt")
    os.utime(image, ns=(1, 1))  # a new size and mtime: another file
    assert provenance.container()["sha256"] == hashlib.sha256(b"another image, rebuilt").hexdigest()


def test_git_state_is_a_copy_each_time():
    first = provenance.git_state()
    first["commit"] = "changed by a caller"
    assert provenance.git_state()["commit"] != "changed by a caller"
