"""The fast path (tapinfra.enable_fast_import + tapinfra._fastimport) against the stock one.

* Every example synthesizes byte-identical output (every file of the output directory)
  with the fast path and with ``TAP_STOCK_IMPORT=1``, ``python main.py`` in subprocesses.
* Those runs really took the path they were meant to: the provider submodules imported
  (``sys.modules`` at exit) and the node preloads' debug lines tell.
* ``import tapinfra`` changes no global state; the fast path is on only once enabled.
* What the fast path drops or defers is still checked: a wrong argument type is refused
  by the kernel, a failed assembly load is raised at the next request.
* The light packages fall back to the stock behaviour on a layout they do not recognise.

The three fast ``main.py`` runs and one stock process that runs ``main.main`` for every
example start together (the stock import takes ~20 s of CPU: it is the slow thing being
replaced, paid once); the whole file takes about a minute.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tapinfra import _fastimport
from tapinfra.provider import AWS_PACKAGE, ARCHIVE_PACKAGE

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ("minimal", "default", "full")
MODES = ("fast", "stock")
RUN_TIMEOUT_S = 300
AWS_SUBMODULES = 2135  # cdktf-cdktf-provider-aws 20.1.0


def _env(mode: str) -> dict[str, str]:
    # Neither the developer's TAP_* overrides nor NODE_OPTIONS: the same env for both modes.
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAP_") and k not in ("NODE_OPTIONS", "CDKTF_OUTDIR")}
    env["TAPINFRA_FASTIMPORT_DEBUG"] = "1"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    if mode == "stock":
        env["TAP_STOCK_IMPORT"] = "1"
    return env


# Runs ``main.py`` as ``python main.py`` would (``runpy``), then reports which provider
# submodules were imported. (``-X importtime`` can't tell: it does not see
# ``importlib.import_module``.)
_RUN_MAIN = """
import atexit, json, runpy, sys
def report():
    mods = sorted(m for m in sys.modules if m.startswith("cdktf_cdktf_provider_aws."))
    sys.stderr.write("tapinfra-test-modules " + json.dumps(mods) + "\\n")
atexit.register(report)
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


# The stock side: ``main.main`` for each (config, outdir) pair in one process, so the stock
# import is paid once; the same submodule report at exit.
_RUN_MAINS = """
import atexit, json, sys
def report():
    mods = sorted(m for m in sys.modules if m.startswith("cdktf_cdktf_provider_aws."))
    sys.stderr.write("tapinfra-test-modules " + json.dumps(mods) + "\\n")
atexit.register(report)
import main
pairs = sys.argv[1:]
for config, outdir in zip(pairs[::2], pairs[1::2]):
    status = main.main(["--config", config, "--outdir", outdir])
    if status:
        sys.exit(status)
"""


def _config(example: str) -> str:
    return str(ROOT / "examples" / f"{example}.json")


def _synth(example: str, outdir: Path) -> subprocess.CompletedProcess:
    """``python main.py`` of one example on the fast path, as a user runs it."""
    cmd = [sys.executable, "-c", _RUN_MAIN, "main.py", "--config", _config(example), "--outdir", str(outdir)]
    return subprocess.run(cmd, cwd=ROOT, env=_env("fast"), capture_output=True, text=True, timeout=RUN_TIMEOUT_S)


