"""``drill`` and ``smoke`` on an outputs file or an environment they cannot use: exit 2 and one message naming it.

The outputs file is read with the config's strict loader, each key a command uses is checked
for its type, and botocore's "cannot even start a call" errors (no credentials, no region, no
endpoint) name what to set; an AWS error answer is the command's "not ok" (exit 1).
"""

from __future__ import annotations

import json
import socket

import pytest
from botocore import exceptions as bx

from tapinfra.cli import exits
from tapinfra.errors import Problem
from tapinfra.operator import drill, smoke
from tapinfra.strict_json import MAX_NESTING
from tests.synth import example_config, synth

VALID_DRILL_OUTPUTS = {"primary_health_check_id": "hc-1", "secondary_health_check_id": "hc-2",
                       "custom_domain_url": "https://api.example.com"}
VALID_SMOKE_OUTPUTS = {"primary_invoke_url": "https://abc.execute-api.us-east-1.amazonaws.com/v1",
                       "secondary_invoke_url": "https://def.execute-api.us-west-2.amazonaws.com/v1",
                       "primary_api_key_ids": {"demo": "k1"}}


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    path = tmp_path_factory.mktemp("stack") / "cdk.tf.json"
    path.write_text(json.dumps(synth(example_config("default")).doc))
    return path


