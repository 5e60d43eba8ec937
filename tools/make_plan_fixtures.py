#!/usr/bin/env python3
"""Make the real plans the review tests read: terraform against a moto server.

``.venv/bin/python tools/make_plan_fixtures.py [--examples minimal,default,full] [--only NAME,...] [--keep DIR]``
applies each example (asset packaging, disposable, local state, every provider on a moto
server of its own, with the rehearsal's emulator patches and mimics from
``tapinfra/rehearsal/gaps.py``), then plans changes against that state and writes
``terraform show -json`` of each to ``tests/fixtures/plans/<name>.json.gz``.

Every example: ``unchanged-<example>``, the plan right after apply (nothing to do but the
emulator's known drift): rules must find nothing in it. Minimal (environment ``fx``) also:

- ``clean``: a tenant added (the config, as a user would).
- ``table-replaced``: the table's sort key renamed (as a code change would; the copy is edited).
- ``policy-widened``: ``dynamodb:*`` added to the primary function's permissions (edited copy).
- ``method-opened``: the primary ``GET /items`` no longer requires an API key (edited copy).
- ``region-changed``: the secondary region moved to eu-west-1 (the config).
- ``key-disabled``: the primary KMS key disabled (edited copy).
- ``pitr-off``: the table's point-in-time recovery turned off (edited copy).
- ``ttl-switched``: the table's TTL read from another attribute (edited copy).
- ``lifecycle-expires-all``: a rule expiring every object of the primary data bucket after a day (edited copy).
- ``waf-emptied``: the primary web ACL's rules removed (edited copy).
- ``method-created-open``: a new ``PATCH /items`` without an API key (edited copy).

Full also ``trail-stopped``: the CloudTrail trail's logging stopped (edited copy).

Only what review never reads is dropped (``planned_values``, ``output_changes``,
``relevant_attributes``, ``checks``); each server is stopped whatever happens.
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
from tapinfra.config import TapConfig, with_changes  # noqa: E402
from tapinfra.rehearsal import gaps  # noqa: E402
from tapinfra.rehearsal.emulator import MotoServer  # noqa: E402
from tapinfra.rehearsal.rehearsal import PARALLELISM, example_config, rehearsal_config  # noqa: E402

OUT = ROOT / "tests" / "fixtures" / "plans"
UNREAD = ("planned_values", "output_changes", "relevant_attributes", "checks")
EXAMPLES = ("minimal", "default", "full")
MINIMAL_ENVIRONMENT = "fx"
NEW_TENANT = "acme"
MOVED_SECONDARY = "eu-west-1"
WIDENED_STATEMENT = "ItemsInThisRegionsTable"
WILDCARD_ACTION = "dynamodb:*"
SWITCHED_TTL = "purge_at"
OPEN_METHOD = "PATCH"
TERRAFORM_SECONDS = 1800

Doc = dict[str, Any]
Edit = Callable[[Doc], Doc]


def one(items: dict[str, Any], prefix: str) -> str:
    """The single resource whose construct id starts with ``prefix``; anything else is an error."""
    found = [name for name in items if name.startswith(prefix)]
    if len(found) != 1:
        raise SystemExit(f"make_plan_fixtures: expected one {prefix}* in the synthesized stack, found {found}")
    return found[0]


def _resource(doc: Doc, rtype: str, prefix: str) -> dict[str, Any]:
    items = doc["resource"][rtype]
    return items[one(items, prefix)]


def rename_sort_key(doc: Doc) -> Doc:
    table = _resource(doc, "aws_dynamodb_table", "items-table")
    old = table["range_key"]
    table["range_key"] = f"{old}_v2"
    for attribute in table["attribute"]:
        if attribute["name"] == old:
            attribute["name"] = table["range_key"]
    return doc


def widen_function_policy(doc: Doc) -> Doc:
    body = _resource({"resource": doc["data"]}, "aws_iam_policy_document", "primary-function_role-permissions")
    statement = next(s for s in body["statement"] if s.get("sid") == WIDENED_STATEMENT)
    statement["actions"] = [*statement["actions"], WILDCARD_ACTION]
    return doc


def open_items_method(doc: Doc) -> Doc:
    _resource(doc, "aws_api_gateway_method", "primary-api_method-get-items_")["api_key_required"] = False
    return doc


def disable_key(doc: Doc) -> Doc:
    _resource(doc, "aws_kms_key", "primary-key")["is_enabled"] = False
    return doc


def pitr_off(doc: Doc) -> Doc:
    _resource(doc, "aws_dynamodb_table", "items-table")["point_in_time_recovery"] = {"enabled": False}
    return doc


def switch_ttl(doc: Doc) -> Doc:
    _resource(doc, "aws_dynamodb_table", "items-table")["ttl"]["attribute_name"] = SWITCHED_TTL
    return doc


def expire_everything(doc: Doc) -> Doc:
    config = _resource(doc, "aws_s3_bucket_lifecycle_configuration", "primary-data_lifecycle")
    config["rule"] = [*config["rule"], {"id": "expire-everything", "status": "Enabled", "filter": [{}], "expiration": [{"days": 1}]}]
    return doc


def empty_web_acl(doc: Doc) -> Doc:
    _resource(doc, "aws_wafv2_web_acl", "primary-waf_acl")["rule"] = []
    return doc


def create_open_method(doc: Doc) -> Doc:
    methods = doc["resource"]["aws_api_gateway_method"]
    model = methods[one(methods, "primary-api_method-get-items_")]
    methods["primary-api_method-patch-items-fixture"] = {
        **{k: v for k, v in model.items() if k != "//"}, "http_method": OPEN_METHOD, "api_key_required": False,
    }
    return doc


def stop_trail(doc: Doc) -> Doc:
    _resource(doc, "aws_cloudtrail", "audit_trail")["enable_logging"] = False
    return doc


def unchanged(doc: Doc) -> Doc:
    return doc


def scenarios(example: str, config: TapConfig) -> dict[str, tuple[TapConfig, Edit]]:
    """Fixture name -> (config, edit of the patched copy), planned against the applied base."""
    found: dict[str, tuple[TapConfig, Edit]] = {f"unchanged-{example}": (config, unchanged)}
    if example == "minimal":
        found.update({
            "clean": (with_changes(config, api={"tenants": [*config.api.tenants, NEW_TENANT]}), unchanged),
            "table-replaced": (config, rename_sort_key),
            "policy-widened": (config, widen_function_policy),
            "method-opened": (config, open_items_method),
            "region-changed": (with_changes(config, regions={"primary": config.regions.primary, "secondary": MOVED_SECONDARY}), unchanged),
            "key-disabled": (config, disable_key),
            "pitr-off": (config, pitr_off),
            "ttl-switched": (config, switch_ttl),
            "lifecycle-expires-all": (config, expire_everything),
            "waf-emptied": (config, empty_web_acl),
            "method-created-open": (config, create_open_method),
        })
    if example == "full":
        found["trail-stopped"] = (config, stop_trail)
    return found


def base_config(example: str, endpoint: str) -> TapConfig:
    config = rehearsal_config(example_config(example), endpoint)
    return with_changes(config, environment=MINIMAL_ENVIRONMENT) if example == "minimal" else config


class Workspace:
    """One stack directory whose ``cdk.tf.json`` is swapped per scenario; one state throughout."""

    def __init__(self, base: Path, cli_config: Path) -> None:
        self.base = base
        self.cli_config = cli_config
        self.dir: Path | None = None
        self.original: Doc = {}

    def synth(self, config: TapConfig, edit: Edit, name: str) -> Path:
        out = self.base / f"synth-{name}"
        out.mkdir()
        path = synth_app(config, out)
        doc = json.loads(path.read_text())
        self.original = copy.deepcopy(doc)
        gaps.apply_patches(doc)
        doc = edit(doc)
        if self.dir is None:
            self.dir = self.base / "stack" / stack_id(config)
            self.dir.mkdir(parents=True)
        assets = path.parent / "assets"
        if assets.is_dir():
            shutil.copytree(assets, self.dir / "assets", dirs_exist_ok=True)
        (self.dir / "cdk.tf.json").write_text(json.dumps(doc, indent=2))
        return self.dir

    def terraform(self, *args: str, check: bool = True) -> tuple[int, str]:
        """(exit status, stdout); with ``check`` a failure stops the tool, else stdout carries stderr's tail too."""
        result = tfcli.run(list(args), self.dir, self.cli_config, timeout=TERRAFORM_SECONDS)
        if check and result.returncode != 0:
            raise SystemExit(f"terraform {args[0]} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
        return result.returncode, result.stdout if result.returncode == 0 else f"{result.stdout[-1500:]}\n{result.stderr[-1500:]}"

    def apply(self, server: MotoServer) -> None:
        """Apply (a second time if the first did not converge, as the rehearsal does), then mimic AWS."""
        apply = ("apply", "-input=false", "-no-color", "-auto-approve", f"-parallelism={PARALLELISM}")
        code, out = self.terraform(*apply, check=False)
        if code != 0:
            print(f"make_plan_fixtures: the first apply did not converge; applying again. It said:\n{out}", file=sys.stderr, flush=True)
            self.terraform(*apply)
        state = json.loads(self.terraform("state", "pull")[1])
        for gap in gaps.GAPS:
            if gap.kind == gaps.MIMIC and gap.mimic is not None:
                gap.mimic(server, state, self.original)


def write_fixture(plan: dict[str, Any], name: str) -> Path:
    for key in UNREAD:
        plan.pop(key, None)
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{name}.json.gz"
    data = json.dumps(plan, separators=(",", ":"), sort_keys=True).encode()
    with gzip.GzipFile(path, "wb", mtime=0) as fh:
        fh.write(data)
    return path


def make_example(example: str, base: Path, mirror: Path, only: set[str]) -> None:
    work = base / example
    work.mkdir(parents=True)
    with MotoServer(work / "moto.log") as server:
        ws = Workspace(work, tfcli.cli_config(mirror, work))
        config = base_config(example, server.endpoint)
        ws.synth(config, unchanged, "base")
        ws.terraform("init", "-input=false", "-no-color")
        ws.apply(server)
        for name, (scenario, edit) in scenarios(example, config).items():
            if only and name not in only:
                continue
            ws.synth(scenario, edit, name)
            # An edit of the copy is planned against the state apply just wrote, unrefreshed
            # (a third of the time); the plans of a config change refresh, as a user's would.
            fresh = [] if edit is unchanged else ["-refresh=false"]
            ws.terraform("plan", "-input=false", "-no-color", *fresh, "-out=tfplan")
            plan = json.loads(ws.terraform("show", "-json", "tfplan")[1])
            path = write_fixture(plan, name)
            print(f"{path.relative_to(ROOT)}: {path.stat().st_size} bytes, {len(plan.get('resource_changes', []))} resource changes", flush=True)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", default=",".join(EXAMPLES), help=f"comma-separated, of {', '.join(EXAMPLES)}")
    parser.add_argument("--only", default="", help="comma-separated fixture names to write (default: all)")
    parser.add_argument("--keep", type=Path, help="work here and keep it (default: a temporary directory)")
    args = parser.parse_args(argv)
    examples = [e.strip() for e in args.examples.split(",") if e.strip()]
    unknown = sorted(set(examples) - set(EXAMPLES))
    if unknown:
        parser.error(f"--examples {','.join(unknown)}: not an example (allowed: {', '.join(EXAMPLES)})")
    mirror = tfcli.find_mirror()
    if tfcli.terraform() is None or mirror is None:
        print("make_plan_fixtures: needs terraform and the offline provider mirror (TAP_TF_PROVIDER_MIRROR)", file=sys.stderr)
        return 1
    base = args.keep or Path(tempfile.mkdtemp(prefix="tap-plan-fixtures-"))
    base.mkdir(parents=True, exist_ok=True)
    only = {n.strip() for n in args.only.split(",") if n.strip()}
    try:
        for example in examples:
            make_example(example, base, mirror, only)
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
