#!/usr/bin/env python3
"""Make the real plans ``tests/test_review.py`` reviews: terraform against a moto server.

``.venv/bin/python tools/make_plan_fixtures.py [--keep DIR]`` applies the minimal example
(asset packaging, disposable, every provider on a moto server of its own, with the
rehearsal's emulator patches from ``tests/lifecycle/gaps.py``), then plans five changes
against that state and writes ``terraform show -json`` of each to
``tests/fixtures/plans/<name>.json.gz``:

- ``clean``: a tenant added (the config, as a user would).
- ``table-replaced``: the table's sort key renamed (as a code change would; the copy is edited).
- ``policy-widened``: ``dynamodb:*`` added to the primary function's permissions (edited copy).
- ``method-opened``: the primary ``GET /items`` no longer requires an API key (edited copy).
- ``region-changed``: the secondary region moved to eu-west-1 (the config).

Only what review never reads is dropped (``planned_values``, ``output_changes``,
``relevant_attributes``, ``checks``); the server is stopped whatever happens.
Needs terraform and the offline provider mirror (``tapinfra.tfcli``).
"""

from __future__ import annotations

import argparse
import copy
import gzip
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tapinfra import tfcli  # noqa: E402
from tapinfra.app import stack_id, synth_app  # noqa: E402
from tapinfra.config import config_from_dict  # noqa: E402
from tests.lifecycle.emulator import MotoServer  # noqa: E402
from tests.lifecycle.gaps import apply_patches  # noqa: E402

OUT = ROOT / "tests" / "fixtures" / "plans"
UNREAD = ("planned_values", "output_changes", "relevant_attributes", "checks")
ENVIRONMENT = "fx"
NEW_TENANT = "acme"
MOVED_SECONDARY = "eu-west-1"
WIDENED_STATEMENT = "ItemsInThisRegionsTable"
WILDCARD_ACTION = "dynamodb:*"
TERRAFORM_SECONDS = 1800

Doc = dict[str, Any]


def base_config(endpoint: str) -> dict[str, Any]:
    raw = json.loads((ROOT / "examples" / "minimal.json").read_text())
    return {**raw, "environment": ENVIRONMENT, "disposable": True, "emulator": endpoint}


def one(items: dict[str, Any], prefix: str) -> str:
    """The single resource whose construct id starts with ``prefix``; anything else is an error."""
    found = [name for name in items if name.startswith(prefix)]
    if len(found) != 1:
        raise SystemExit(f"make_plan_fixtures: expected one {prefix}* in the synthesized stack, found {found}")
    return found[0]


def rename_sort_key(doc: Doc) -> Doc:
    tables = doc["resource"]["aws_dynamodb_table"]
    table = tables[one(tables, "items-table")]
    old = table["range_key"]
    table["range_key"] = f"{old}_v2"
    for attribute in table["attribute"]:
        if attribute["name"] == old:
            attribute["name"] = table["range_key"]
    return doc


def widen_function_policy(doc: Doc) -> Doc:
    documents = doc["data"]["aws_iam_policy_document"]
    body = documents[one(documents, "primary-function_role-permissions")]
    statement = next(s for s in body["statement"] if s.get("sid") == WIDENED_STATEMENT)
    statement["actions"] = [*statement["actions"], WILDCARD_ACTION]
    return doc


def open_items_method(doc: Doc) -> Doc:
    methods = doc["resource"]["aws_api_gateway_method"]
    methods[one(methods, "primary-api_method-get-items_")]["api_key_required"] = False
    return doc


def unchanged(doc: Doc) -> Doc:
    return doc


class Workspace:
    """One stack directory whose ``cdk.tf.json`` is swapped per scenario; one state throughout."""

    def __init__(self, base: Path, cli_config: Path) -> None:
        self.base = base
        self.cli_config = cli_config
        self.dir: Path | None = None

    def synth(self, raw: dict[str, Any], edit: Callable[[Doc], Doc], name: str) -> Path:
        config = config_from_dict(raw)
        out = self.base / f"synth-{name}"
        out.mkdir()
        path = synth_app(config, out)
        doc = json.loads(path.read_text())
        apply_patches(doc)
        doc = edit(copy.deepcopy(doc))
        if self.dir is None:
            self.dir = self.base / "stack" / stack_id(config)
            self.dir.mkdir(parents=True)
        assets = path.parent / "assets"
        if assets.is_dir():
            shutil.copytree(assets, self.dir / "assets", dirs_exist_ok=True)
        (self.dir / "cdk.tf.json").write_text(json.dumps(doc, indent=2))
        return self.dir

    def terraform(self, *args: str) -> str:
        result = tfcli.run(list(args), self.dir, self.cli_config, timeout=TERRAFORM_SECONDS)
        if result.returncode != 0:
            raise SystemExit(f"terraform {args[0]} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
        return result.stdout


def write_fixture(plan: dict[str, Any], name: str) -> Path:
    for key in UNREAD:
        plan.pop(key, None)
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{name}.json.gz"
    data = json.dumps(plan, separators=(",", ":"), sort_keys=True).encode()
    with gzip.GzipFile(path, "wb", mtime=0) as fh:
        fh.write(data)
    return path


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="work here and keep it (default: a temporary directory)")
    args = parser.parse_args(argv)
    mirror = tfcli.find_mirror()
    if tfcli.terraform() is None or mirror is None:
        print("make_plan_fixtures: needs terraform and the offline provider mirror (TAP_TF_PROVIDER_MIRROR)", file=sys.stderr)
        return 1
    base = args.keep or Path(tempfile.mkdtemp(prefix="tap-plan-fixtures-"))
    base.mkdir(parents=True, exist_ok=True)
    try:
        with MotoServer(base / "moto.log") as server:
            ws = Workspace(base, tfcli.cli_config(mirror, base))
            raw = base_config(server.endpoint)
            ws.synth(raw, unchanged, "base")
            ws.terraform("init", "-input=false", "-no-color")
            ws.terraform("apply", "-input=false", "-no-color", "-auto-approve")
            scenarios = {
                "clean": ({**raw, "api": {"tenants": ["demo", NEW_TENANT]}}, unchanged),
                "table-replaced": (raw, rename_sort_key),
                "policy-widened": (raw, widen_function_policy),
                "method-opened": (raw, open_items_method),
                "region-changed": ({**raw, "regions": {"primary": "us-east-1", "secondary": MOVED_SECONDARY}}, unchanged),
            }
            for name, (config, edit) in scenarios.items():
                ws.synth(config, edit, name)
                ws.terraform("plan", "-input=false", "-no-color", "-out=tfplan")
                plan = json.loads(ws.terraform("show", "-json", "tfplan"))
                path = write_fixture(plan, name)
                print(f"{path.relative_to(ROOT)}: {path.stat().st_size} bytes, {len(plan.get('resource_changes', []))} resource changes")
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
