"""tapinfra as a user installs it: the wheel and sdist, built offline, used from outside the checkout.

The wheel goes into a fresh virtual environment in a temporary folder. Its dependencies are
the ones this repository's lock installed (the venv reads that site-packages through a path
entry, after its own), so the test runs offline and in seconds; everything tapinfra itself
needs -- code, the reference application, the canary, the scaffold -- must come from the
wheel. (``pip install <checkout>`` with dependencies from the index works the same; the README's
quickstart does exactly that.)
"""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import pytest

from tapinfra._version import __version__
from tests import tfcheck
from tests.synth import REGIONS, ROOT

UNCOPIED = {".git", ".venv", ".venv-checkov", "cdktf.out", "build", "dist", ".pytest_cache", ".hypothesis", ".tfcheck",
            "tapinfra.egg-info"}
NODE_ENV = {"JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}


def _tree_copy(target: Path) -> Path:
    """The working tree as it stands (links kept: tapinfra/_assets links to lambda/ and canary/)."""
    def ignore(folder, names):
        skipped = {n for n in names if n in ("__pycache__", ".terraform") or n.endswith(".pyc")}
        return skipped | (UNCOPIED & set(names) if Path(folder) == ROOT else set())

    shutil.copytree(ROOT, target, symlinks=True, ignore=ignore)
    return target


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    work = tmp_path_factory.mktemp("dist")
    tree = _tree_copy(work / "tree")
    out = work / "dist"
    built = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(tree)],
                           capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    (wheel,) = out.glob("*.whl")
    (sdist,) = out.glob("*.tar.gz")
    return wheel, sdist


def test_wheel_and_sdist_pass_twine_check(dist):
    checked = subprocess.run([sys.executable, "-m", "twine", "check", "--strict", *map(str, dist)],
                             capture_output=True, text=True, timeout=120)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_wheel_carries_every_asset_and_nothing_of_the_checkout(dist):
    wheel, _ = dist
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ("tapinfra/_assets/items_api/app.py", "tapinfra/_assets/items_api/openapi.json",
                   "tapinfra/_assets/canary/tapCanary.js", "tapinfra/runtime/openapi.py",
                   "tapinfra/scaffold/templates/gitignore", "tapinfra/scaffold/templates/src/openapi.json",
                   "tapinfra/_fastimport/lazy_index.js", "tapinfra/operator/prices.json", "tapinfra/py.typed"):
        assert needed in names, needed
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc") or n.startswith(("tests/", "lambda/"))]
    metadata = zipfile.ZipFile(wheel).read(f"tapinfra-{__version__}.dist-info/METADATA").decode()
    assert f"Version: {__version__}" in metadata
    assert "Requires-Dist: cdktf==0.21.0" in metadata and "Requires-Dist: cdktf-cdktf-provider-aws==20.1.0" in metadata
    entry_points = zipfile.ZipFile(wheel).read(f"tapinfra-{__version__}.dist-info/entry_points.txt").decode()
    assert "tapinfra = tapinfra.__main__:console" in entry_points


def test_the_sdist_holds_the_assets_as_files(dist):
    _, sdist = dist
    with tarfile.open(sdist) as tar:
        members = {m.name.split("/", 1)[1]: m for m in tar.getmembers() if "/" in m.name}
    assert members["tapinfra/_assets/items_api/app.py"].isfile()  # a file, not a link into a checkout
    assert "pyproject.toml" in members and "docs/LICENSE" in members


@pytest.fixture(scope="module")
def venv(dist, tmp_path_factory):
    """A fresh venv outside the checkout with the wheel installed (dependencies: the lock's, read-only)."""
    wheel, _ = dist
    home = tmp_path_factory.mktemp("user")
    env_dir = home / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(env_dir)], check=True, timeout=120)
    python = env_dir / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    ours = sysconfig.get_paths()["purelib"]
    # appended after the venv's own site-packages: the wheel's tapinfra wins; this path's .pth
    # files (the checkout's editable install among them) are not processed
    Path(purelib, "locked-dependencies.pth").write_text(ours + "\n")
    installed = subprocess.run([str(python), "-m", "pip", "install", "--no-deps", "--no-index", "--quiet", str(wheel)],
                               capture_output=True, text=True, timeout=300)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    return home, env_dir