def _synth_stock(jobs: dict[str, Path]) -> subprocess.CompletedProcess:
    """Every example on the stock path, one after the other in one process."""
    cmd = [sys.executable, "-c", _RUN_MAINS, *(arg for example, outdir in jobs.items() for arg in (_config(example), str(outdir)))]
    return subprocess.run(cmd, cwd=ROOT, env=_env("stock"), capture_output=True, text=True, timeout=RUN_TIMEOUT_S)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """{(example, mode): (outdir, CompletedProcess)}: the fast runs and the stock process started at once."""
    base = tmp_path_factory.mktemp("fast-import")
    jobs = {(example, mode): base / f"{example}-{mode}" for example in EXAMPLES for mode in MODES}
    with ThreadPoolExecutor(max_workers=len(EXAMPLES) + 1) as pool:
        stock = pool.submit(_synth_stock, {example: jobs[example, "stock"] for example in EXAMPLES})
        fast = {example: pool.submit(_synth, example, jobs[example, "fast"]) for example in EXAMPLES}
        results = {(example, "fast"): (jobs[example, "fast"], future.result()) for example, future in fast.items()}
        results.update({(example, "stock"): (jobs[example, "stock"], stock.result()) for example in EXAMPLES})
    for (example, mode), (_, proc) in results.items():
        assert proc.returncode == 0, f"{example} ({mode}) failed:\n{proc.stderr[-4000:]}"
    yield results
    shutil.rmtree(base, ignore_errors=True)


def _tree(outdir: Path) -> dict[str, bytes]:
    return {str(p.relative_to(outdir)): p.read_bytes() for p in sorted(outdir.rglob("*")) if p.is_file()}


def _imported(stderr: str) -> set[str]:
    """The aws provider submodules the run had imported when it exited."""
    found = re.findall(r"^tapinfra-test-modules (.*)$", stderr, re.M)
    assert len(found) == 1, stderr[-3000:]
    names = {m.split(".")[1] for m in json.loads(found[0])}
    return names - {"_jsii", "_private"}


@pytest.mark.parametrize("example", EXAMPLES)
def test_fast_and_stock_synthesize_identical_output(runs, example):
    fast_dir, _ = runs[example, "fast"]
    stock_dir, _ = runs[example, "stock"]
    fast, stock = _tree(fast_dir), _tree(stock_dir)
    assert any(name.endswith("cdk.tf.json") for name in fast), sorted(fast)
    assert sorted(fast) == sorted(stock)
    for name in fast:
        assert fast[name] == stock[name], f"{example}: {name} differs between the fast and the stock path"


@pytest.mark.parametrize("example", EXAMPLES)
def test_output_has_no_machine_specific_paths(runs, example):
    outdir, _ = runs[example, "fast"]
    for path in outdir.rglob("cdk.tf.json"):
        text = path.read_text()
        for machine_path in {str(ROOT), str(outdir), sys.prefix, _fastimport.PRELOAD_PATH}:
            assert machine_path not in text, f"{path.name} contains {machine_path}"


@pytest.mark.parametrize("example", EXAMPLES)
def test_fast_runs_took_the_fast_path(runs, example):
    _, proc = runs[example, "fast"]
    # Python: only the submodules the stack uses were imported.
    imported = _imported(proc.stderr)
    assert 0 < len(imported) < 150, sorted(imported)
    # Node: the kernel got the preload, and it made the aws index lazy.
    assert "tapinfra fast import (node): lazy index for @cdktf/provider-aws@" in proc.stderr
    loaded = re.search(r"@cdktf/provider-aws: (\d+) of (\d+) submodules loaded", proc.stderr)
    if loaded:  # printed at kernel exit
        assert int(loaded.group(1)) < 150 and int(loaded.group(2)) == AWS_SUBMODULES
    # No fallback to the stock way, on either side.
    assert "stock way" not in proc.stderr, proc.stderr[-3000:]


@pytest.mark.parametrize("example", EXAMPLES)
def test_stock_runs_took_the_stock_path(runs, example):
    _, proc = runs[example, "stock"]
    assert len(_imported(proc.stderr)) >= AWS_SUBMODULES
    assert "lazy index" not in proc.stderr
    assert "tapinfra fast import" not in proc.stderr


def _python(code: str, **env: str) -> dict:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("TAP_") and k != "NODE_OPTIONS"}
    full_env.update(env)
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, env=full_env,
        capture_output=True, text=True, timeout=RUN_TIMEOUT_S,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


