"""Every command's answer to bad input: exit 2 and one message, never a traceback.

The command list is ``tapinfra.__main__.COMMANDS``: a command added there is covered by the
generic cases (``--help`` 0, an unknown option 2) without a line here, and the table of bad
inputs below must name every command but the ones other modules test in depth (``BAD_INPUTS``
says which). ``main.py`` (the cdktf app) follows the same policy for its output directory.

The answer (exit status, stdout, stderr) is the command's ``main(argv)``, called in this
process: an exception escaping it is what a user would see as a traceback, and fails the test.
What only a process shows -- the interpreter's exit status, ``python -m`` dispatch, a fresh
environment without AWS credentials -- is checked by a few real subprocesses
(``test_the_process_boundary``), one per kind of answer.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import main as synth_cli
from tapinfra.__main__ import COMMANDS, main as tapinfra_main
from tests.synth import example_config, synth

ROOT = Path(__file__).resolve().parent.parent
# Tested in depth elsewhere (tests/test_review.py, the scaffold's tests): here the generic cases and garbage input only.
TESTED_ELSEWHERE = {"review": [["/nonexistent/plan.json"], ["{garbage}"]], "init": [["/dev/null/project"]]}
# What a command sees of the environment: none of the developer's AWS, tapinfra or cdktf settings.
CLEAN_ENV = {"AWS_EC2_METADATA_DISABLED": "true", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/credentials",
             "AWS_CONFIG_FILE": "/nonexistent/config"}


def _clean(environ) -> dict:
    return {k: v for k, v in environ.items() if not k.startswith(("AWS_", "TAP_", "CDKTF_"))}


def run(*argv: str, env: dict | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    """``python *argv`` as a user runs it, in a clean environment."""
    base = {**_clean(os.environ), **CLEAN_ENV, **(env or {})}
    return subprocess.run([sys.executable, *argv], cwd=cwd, env=base, capture_output=True, text=True, timeout=180)


def _exit_status(exc: SystemExit) -> int:
    """The status the interpreter would exit with (``sys.exit("text")`` prints it and exits 1)."""
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code
    print(exc.code, file=sys.stderr)
    return 1


@pytest.fixture
def call(monkeypatch, capsys):
    """``call(main, argv)``: a command's ``main(argv)`` in this process, as a CompletedProcess."""
    for name in list(os.environ):
        if name.startswith(("AWS_", "TAP_", "CDKTF_")):
            monkeypatch.delenv(name)
    for name, value in CLEAN_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(ROOT)
    import boto3

    # boto3's default session keeps the credentials it found first (another test's moto keys).
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)

    def call(entry, argv: list[str], env: dict | None = None) -> subprocess.CompletedProcess:
        with monkeypatch.context() as scoped:
            for name, value in (env or {}).items():
                scoped.setenv(name, value)
            capsys.readouterr()
            try:
                status = entry(argv)
            except SystemExit as exc:
                status = _exit_status(exc)
            out = capsys.readouterr()
        return subprocess.CompletedProcess(argv, status, out.out, out.err)

    return call


@pytest.fixture
def tapinfra(call):
    """``tapinfra <argv>`` in this process."""
    return lambda *argv: call(tapinfra_main, ["tapinfra", *argv])


def assert_bad_input(result: subprocess.CompletedProcess, *named: str) -> None:
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout, result.stderr
    assert result.stderr.strip(), "exit 2 says why"
    for text in named:
        assert text in result.stderr, (text, result.stderr)


# ---------------------------------------------------------------- the command line itself

@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_is_usage_on_stdout_and_exit_0(tapinfra, flag):
    result = tapinfra(flag)
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout.startswith("usage:") and all(name in result.stdout for name in COMMANDS)


@pytest.mark.parametrize("argv,named", [([], "no command given"), (["frobnicate"], "'frobnicate'"), (["--halp"], "'--halp'"),
                                        (["Cost"], "'Cost'")])
def test_no_or_an_unknown_command_is_exit_2_naming_it_and_the_allowed_ones(tapinfra, argv, named):
    result = tapinfra(*argv)
    assert_bad_input(result, named, ", ".join(COMMANDS))
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_commands_help_is_exit_0(tapinfra, command):
    result = tapinfra(command, "--help")
    assert result.returncode == 0, result.stderr
    assert "usage:" in result.stdout and "Traceback" not in result.stderr


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_refuses_an_unknown_option_with_exit_2(tapinfra, command):
    assert_bad_input(tapinfra(command, "--no-such-option"), "error:")  # argparse: the usage line and why


# ---------------------------------------------------------------- bad inputs, per command

