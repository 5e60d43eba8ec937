"""In-process synthesis for tests, cached per config for the whole session.

Synthesis is the expensive part of every infrastructure test, so each distinct config is
synthesized once. ``Testing.app`` would leave a temp dir behind per call: every app here
writes below one session directory that is removed at exit.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tapinfra.config import TapConfig, load_config

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
EXAMPLE_NAMES = ("minimal", "default", "full")
REGIONS = ("aws.primary", "aws.secondary")  # the serving regions' provider references

_SESSION_DIR = Path(tempfile.mkdtemp(prefix="tapinfra-tests-"))
atexit.register(shutil.rmtree, _SESSION_DIR, True)
_CACHE: dict[str, "Synth"] = {}


@dataclass
class Synth:
    config: TapConfig
    doc: dict[str, Any]      # Testing.synth: sorted JSON, no metadata
    stack: Any
    _full_dir: Path | None = None

    def full_synth_dir(self) -> Path:
        """The stack directory of a full synth (cdk.tf.json plus assets)."""
        if self._full_dir is None:
            # Testing.full_synth writes to a fresh temp dir it never removes: synth a real app here instead.
            from tapinfra.app import stack_id, synth_app

            outdir = Path(tempfile.mkdtemp(dir=_SESSION_DIR))
            synth_app(self.config, outdir)
            self._full_dir = outdir / "stacks" / stack_id(self.config)
        return self._full_dir


def scratch_app():
    """A ``Testing.app`` writing below the session directory (removed at exit)."""
    from cdktf import Testing

    return Testing.app(outdir=tempfile.mkdtemp(dir=_SESSION_DIR))


def synth(config: TapConfig) -> Synth:
    # The application's files are part of what is synthesized: a changed source or document
    # is another stack, whatever the config says.
    from tapinfra.application import load_application

    application = load_application(config.application)
    content = hashlib.sha256(repr((application.files(), application.document.read_bytes())).encode()).hexdigest()
    key = json.dumps(config.to_dict(), sort_keys=True) + content
    if key not in _CACHE:
        from cdktf import Testing
        from tapinfra.stack import TapStack

        stack = TapStack(scratch_app(), "test", config)
        _CACHE[key] = Synth(config, json.loads(Testing.synth(stack)), stack)
    return _CACHE[key]


def example_config(name: str, **overrides: Any) -> TapConfig:
    return load_config(EXAMPLES / f"{name}.json", environ={})


_REF = re.compile(r"^\$\{([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([a-z0-9_]+)\}$")
_DATA_REF = re.compile(r"^\$\{data\.([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([a-z0-9_]+)\}$")


class Tf:
    """Queries over a synthesized document."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc

    def resources(self, rtype: str) -> dict[str, dict[str, Any]]:
        return self.doc.get("resource", {}).get(rtype, {})

    def data(self, dtype: str) -> dict[str, dict[str, Any]]:
        return self.doc.get("data", {}).get(dtype, {})

    def one(self, rtype: str, provider: str | None = None) -> tuple[str, dict[str, Any]]:
        found = [(k, v) for k, v in self.resources(rtype).items() if provider is None or v.get("provider") == provider]
        assert len(found) == 1, f"expected one {rtype} (provider={provider}), found {[k for k, _ in found]}"
        return found[0]

    def region_keys(self) -> dict[str, str]:
        """provider -> name of that region's data key (the symmetric, rotating one; not DNSSEC's)."""
        out = {}
        for name, body in self.resources("aws_kms_key").items():
            if "customer_master_key_spec" not in body and body["provider"] in ("aws.primary", "aws.secondary"):
                assert body["provider"] not in out, f"two data keys in {body['provider']}"
                out[body["provider"]] = name
        return out

    def regions(self) -> dict[str, str]:
        """alias -> region of the primary and secondary providers."""
        return {p["alias"]: p["region"] for p in self.doc["provider"]["aws"] if p["alias"] in ("primary", "secondary")}

    def in_region(self, rtype: str, provider: str) -> dict[str, dict[str, Any]]:
        """name -> body of every ``rtype`` of one provider (``aws.primary``, ...)."""
        return {name: body for name, body in self.resources(rtype).items() if body.get("provider") == provider}

    def by_provider(self, rtype: str, **match: Any) -> dict[str, tuple[str, dict[str, Any]]]:
        """provider -> (name, body) of the one ``rtype`` in each region (asserts there is one),
        among those whose attributes equal ``match`` (e.g. ``handler="app.handler"``)."""
        out: dict[str, tuple[str, dict[str, Any]]] = {}
        for name, body in self.resources(rtype).items():
            if any(body.get(key) != value for key, value in match.items()):
                continue
            assert body["provider"] not in out, f"two {rtype} in {body['provider']}"
            out[body["provider"]] = (name, body)
        return out

    def bucket_of(self, ref: str) -> str:
        """The aws_s3_bucket a ``${aws_s3_bucket.<name>.id|arn|bucket}`` reference names."""
        rtype, name, _ = self.referenced(ref)
        assert rtype == "aws_s3_bucket", ref
        return name

    def bucket_part(self, rtype: str, bucket: str) -> tuple[str, dict[str, Any]]:
        """The one ``rtype`` (versioning, policy, notification, ...) configuring the aws_s3_bucket ``bucket``."""
        found = [(n, b) for n, b in self.resources(rtype).items() if self.bucket_of(b["bucket"]) == bucket]
        assert len(found) == 1, f"expected one {rtype} for {bucket}, found {[n for n, _ in found]}"
        return found[0]

    def log_buckets(self) -> set[str]:
        """Buckets that receive server access logs (targets of aws_s3_bucket_logging)."""
        return {self.bucket_of(b["target_bucket"]) for b in self.resources("aws_s3_bucket_logging").values()}

    def data_buckets(self) -> set[str]:
        """The replicated data buckets: the replication rule's source and destination."""
        found = set()
        for body in self.resources("aws_s3_bucket_replication_configuration").values():
            found.add(self.bucket_of(body["bucket"]))
            found.update(self.bucket_of(rule["destination"]["bucket"]) for rule in body["rule"])
        return found

    def all_blocks(self):
        """Every (kind, type, name, body) for resources and data sources."""
        for kind in ("resource", "data"):
            for rtype, items in self.doc.get(kind, {}).items():
                for name, body in items.items():
                    yield kind, rtype, name, body

    def ref(self, rtype: str, name: str, attr: str) -> str:
        return f"${{{rtype}.{name}.{attr}}}"

    def data_ref(self, dtype: str, name: str, attr: str) -> str:
        return f"${{data.{dtype}.{name}.{attr}}}"

    def policy(self, json_ref: str) -> list[dict[str, Any]]:
        """The statements of the aws_iam_policy_document that ``json_ref`` points at."""
        m = _DATA_REF.match(json_ref)
        assert m and m.group(1) == "aws_iam_policy_document" and m.group(3) == "json", f"not a policy document reference: {json_ref}"
        return self.data("aws_iam_policy_document")[m.group(2)]["statement"]

    def referenced(self, ref: str) -> tuple[str, str, dict[str, Any]]:
        """The resource a ``${type.name.attr}`` reference points at."""
        m = _REF.match(ref)
        assert m, f"not a resource reference: {ref}"
        return m.group(1), m.group(2), self.resources(m.group(1))[m.group(2)]