FAST_MODE = {
    "node": "fast",
    "kernel": "direct, pipelined",
    "typechecks": "skipped",
    "annotations": "not evaluated",
    "exit": "quick",
    AWS_PACKAGE: "fast",
    ARCHIVE_PACKAGE: "fast",
}
STOCK_MODE = {
    "node": "stock",
    "kernel": "stock",
    "typechecks": "on",
    "annotations": "evaluated",
    "exit": "stock",
    AWS_PACKAGE: "stock",
    ARCHIVE_PACKAGE: "stock",
}


def test_import_tapinfra_changes_no_global_state():
    """Issue 9: ``import tapinfra`` alone installs nothing (the issue's one-liner, and more)."""
    result = _python(
        """
        import json, os, sys
        meta_path, environ = list(sys.meta_path), dict(os.environ)
        import tapinfra
        assert list(sys.meta_path) == meta_path
        print(json.dumps({
            "meta_path_same": list(sys.meta_path) == meta_path,
            "environ_same": dict(os.environ) == environ,
            "bindings": sorted(m for m in sys.modules if m.split(".")[0] in
                               ("jsii", "cdktf", "constructs", "cdktf_cdktf_provider_aws", "cdktf_cdktf_provider_archive")),
            "mode": tapinfra.import_mode(),
        }))
        """
    )
    assert result["meta_path_same"] is True
    assert result["environ_same"] is True
    assert result["bindings"] == []
    assert result["mode"] == STOCK_MODE


def test_enable_is_explicit_idempotent_and_starts_nothing():
    result = _python(
        """
        import json, os, sys
        import tapinfra
        before = len(sys.meta_path)
        first = tapinfra.enable_fast_import()
        second = tapinfra.enable_fast_import()
        print(json.dumps({
            "first": first, "same": first == second == tapinfra.import_mode(),
            "finders_added": len(sys.meta_path) - before,
            "started": [m for m in ("jsii", "cdktf", "constructs") if m in sys.modules],
            "node_options": "NODE_OPTIONS" in os.environ,
        }))
        """
    )
    assert result["first"] == FAST_MODE
    assert result["same"] is True
    assert result["finders_added"] == 1
    assert result["started"] == []
    assert result["node_options"] is False