@pytest.fixture
def no_aws_credentials(monkeypatch, tmp_path):
    """An environment where boto3 finds no credentials anywhere (and does not wait for instance metadata)."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_PROFILE",
                 "AWS_DEFAULT_PROFILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                 "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    import boto3

    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)  # a session of an earlier test keeps the credentials it found


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write(tmp_path, content) -> str:
    path = tmp_path / "outputs.json"
    path.write_bytes(content if isinstance(content, bytes) else json.dumps(content).encode())
    return str(path)


# (file content, a text the one message must contain); None: no file at all
OUTPUTS_FILES = {
    "missing": (None, "--outputs"),
    "not JSON": (b"{oops", "valid JSON"),
    "not UTF-8": (b'{"custom_domain_url": "\xff"}', "UTF-8"),
    "deeply nested": (("[" * (MAX_NESTING + 4) + "]" * (MAX_NESTING + 4)).encode(), f"at most {MAX_NESTING} levels"),
    "huge integer": (b'{"primary_health_check_id": ' + b"7" * 5000 + b"}", "outputs.primary_health_check_id"),
    "a list": ([], "a JSON object of outputs"),
    "a number": (3, "a JSON object of outputs"),
    "duplicate keys": (b'{"custom_domain_url": "https://a", "custom_domain_url": "https://b"}', "each key once"),
}
DRILL_KEYS = {
    "empty": ({}, "outputs.primary_health_check_id"),
    "id a number": ({**VALID_DRILL_OUTPUTS, "secondary_health_check_id": 5}, "outputs.secondary_health_check_id"),
    "id null": ({**VALID_DRILL_OUTPUTS, "primary_health_check_id": {"value": None}}, "outputs.primary_health_check_id"),
    "url without https": ({**VALID_DRILL_OUTPUTS, "custom_domain_url": "api.example.com"}, "outputs.custom_domain_url"),
    "url a list": ({**VALID_DRILL_OUTPUTS, "custom_domain_url": ["https://a"]}, "outputs.custom_domain_url"),
}


@pytest.mark.parametrize("case", sorted({**OUTPUTS_FILES, **DRILL_KEYS}))
def test_drill_with_outputs_it_cannot_use_is_exit_2_naming_the_file_or_key(case, stack, tmp_path, capsys):
    content, expected = {**OUTPUTS_FILES, **DRILL_KEYS}[case]
    outputs = str(tmp_path / "missing.json") if content is None else _write(tmp_path, content)

    def no_aws(service, region):
        raise AssertionError("bad outputs must be refused before any AWS client exists")

    for dry_run in ([], ["--dry-run"]):
        argv = ["--region", "primary", "--stack-json", str(stack), "--outputs", outputs, *dry_run]
        assert drill.main(argv, clients=no_aws) == 2, (case, dry_run)
        err = capsys.readouterr().err
        assert err.startswith("tapinfra drill: ") and expected in err and "Traceback" not in err, err


@pytest.mark.parametrize("flag,value", [("--timeout", "nan"), ("--timeout", "inf"), ("--timeout", "0"), ("--interval", "-1")])
def test_drill_refuses_a_wait_that_is_not_a_positive_finite_number(flag, value, stack, tmp_path, capsys):
    argv = ["--region", "primary", "--stack-json", str(stack), "--outputs", _write(tmp_path, VALID_DRILL_OUTPUTS), flag, value]
    assert drill.main(argv) == 2
    assert flag in capsys.readouterr().err


def test_drill_without_credentials_names_what_to_set(no_aws_credentials, stack, tmp_path, capsys):
    argv = ["--region", "primary", "--stack-json", str(stack), "--outputs", _write(tmp_path, VALID_DRILL_OUTPUTS)]
    assert drill.main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "AWS credentials" in err and "AWS_ACCESS_KEY_ID" in err and "Traceback" not in err


def test_drill_against_an_unreachable_endpoint_names_it(no_aws_credentials, monkeypatch, stack, tmp_path, capsys):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{_closed_port()}")
    argv = ["--region", "primary", "--stack-json", str(stack), "--outputs", _write(tmp_path, VALID_DRILL_OUTPUTS)]
    assert drill.main(argv) == 2
    err = capsys.readouterr().err
    assert "AWS endpoint" in err and "AWS_ENDPOINT_URL" in err and "Traceback" not in err


def test_an_aws_error_answer_is_not_ok_not_a_traceback(stack, tmp_path, capsys):
    class Refusing:
        def __getattr__(self, operation):
            def call(**kwargs):
                raise bx.ClientError({"Error": {"Code": "AccessDenied", "Message": "not for you"}}, "GetParameter")
            return call

    argv = ["--region", "primary", "--stack-json", str(stack), "--outputs", _write(tmp_path, VALID_DRILL_OUTPUTS)]
    assert drill.main(argv, clients=lambda service, region: Refusing()) == 1
    err = capsys.readouterr().err
    assert err == "tapinfra drill: AWS refused GetParameter: AccessDenied: not for you\n"


SMOKE_KEYS = {
    "empty": ({}, "outputs.primary_invoke_url"),
    "url a number": ({**VALID_SMOKE_OUTPUTS, "secondary_invoke_url": 5}, "outputs.secondary_invoke_url"),
    "url with a space": ({**VALID_SMOKE_OUTPUTS, "primary_invoke_url": "https://a b/v1"}, "outputs.primary_invoke_url"),
    "url without a host": ({**VALID_SMOKE_OUTPUTS, "primary_invoke_url": "https:///v1"}, "outputs.primary_invoke_url"),
    "custom domain a number": ({**VALID_SMOKE_OUTPUTS, "custom_domain_url": 7}, "outputs.custom_domain_url"),
}


@pytest.mark.parametrize("case", sorted({**OUTPUTS_FILES, **SMOKE_KEYS}))
def test_smoke_with_outputs_it_cannot_use_is_exit_2_naming_the_file_or_key(case, tmp_path, capsys):
    content, expected = {**OUTPUTS_FILES, **SMOKE_KEYS}[case]
    if case == "huge integer":
        content, expected = b'{"primary_invoke_url": ' + b"7" * 5000 + b"}", "outputs.primary_invoke_url"
    outputs = str(tmp_path / "missing.json") if content is None else _write(tmp_path, content)
    assert smoke.main(["--outputs", outputs, "--tenant", "demo", "--key", "k"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("tapinfra smoke: ") and expected in err and "Traceback" not in err, err


@pytest.mark.parametrize("ids", [["k1"], "demo", {"demo": 5}, None])
def test_smoke_refuses_key_ids_of_the_wrong_type(ids, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("TAP_API_KEY", raising=False)
    outputs = _write(tmp_path, {**VALID_SMOKE_OUTPUTS, "primary_api_key_ids": ids})
    assert smoke.main(["--outputs", outputs, "--tenant", "demo"], clients=lambda s, r: pytest.fail("no AWS call")) == 2
    assert "outputs.primary_api_key_ids" in capsys.readouterr().err


@pytest.mark.parametrize("argv,name", [(["--key", "kéy"], "--key"), (["--key", "k\n"], "--key"),
                                       (["--key", "k", "--replication-timeout", "nan"], "--replication-timeout")])
def test_smoke_refuses_a_bad_key_or_timeout(argv, name, tmp_path, capsys):
    assert smoke.main(["--outputs", _write(tmp_path, VALID_SMOKE_OUTPUTS), "--tenant", "demo", *argv]) == 2
    assert capsys.readouterr().err.startswith(f"tapinfra smoke: {name}")


def test_smoke_without_a_key_or_credentials_names_what_to_set(no_aws_credentials, monkeypatch, tmp_path, capsys):
    monkeypatch.delenv("TAP_API_KEY", raising=False)
    assert smoke.main(["--outputs", _write(tmp_path, VALID_SMOKE_OUTPUTS), "--tenant", "demo"]) == 2
    err = capsys.readouterr().err
    assert "AWS credentials" in err and "Traceback" not in err


@pytest.mark.parametrize("body", ["<html>oops</html>", None, [], {"id": 5}, {"name": "x"}])
def test_a_reply_of_the_wrong_shape_is_a_failed_check(body):
    """A proxy answering HTML, or an item without its fields: FAIL lines and exit 1, never a traceback."""
    def http(method, url, payload=None):
        if url.endswith("/health"):
            return smoke.Reply(200, {"status": "ok", "region": "r"})
        return smoke.Reply({"POST": 201, "GET": 200, "PUT": 200, "DELETE": 204}[method], body)

    report = smoke.Smoke({"primary": "https://p", "secondary": "https://s"}, http, replication_timeout=0,
                         sleep=lambda s: None, log=lambda line: None).run()
    assert not report.ok and any(not c.ok and "expected" in c.detail for c in report.checks)


def test_a_reply_cut_short_is_a_failed_check():
    import http.client

    def cut_short(method, url, payload=None):
        raise http.client.IncompleteRead(b"{")

    report = smoke.Smoke({"primary": "https://p", "secondary": "https://s"}, cut_short, sleep=lambda s: None, log=lambda line: None).run()
    assert report.checks and not any(c.ok for c in report.checks)
    assert all("IncompleteRead" in c.detail for c in report.checks)


# ---------------------------------------------------------------- the policy itself, per botocore error

def _client_error():
    return bx.ClientError({"Error": {"Code": "ParameterNotFound", "Message": "no such parameter"}}, "GetParameter")


@pytest.mark.parametrize("exc,code,named", [
    (bx.NoCredentialsError(), 2, "AWS_ACCESS_KEY_ID"),
    (bx.PartialCredentialsError(provider="env", cred_var="AWS_SECRET_ACCESS_KEY"), 2, "AWS_SECRET_ACCESS_KEY"),
    (bx.NoRegionError(), 2, "AWS_REGION"),
    (bx.InvalidRegionError(region_name="us east 1"), 2, "us east 1"),
    (bx.EndpointConnectionError(endpoint_url="https://ssm.x.amazonaws.com"), 2, "AWS_ENDPOINT_URL"),
    (_client_error(), 1, "ParameterNotFound"),
    (exits.InputError([Problem("--outputs", "f.json", "a file")]), 2, "--outputs"),
])
def test_each_input_error_has_its_exit_code_and_names_what_to_fix(exc, code, named, capsys):
    assert exits.report("tapinfra x", exc) == code
    err = capsys.readouterr().err
    assert err.startswith("tapinfra x: ") and named in err and err.count("\n") == 1


@pytest.mark.parametrize("exc", [ValueError("a bug"), KeyError("k"), bx.BotoCoreError()])
def test_anything_else_is_not_an_input_error(exc):
    """A bug stays a bug (a traceback the tests see), not a quiet exit 2."""
    assert exits.report("tapinfra x", exc) is None


def test_the_decorator_leaves_argparse_exits_alone():
    @exits.command("tapinfra x")
    def main(argv):
        raise SystemExit(0)

    with pytest.raises(SystemExit) as exc:
        main([])
    assert exc.value.code == 0