@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A real stack file, valid drill and smoke outputs, and a few broken files."""
    d = tmp_path_factory.mktemp("inputs")
    (d / "stack.json").write_text(json.dumps(synth(example_config("default")).doc))
    (d / "drill-outputs.json").write_text(json.dumps({"primary_health_check_id": "a", "secondary_health_check_id": "b",
                                                      "custom_domain_url": "https://api.example.com"}))
    (d / "smoke-outputs.json").write_text(json.dumps({"primary_invoke_url": "https://a.execute-api.us-east-1.amazonaws.com/v1",
                                                      "secondary_invoke_url": "https://b.execute-api.us-west-2.amazonaws.com/v1",
                                                      "primary_api_key_ids": {"demo": "k"}}))
    release = synth(example_config("default")).doc["output"]
    (d / "release-outputs.json").write_text(json.dumps({k: {"value": {**release[k]["value"], "alarms": ["a"], "function_name": "f",
                                                                     "alias_name": "live", "application": "a", "deployment_group": "g"}}
                                                        for k in ("primary_release", "secondary_release")}))
    (d / "latin1.json").write_bytes(b'{"provider": "\xe9t\xe9"}')
    (d / "null-sections.json").write_text('{"provider": null, "resource": [], "output": 3}')
    (d / "huge.json").write_text('{"provider": {"aws": []}, "resource": {"aws_lambda_function": {"f": {"memory_size": ' + "9" * 5000 + "}}}}")
    (d / "deep.json").write_text('{"resource": ' + "[" * 64 + "]" * 64 + "}")
    (d / "garbage.json").write_text("{garbage}")
    (d / "a-dir.dot").mkdir()
    return d


# command -> [(arguments, texts the message must contain)]; "{d}" is the files directory
BAD_INPUTS = {
    "schema": [(["extra"], ["extra"])],
    "reference": [(["extra"], ["extra"])],
    "cost": [(["--stack-json", "{d}/missing.json"], ["--stack-json", "missing.json"]),
             (["--stack-json", ""], ["--stack-json"]),
             (["--stack-json", "{d}/latin1.json"], ["--stack-json", "UTF-8"]),
             (["--stack-json", "{d}/null-sections.json"], ["null-sections.json at provider", "a JSON object"]),
             (["--stack-json", "{d}/huge.json"], ["huge.json at resource.aws_lambda_function.f.memory_size", "5000 digits"]),
             (["--stack-json", "{d}/deep.json"], ["deep.json at resource", "levels of nesting"]),
             (["--config", "{d}/garbage.json"], ["valid JSON"])],
    "diagram": [(["--stack-json", "{d}/stack.json", "--out", "{d}/a.jpg"], ["--out", ".svg, .png, .dot"]),
                (["--stack-json", "{d}/stack.json", "--out", "/dev/null/a.dot"], ["--out", "/dev/null is a file"]),
                (["--stack-json", "{d}/stack.json", "--out", "{d}/a-dir.dot"], ["--out", "is a directory"]),
                (["--stack-json", "{d}/null-sections.json", "--out", "{d}/a.dot"], ["at provider"]),
                (["--stack-json", "{d}/latin1.json", "--out", "{d}/a.dot"], ["UTF-8"])],
    "drill": [(["--region", "primary", "--stack-json", "{d}/stack.json"], ["--outputs"]),
              (["--region", "primary", "--stack-json", "{d}/stack.json", "--outputs", "{d}/missing.json"], ["--outputs", "missing.json"]),
              (["--region", "primary", "--stack-json", "{d}/stack.json", "--outputs", "{d}/garbage.json"], ["--outputs", "valid JSON"]),
              (["--region", "primary", "--stack-json", "{d}/stack.json", "--outputs", "{d}/smoke-outputs.json"],
               ["outputs.primary_health_check_id"]),
              (["--region", "primary", "--stack-json", "{d}/stack.json", "--outputs", "{d}/drill-outputs.json"],
               ["AWS credentials", "AWS_ACCESS_KEY_ID"]),
              (["--region", "tertiary", "--dry-run"], ["--region"])],
    "smoke": [(["--outputs", "{d}/missing.json", "--tenant", "demo", "--key", "k"], ["--outputs"]),
              (["--outputs", "{d}/latin1.json", "--tenant", "demo", "--key", "k"], ["--outputs", "UTF-8"]),
              (["--outputs", "{d}/drill-outputs.json", "--tenant", "demo", "--key", "k"], ["outputs.primary_invoke_url"]),
              (["--outputs", "{d}/smoke-outputs.json", "--tenant", "nobody"], ["--tenant", "demo"]),
              (["--outputs", "{d}/smoke-outputs.json", "--tenant", "demo"], ["AWS credentials"])],
    "release": [([], ["--outputs"]),
                (["--outputs", "{d}/missing.json"], ["--outputs", "missing.json"]),
                (["--outputs", "{d}/garbage.json"], ["--outputs", "valid JSON"]),
                (["--outputs", "{d}/drill-outputs.json"], ["outputs.secondary_release", "release.enabled"]),
                (["--outputs", "{d}/release-outputs.json", "--interval", "-1"], ["--interval", "positive"]),
                (["--outputs", "{d}/release-outputs.json"], ["AWS credentials", "AWS_ACCESS_KEY_ID"])],
    "rehearse": [(["--example", "nowhere"], ["--example", "nowhere", "default"]),
                 (["--config", "{d}/missing.json"], ["--config", "missing.json"]),
                 (["--config", "{d}/garbage.json"], ["valid JSON"]),
                 (["--example", "default", "--workdir", "/dev/null/work"], ["--workdir", "/dev/null/work", "Not a directory"])],
    "cli-config": [(["--out", "{d}"], ["--out", "is a directory"]),
                   (["--out", "/dev/null/terraform.rc"], ["--out", "/dev/null is a file"]),
                   (["--out", ""], ["--out"]),
                   (["--out", "/proc/terraform.rc"], ["--out", "cannot write in /proc"])],
}
CASES = [(command, argv, named) for command, cases in BAD_INPUTS.items() for argv, named in cases]


def test_every_command_has_bad_inputs_here_or_is_tested_elsewhere():
    """A new command in COMMANDS without a row here fails: its bad inputs are part of adding it."""
    known = set(BAD_INPUTS) | set(TESTED_ELSEWHERE)
    assert set(COMMANDS) <= known, f"add bad inputs for: {sorted(set(COMMANDS) - known)}"


@pytest.mark.parametrize("command,argv,named", CASES, ids=[f"{c}-{i}" for i, (c, _, _) in enumerate(CASES)])
def test_bad_input_is_exit_2_and_one_message_naming_it(tapinfra, files, command, argv, named):
    result = tapinfra(command, *(a.replace("{d}", str(files)) for a in argv))
    assert_bad_input(result, *named)
    if not named[0].startswith(("extra", "--region")):  # argparse's own errors are its usage line and one message
        assert result.stderr.startswith(f"tapinfra {command}: ") and result.stderr.count(f"tapinfra {command}: ") == 1, result.stderr


@pytest.mark.parametrize("command", sorted(set(TESTED_ELSEWHERE) & set(COMMANDS)))
def test_garbage_input_to_commands_tested_elsewhere_is_exit_2(tapinfra, files, command):
    for argv in TESTED_ELSEWHERE[command]:
        garbage = [str(files / "garbage.json") if a == "{garbage}" else a for a in argv]
        assert_bad_input(tapinfra(command, *garbage))


# ---------------------------------------------------------------- main.py: the output directory

def _readonly_dirs(tmp_path) -> list[str]:
    """Directories this user cannot write in. As root chmod stops nothing: /proc and /sys refuse new files to anyone."""
    found = [d for d in ("/proc", "/sys") if os.path.isdir(d)]
    if os.geteuid() != 0:
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o555)
        found.append(str(locked))
    return found


def test_main_py_refuses_an_outdir_it_cannot_use(call, tmp_path):
    (tmp_path / "a-file").write_text("x")
    (tmp_path / "stacks-file").mkdir()
    (tmp_path / "stacks-file" / "stacks").write_text("x")
    cases = [
        (["--outdir", ""], {}, ["--outdir", "not empty"]),
        ([], {"CDKTF_OUTDIR": ""}, ["CDKTF_OUTDIR", "not empty"]),
        (["--outdir", str(tmp_path / "a-file")], {}, ["--outdir", "is a file"]),
        (["--outdir", str(tmp_path / "a-file" / "out")], {"CDKTF_OUTDIR": "ignored"}, ["--outdir", "Not a directory"]),
        ([], {"CDKTF_OUTDIR": str(tmp_path / "stacks-file")}, ["CDKTF_OUTDIR", "stacks is a file"]),
    ] + [(["--outdir", d], {}, ["--outdir", d]) for d in _readonly_dirs(tmp_path)]
    for argv, env, named in cases:
        result = call(synth_cli.main, argv, env=env)
        assert_bad_input(result, *named, "expected a directory path that exists or can be created")  # what is allowed
        assert result.stderr.count("\n") == 1, (argv, env, result.stderr)


def test_main_py_refuses_a_stack_directory_that_is_a_file(call, tmp_path):
    """The stack's own directory (stacks/<app>-<env>) is known once the config is: checked before synthesis."""
    stack_id = example_config("minimal").stack_id
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / stack_id).write_text("x")
    result = call(synth_cli.main, ["--config", str(ROOT / "examples" / "minimal.json"), "--outdir", str(tmp_path)])
    assert_bad_input(result, "--outdir", f"{stack_id} is a file")


# ---------------------------------------------------------------- the process boundary

# One real process per kind of answer: usage on stdout (0), dispatch refusing a command (2),
# argparse's usage error (2), botocore finding no credentials in a fresh process (2), main.py (2).
PROCESS_CASES = [
    (["-m", "tapinfra", "--help"], 0, "usage:"),
    (["-m", "tapinfra", "frobnicate"], 2, "'frobnicate'"),
    (["-m", "tapinfra", "cost", "--no-such-option"], 2, "error:"),
    (["-m", "tapinfra", "smoke", "--outputs", "{d}/smoke-outputs.json", "--tenant", "demo"], 2, "AWS credentials"),
    (["main.py", "--outdir", ""], 2, "--outdir"),
]


@pytest.mark.parametrize("argv,status,named", PROCESS_CASES, ids=[" ".join(a[:3]) for a, _, _ in PROCESS_CASES])
def test_the_process_boundary(files, argv, status, named):
    result = run(*(a.replace("{d}", str(files)) for a in argv))
    assert result.returncode == status, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr and named in (result.stdout if status == 0 else result.stderr), result