def test_enabling_too_late_warns_and_stays_stock():
    proc = subprocess.run(
        [sys.executable, "-c", "import json, cdktf, tapinfra; print(json.dumps(tapinfra.enable_fast_import()))"],
        cwd=ROOT, env=_env("fast"), capture_output=True, text=True, timeout=RUN_TIMEOUT_S,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    mode = json.loads(proc.stdout.strip().splitlines()[-1])
    assert mode["kernel"] == "stock" and mode["node"] == "stock"
    assert mode["typechecks"] == "partly skipped"  # only the providers, not yet imported
    assert mode["annotations"] == "partly not evaluated"
    assert "started before tapinfra.enable_fast_import()" in proc.stderr


def test_seam_is_light_and_resolves_unimported_types():
    result = _python(
        """
        import json, os, sys
        import tapinfra
        mode = tapinfra.enable_fast_import()
        import tapinfra.provider as p
        pre = {"jsii": "jsii" in sys.modules, "cdktf": "cdktf" in sys.modules, "node_options": "NODE_OPTIONS" in os.environ}
        from cdktf import App, TerraformStack
        stack = TerraformStack(App(outdir="unused"), "s")
        bucket = p.aws.s3_bucket.S3Bucket(stack, "b")
        versioning = bucket.versioning  # a complex object made by the kernel
        # A resource made on the JS side, of a submodule Python never imported: jsii must
        # import it on demand to give it its Python class.
        from jsii._kernel.types import CreateRequest
        from jsii._runtime import kernel
        unimported = "cdktf_cdktf_provider_aws.sqs_queue_policy"
        before = unimported in sys.modules
        kernel.provider.create(CreateRequest(fqn="@cdktf/provider-aws.sqsQueuePolicy.SqsQueuePolicy",
                                             args=[stack, "q", {"policy": "{}", "queueUrl": "u"}]))
        child = stack.node.find_child("q")
        pre["node_options_after"] = "NODE_OPTIONS" in os.environ
        mods = sorted(m for m in sys.modules if m.startswith("cdktf_cdktf_provider_aws.") and not m.endswith("._private"))
        # The kernel is one node process, a child of this one (no jsii wrapper process).
        children = open(f"/proc/{os.getpid()}/task/{os.getpid()}/children").read().split()
        commands = [open(f"/proc/{c}/comm").read().strip() for c in children]
        print(json.dumps({"mode": mode, "pre": pre, "mods": mods, "before": before,
                          "child": type(child).__module__ + "." + type(child).__name__,
                          "versioning": type(versioning).__name__, "children": commands,
                          "light": getattr(sys.modules["cdktf_cdktf_provider_aws"], "__tapinfra_fast_import__", None) is not None}))
        """
    )
    assert result["mode"] == FAST_MODE
    # Enabling starts nothing and leaks no NODE_OPTIONS.
    assert result["pre"] == {"jsii": False, "cdktf": False, "node_options": False, "node_options_after": False}
    assert result["light"] is True
    assert result["before"] is False
    assert result["child"] == "cdktf_cdktf_provider_aws.sqs_queue_policy.SqsQueuePolicy"
    assert result["versioning"] == "S3BucketVersioningOutputReference"
    assert result["mods"] == [
        "cdktf_cdktf_provider_aws._jsii",
        "cdktf_cdktf_provider_aws.s3_bucket",
        "cdktf_cdktf_provider_aws.sqs_queue_policy",
    ]
    assert result["children"] == ["node"]


def test_kernel_started_early_is_adopted_by_jsii():
    result = _python(
        """
        import json, os, sys
        import tapinfra
        mode = tapinfra.enable_fast_import(start_kernel=True)
        from tapinfra._fastimport import kernel
        early = kernel.early_kernel_pid()
        jsii_before = "jsii" in sys.modules
        import cdktf
        from jsii._kernel import Kernel
        app = cdktf.App(outdir="unused")
        print(json.dumps({"mode": mode["kernel"], "early": early, "jsii_before": jsii_before,
                          "adopted": Kernel().provider._process._process.pid == early, "outdir": app.outdir}))
        """
    )
    assert result["mode"] == "direct, pipelined, started early"
    assert result["early"] is not None and result["jsii_before"] is False
    assert result["adopted"] is True
    assert result["outdir"] == "unused"


def test_kernel_started_early_is_replaced_when_the_environment_changed(tmp_path):
    """A kernel started before ``os.environ`` changed would not see the change: not adopted."""
    result = _python(
        f"""
        import json, os
        import tapinfra
        tapinfra.enable_fast_import(start_kernel=True)
        from tapinfra._fastimport import kernel
        early = kernel.early_kernel_pid()
        os.environ["CDKTF_OUTDIR"] = {str(tmp_path / "from-env")!r}
        import cdktf
        from jsii._kernel import Kernel
        print(json.dumps({{"outdir": cdktf.App().outdir, "early_gone": not os.path.exists(f"/proc/{{early}}"),
                          "replaced": Kernel().provider._process._process.pid != early}}))
        """
    )
    assert result == {"outdir": str(tmp_path / "from-env"), "early_gone": True, "replaced": True}


def test_kernel_started_early_and_never_used_is_stopped_at_exit():
    proc = subprocess.run(
        [sys.executable, "-c", "import tapinfra, glob\n"
         "tapinfra.enable_fast_import(start_kernel=True)\n"
         "from tapinfra._fastimport import process\n"
         "print(process.early_kernel_pid(), process._EARLY.runtime_dir)\n"],
        cwd=ROOT, env=_env("fast"), capture_output=True, text=True, timeout=RUN_TIMEOUT_S,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    pid, runtime_dir = proc.stdout.split()
    assert not Path(f"/proc/{pid}").exists(), "the early kernel outlived its Python"
    assert not Path(runtime_dir).exists()


def test_skipped_argument_checks_still_refuse_wrong_types():
    """The bindings' Python-side checks are off, the kernel's are not; user code keeps typing."""
    result = _python(
        """
        import json, sys, typing
        import tapinfra
        tapinfra.enable_fast_import()
        from cdktf import App, TerraformStack
        from tapinfra.provider import aws
        stack = TerraformStack(App(outdir="unused"), "s")
        refused = {}
        for name, make in {
            "int for a string": lambda: aws.s3_bucket.S3Bucket(stack, "b1", bucket=123),
            "string for a map": lambda: aws.s3_bucket.S3Bucket(stack, "b2", tags="x"),
            "missing required field": lambda: aws.s3_bucket_versioning.S3BucketVersioningA(
                stack, "v", bucket="b",
                versioning_configuration=aws.s3_bucket_versioning.S3BucketVersioningVersioningConfiguration(status=None)),
        }.items():
            try:
                make()
                refused[name] = None
            except Exception as exc:
                refused[name] = f"{type(exc).__name__}: {exc}"
        module = sys.modules["cdktf_cdktf_provider_aws.s3_bucket._private"]
        def annotated(x: int) -> str: ...
        print(json.dumps({"refused": refused, "skipped": module.__dict__.get("__tapinfra_skipped_checks__"),
                          "user_hints": str(typing.get_type_hints(annotated))}))
        """
    )
    assert result["skipped"] is True
    expected = {
        "int for a string": "Unable to deserialize value",  # the kernel's check
        "string for a map": "Unable to deserialize value",
        "missing required field": "Required property 'status' is missing",  # the struct's own
    }
    for name, error in result["refused"].items():
        assert error is not None, f"{name} was accepted"
        assert expected[name] in error, error
    assert result["user_hints"] == "{'x': <class 'int'>, 'return': <class 'str'>}"


def test_failed_deferred_load_is_raised_at_the_next_request():
    result = _python(
        """
        import json
        import tapinfra
        tapinfra.enable_fast_import()
        import cdktf  # starts the kernel
        from jsii._runtime import kernel
        kernel.load("no-such-assembly", "1.0.0", "/nonexistent/no-such-assembly-1.0.0.tgz")  # not awaited
        try:
            cdktf.App(outdir="unused")
            error = None
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
        print(json.dumps({"error": error}))
        """
    )
    assert result["error"] is not None
    assert "loading no-such-assembly@1.0.0" in result["error"]


def test_failed_predicted_create_is_raised_at_the_next_request_naming_it():
    """A create answered in advance that the kernel refuses (here a duplicate construct id)
    raises at the next request Python waits for, with the class and id it was creating."""
    result = _python(
        """
        import json
        import tapinfra
        tapinfra.enable_fast_import()
        import cdktf
        from tapinfra.provider import aws
        stack = cdktf.TerraformStack(cdktf.App(outdir="unused"), "s")
        aws.sqs_queue.SqsQueue(stack, "first")    # the first of its class: awaited, learned
        aws.sqs_queue.SqsQueue(stack, "first")    # answered in advance; the kernel refuses it
        try:
            stack.node.path                         # the next request that needs an answer
            error = None
        except Exception as exc:
            error = str(exc)
        print(json.dumps({"error": error}))
        """
    )
    assert result["error"] is not None
    assert "creating @cdktf/provider-aws.sqsQueue.SqsQueue 'first'" in result["error"]
    assert "There is already a Construct with name 'first'" in result["error"]


def test_python_overrides_turn_predicted_creates_off_and_callbacks_work():
    """An object with Python overrides (an aspect) can be called back while the kernel
    constructs: from then on every create is awaited, and the synth still visits."""
    result = _python(
        """
        import json
        import jsii
        import tapinfra
        tapinfra.enable_fast_import()
        import cdktf
        from tapinfra._fastimport import kernel
        from tapinfra.provider import aws

        @jsii.implements(cdktf.IAspect)
        class Count:
            seen = 0
            def visit(self, node):
                Count.seen += 1

        stack = cdktf.TerraformStack(cdktf.App(outdir="unused"), "s")
        aws.sqs_queue.SqsQueue(stack, "a")
        aws.sqs_queue.SqsQueue(stack, "b")
        before = kernel.predictions().overrides_seen
        cdktf.Aspects.of(stack).add(Count())
        aws.sqs_queue.SqsQueue(stack, "c")
        synthesized = json.loads(cdktf.Testing.synth(stack))
        print(json.dumps({"before": before, "after": kernel.predictions().overrides_seen,
                          "broken": kernel.predictions().broken, "visited": Count.seen,
                          "queues": sorted(synthesized["resource"]["aws_sqs_queue"])}))
        """
    )
    assert result["before"] is False and result["after"] is True and result["broken"] is False
    assert result["visited"] >= 4 and result["queues"] == ["a", "b", "c"]


def test_each_part_can_be_left_stock():
    result = _python(
        """
        import json, tapinfra
        print(json.dumps(tapinfra.enable_fast_import()))
        """,
        TAP_FAST_IMPORT_OFF="typechecks,direct",
    )
    assert result == {**FAST_MODE, "kernel": "wrapper, pipelined", "typechecks": "on"}


def test_binding_annotations_stay_strings_and_their_code_is_cached(tmp_path):
    code = """
        import json, os
        import tapinfra
        mode = tapinfra.enable_fast_import()
        from tapinfra.provider import aws
        hints = aws.s3_bucket.S3Bucket.__init__.__annotations__
        cache = os.path.join(os.environ["XDG_CACHE_HOME"], "tapinfra", "bytecode")
        entries = sorted(os.path.join(d, f) for d, _, fs in os.walk(cache) for f in fs)
        print(json.dumps({"mode": mode["annotations"], "bucket": hints["bucket"],
                          "entries": {e: os.stat(e).st_mtime_ns for e in entries}}))
        """
    first = _python(code, XDG_CACHE_HOME=str(tmp_path))
    second = _python(code, XDG_CACHE_HOME=str(tmp_path))
    assert first["mode"] == "not evaluated"
    assert first["bucket"] == "typing.Optional[builtins.str]"  # a string: never evaluated
    assert len(first["entries"]) >= 4  # constructs, cdktf, the provider's _jsii and s3_bucket
    assert second["entries"] == first["entries"]  # read back, not compiled again


def test_bindings_compile_without_evaluating_cast_types():
    from tapinfra._fastimport.bytecode import compile_binding

    source = (
        b"import typing\n"
        b"evaluated = []\n"
        b"def kind(name):\n"
        b"    evaluated.append(name)\n"
        b"    return typing.Any\n"
        b"def get(x) -> 'typing.Optional[int]':\n"
        b"    return typing.cast(kind('getter'), x)\n"
        b"value = get(5)\n"
        b"kept = typing.cast(typ=kind('keywords'), val=1) if False else None\n"
    )
    namespace: dict = {}
    exec(compile_binding(source, "generated.py"), namespace)
    assert namespace["value"] == 5
    assert namespace["evaluated"] == []  # the cast's type was never built
    assert namespace["get"].__annotations__ == {"return": "'typing.Optional[int]'"}
    # A module that rebinds ``typing`` keeps its casts.
    rebinding = b"import typing as t\nimport collections as typing\nvalue = typing.cast(1, 2) if False else 3\n"
    names = compile_binding(rebinding, "other.py").co_names
    assert "cast" in names


def test_without_a_writable_code_cache_bindings_compile_the_stock_way(tmp_path):
    not_a_directory = tmp_path / "file"
    not_a_directory.write_text("")
    result = _python(
        """
        import json, tapinfra
        mode = tapinfra.enable_fast_import()
        from tapinfra.provider import aws
        print(json.dumps({"mode": mode["annotations"],
                          "bucket": repr(aws.s3_bucket.S3Bucket.__init__.__annotations__["bucket"])}))
        """,
        XDG_CACHE_HOME=str(not_a_directory),
    )
    assert result == {"mode": "evaluated (no writable code cache)", "bucket": "typing.Optional[str]"}


def test_quick_exit_keeps_exit_status_and_flushes_files(tmp_path):
    target = tmp_path / "written-at-exit.txt"
    code = (
        "import atexit, sys, tapinfra\n"
        "tapinfra.enable_fast_import()\n"
        f"f = open({str(target)!r}, 'w')\n"
        "f.write('kept')  # never closed: flushed when the interpreter releases it\n"
        "atexit.register(print, 'handler ran')\n"
        "sys.exit(3)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=_env("fast"), capture_output=True, text=True,
                          timeout=RUN_TIMEOUT_S)
    assert proc.returncode == 3
    assert proc.stdout == "handler ran\n"
    assert target.read_text() == "kept"


def test_stock_switch_installs_nothing():
    result = _python(
        """
        import json, sys
        import tapinfra
        mode = tapinfra.enable_fast_import()
        import tapinfra.provider as p
        hooks = [type(f).__name__ for f in sys.meta_path if type(f).__module__.startswith("tapinfra.")]
        pre = "cdktf_cdktf_provider_aws" in sys.modules
        p.archive.provider  # the stock package: its __init__ imports every submodule
        archive = sys.modules["cdktf_cdktf_provider_archive"]
        print(json.dumps({"mode": mode, "hooks": hooks, "aws_registered": pre,
                          "light": getattr(archive, "__tapinfra_fast_import__", None) is not None,
                          "archive_mods": sorted(m for m in sys.modules if m.startswith("cdktf_cdktf_provider_archive.")
                                                 and not m.endswith("_private"))}))
        """,
        TAP_STOCK_IMPORT="1",
    )
    assert result["mode"] == STOCK_MODE
    assert result["hooks"] == []
    assert result["aws_registered"] is False
    assert result["light"] is False
    assert result["archive_mods"] == [
        "cdktf_cdktf_provider_archive._jsii",
        "cdktf_cdktf_provider_archive.data_archive_file",
        "cdktf_cdktf_provider_archive.file",
        "cdktf_cdktf_provider_archive.provider",
    ]


def _package_dir(package: str) -> Path:
    import importlib.util

    spec = importlib.util.find_spec(package)
    assert spec is not None and spec.submodule_search_locations
    return Path(list(spec.submodule_search_locations)[0])


@pytest.mark.parametrize("package", [AWS_PACKAGE, ARCHIVE_PACKAGE])
def test_submodule_map_matches_generated_types(package):
    """jsii namespace -> Python submodule, as the light package registers it, is exact."""
    directory = _package_dir(package)
    submodules = _fastimport._check_root_init((directory / "__init__.py").read_text(), "__init__.py")
    assembly = {AWS_PACKAGE: "@cdktf/provider-aws", ARCHIVE_PACKAGE: "@cdktf/provider-archive"}[package]
    for name in submodules:
        with open(directory / name / "__init__.py", encoding="utf-8") as f:
            head = f.read(65536)
        fqn = re.search(r'jsii_type="([^"]+)"', head).group(1)
        assert fqn.rsplit(".", 1)[0] == f"{assembly}.{_fastimport.namespace_of(name)}", name


def test_unexpected_package_layout_is_refused():
    source = (_package_dir(ARCHIVE_PACKAGE) / "__init__.py").read_text()
    assert _fastimport._check_root_init(source, "ok") == ["data_archive_file", "file", "provider"]
    for changed in (
        source + "\nclass RootLevelType:\n    pass\n",  # a root-level type
        source + "\nSOMETHING = 1\n",
        source.replace("from ._jsii import *", ""),
        source.replace("from . import file\n", ""),  # __all__ and the imports disagree
    ):
        with pytest.raises(_fastimport.FastImportUnavailable):
            _fastimport._check_root_init(changed, "changed")


# ---- the kernel's program.js, patched; tarball digests remembered ----------------------------

def test_every_kernel_source_patch_applies_to_the_installed_jsii():
    """An upgrade of jsii that moves a patched piece fails here, not as a quietly slower synth."""
    from tapinfra._fastimport import kernel_source

    program = next(path for path, relative in kernel_source.embedded_runtime().items() if relative == kernel_source.PROGRAM)
    source = Path(program).read_text(encoding="utf-8")
    names = tuple(patch.name for patch in kernel_source.PATCHES)
    patched, applied = kernel_source.apply(source, names)
    assert applied == names
    for patch in kernel_source.PATCHES:
        assert patch.old not in patched and patched.count(patch.new) == 1, patch.name
    assert kernel_source.apply(patched, names) == (patched, ()), "a patched piece is never patched twice"


def _digest_with_preload(tarball: Path, digests: Path) -> dict:
    """globalThis.__tapinfraTarballDigest in a fresh node, as the patched kernel calls it."""
    script = textwrap.dedent("""
        const crypto = require('crypto'), fs = require('fs');
        let computed = 0;
        const stock = () => {  // jsii's digestFile: the file, then "\\0" + each extra key
          computed += 1;
          const hash = crypto.createHash('sha256').update(fs.readFileSync(process.argv[1]));
          for (const k of ['cdktf', '0.21.0']) { hash.update('\\0'); hash.update(k); }
          return hash.digest();
        };
        const digest = globalThis.__tapinfraTarballDigest(process.argv[1], ['cdktf', '0.21.0'], stock);
        console.log(JSON.stringify({digest: digest.toString('hex'), computed}));
    """)
    env = {**os.environ, "JSII_AGENT": "test", "TAPINFRA_TARBALL_DIGESTS": str(digests)}
    proc = subprocess.run(["node", "--require", _fastimport.plan.TARBALL_DIGESTS, "-e", script, str(tarball)],
                          env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_tarball_digest_is_remembered_until_the_file_changes(tmp_path):
    import hashlib

    tarball, digests = tmp_path / "pkg.jsii.tgz", tmp_path / "cache" / "digests.json"
    tarball.write_bytes(b"first")
    expected = hashlib.sha256(b"first\0cdktf\x000.21.0").hexdigest()
    assert _digest_with_preload(tarball, digests) == {"digest": expected, "computed": 1}
    assert _digest_with_preload(tarball, digests) == {"digest": expected, "computed": 0}  # another kernel
    tarball.write_bytes(b"second")
    changed = hashlib.sha256(b"second\0cdktf\x000.21.0").hexdigest()
    assert _digest_with_preload(tarball, digests) == {"digest": changed, "computed": 1}
    digests.write_text("not json")
    assert _digest_with_preload(tarball, digests) == {"digest": changed, "computed": 1}


def test_the_fast_kernel_runs_the_patched_program(tmp_path):
    """A real kernel started by the fast path asks the preload for each tarball's digest."""
    result = _python(
        """
        import json, os
        import tapinfra
        tapinfra.enable_fast_import(start_kernel=True)
        import cdktf
        cdktf.App(outdir="unused")
        path = os.path.join(os.environ["XDG_CACHE_HOME"], "tapinfra", "tarball-digests.json")
        print(json.dumps(sorted(json.loads(key)[1] for key in json.load(open(path)))))
        """,
        XDG_CACHE_HOME=str(tmp_path),
    )
    assert {"constructs", "cdktf"} <= set(result)