def run(venv, *args, cwd: Path, timeout: int = 300) -> subprocess.CompletedProcess:
    home, env_dir = venv
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "TAP_CONFIG", "CDKTF_OUTDIR")}
    env.update(NODE_ENV, PATH=f"{env_dir / 'bin'}{os.pathsep}{env['PATH']}", VIRTUAL_ENV=str(env_dir),
               PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run([*args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def test_the_installed_library_is_the_wheel_not_the_checkout(venv):
    home, env_dir = venv
    done = run(venv, "python", "-c", "import tapinfra, tapinfra.assets as a; print(tapinfra.__file__); "
               "print(a.reference_application_dir()); print(a.canary_sources_dir())", cwd=home)
    assert done.returncode == 0, done.stderr
    for line in done.stdout.split():
        assert line.startswith(str(env_dir)) and str(ROOT) not in line
    version = run(venv, "tapinfra", "--version", cwd=home)
    assert version.stdout.strip() == f"tapinfra {__version__}"


def test_the_default_stack_synthesizes_from_outside_the_checkout(venv):
    home, _ = venv
    done = run(venv, "python", "-c", "import sys, tapinfra; tapinfra.enable_fast_import(); "
               "from tapinfra.config import load_config; "
               "print(tapinfra.synth_app(load_config(None, environ={}), sys.argv[1]))", str(home / "default-out"), cwd=home)
    assert done.returncode == 0, done.stderr[-3000:]
    doc = json.loads(Path(done.stdout.strip()).read_text())
    assert len(doc["resource"]["aws_api_gateway_rest_api"]) == 2
    assert str(ROOT) not in json.dumps(doc)


@pytest.fixture(scope="module")
def project(venv):
    """``tapinfra init svc`` in the user's folder: the project, its first synth and test run."""
    home, _ = venv
    made = run(venv, "tapinfra", "init", "svc", cwd=home)
    assert made.returncode == 0, made.stdout + made.stderr
    assert "recorded the tests' snapshot" in made.stdout
    return home / "svc"


def test_init_writes_a_project_whose_readme_opens_with_its_two_commands(project):
    for name in ("main.py", "cdktf.json", "tapinfra.json", "src/handler.py", "src/openapi.json", "tests/test_stack.py",
                 ".gitignore", "README.md"):
        assert (project / name).is_file(), name
    first = [line for line in (project / "README.md").read_text().splitlines() if line.startswith("python")][:2]
    assert first == ["python main.py        # synthesize both regions into cdktf.out/",
                     "python -m pytest      # the stack's snapshot and properties"]
    assert json.loads((project / "cdktf.json").read_text())["app"] == "python3 main.py"


def test_the_project_synthesizes_and_its_tests_pass(venv, project):
    synth = run(venv, "python", "main.py", cwd=project)
    assert synth.returncode == 0, synth.stderr[-3000:]
    tests = run(venv, "python", "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=project)
    assert tests.returncode == 0, tests.stdout[-3000:] + tests.stderr[-3000:]
    assert "6 passed" in tests.stdout


def test_a_path_added_to_the_projects_document_is_served_in_both_regions(venv, project, tmp_path, tf_env):
    doc_path = project / "src" / "openapi.json"
    doc = json.loads(doc_path.read_text())
    doc["paths"]["/farewells/{name}"] = {"delete": {
        "parameters": [{"name": "name", "in": "path", "required": True}], "responses": {"204": {"description": "gone"}}}}
    doc_path.write_text(json.dumps(doc, indent=2))
    config = json.loads((project / "tapinfra.json").read_text())
    config["packaging"] = {"mode": "asset"}  # terraform validate: no hashicorp/archive offline
    (project / "asset.json").write_text(json.dumps(config))
    out = tmp_path / "out"
    synth = run(venv, "python", "main.py", "--config", "asset.json", "--outdir", str(out), cwd=project)
    assert synth.returncode == 0, synth.stderr[-3000:]
    stack_dir = out / "stacks" / "svc-dev"
    resources = json.loads((stack_dir / "cdk.tf.json").read_text())["resource"]
    added = [m for name, m in resources["aws_api_gateway_method"].items() if "delete-farewells-name" in name]
    assert sorted(m["provider"] for m in added) == sorted(REGIONS)
    assert all(m["api_key_required"] is True for m in added)  # the document's default security
    init = tfcheck.run(["init", "-backend=false", "-input=false", "-no-color"], stack_dir, tf_env)
    assert init.returncode == 0, init.stdout + init.stderr
    report = json.loads(tfcheck.run(["validate", "-json", "-no-color"], stack_dir, tf_env).stdout)
    assert report["valid"] and report["error_count"] == 0, json.dumps(report["diagnostics"], indent=1)
    # the snapshot test sees the change: the stack is not what was recorded
    tests = run(venv, "python", "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", "snapshot", cwd=project)
    assert tests.returncode == 1 and "snapshot" in tests.stdout


@pytest.fixture(scope="module")
def tf_env(tmp_path_factory):
    return tfcheck.offline_cli_config(tmp_path_factory, checks="TERRAFORM CHECKS (scaffolded project)", workdir="tfcli-pkg")


@pytest.mark.parametrize("args, words", [
    (["init", "svc"], "holds files: add --force"),
    (["init", "fresh", "--app", "Bad-Name"], "--app: got 'Bad-Name'"),
    (["init", "fresh", "--app", "waytoolongappname"], "at most 12"),
])
def test_init_refuses_bad_input_with_exit_2(venv, project, args, words):
    home, _ = venv
    done = run(venv, "tapinfra", *args, cwd=home)
    assert done.returncode == 2 and words in done.stderr and "Traceback" not in done.stderr


def test_init_into_a_file_path_is_refused(venv, tmp_path):
    (tmp_path / "taken").write_text("")
    done = run(venv, "tapinfra", "init", str(tmp_path / "taken"), "--app", "svc", cwd=tmp_path)
    assert done.returncode == 2 and "it is a file" in done.stderr
