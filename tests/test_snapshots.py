"""Snapshots of each example's Terraform, beside the property tests that say what matters.

Regenerate only on purpose (``pytest tests/test_snapshots.py --snapshot-update``) and read
the diff. Inline file contents are replaced by their SHA-256 (the packaging tests assert
the contents), so a code change in lambda/ or canary/ shows as one changed line per file.
"""

import copy
import hashlib
import json

import pytest
from syrupy.extensions.json import JSONSnapshotExtension

from tests.synth import EXAMPLE_NAMES, example_config, synth


@pytest.fixture
def snapshot_json(snapshot):
    return snapshot.use_extension(JSONSnapshotExtension)


def normalise(doc: dict) -> dict:
    doc = copy.deepcopy(doc)
    for body in doc.get("data", {}).get("archive_file", {}).values():
        for source in body["source"]:
            source["content"] = "sha256:" + hashlib.sha256(source["content"].encode()).hexdigest()
    text = json.dumps(doc)
    for marker in ("/tmp/", "/work/", "/root/", "/home/"):
        assert marker not in text, f"machine path {marker} in the synthesized JSON"
    return doc


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_example_snapshot(name, snapshot_json):
    assert normalise(synth(example_config(name)).doc) == snapshot_json


def test_the_snapshots_were_taken_on_the_path_asked_for():
    """``make test-stock`` runs this file with ``TAP_STOCK_IMPORT=1``: the same snapshots must hold
    without the fast path, so that run must really be stock (and the usual run really fast)."""
    from tapinfra.provider import AWS_PACKAGE, import_mode, stock_import_requested

    expected = "stock" if stock_import_requested() else "fast"
    mode = import_mode()
    assert (mode["node"], mode[AWS_PACKAGE]) == (expected, expected), mode
