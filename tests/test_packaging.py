"""Inline packaging: archive_file sources and the asset zip hold the same files, byte for byte."""

import re
import zipfile
from pathlib import Path

import pytest

from tapinfra.config import with_changes
from tapinfra.constructs.packaging import ZIP_DATE, collect, deterministic_zip, terraform_literal
from tapinfra.application import load_application
from tapinfra.config import TapConfig
from tests.synth import Tf, example_config, synth


def _untemplate(text: str) -> str:
    return text.replace("$${", "${").replace("%%{", "%{")


def test_archive_file_lists_every_file_sorted_under_path_module(default_tf):
    (body,) = [b for b in default_tf.data("archive_file").values() if "/function-" in b["output_path"]]
    assert body["type"] == "zip"
    assert re.fullmatch(r"\$\{path\.module\}/function-[0-9a-f]{16}\.zip", body["output_path"])
    names = [s["filename"] for s in body["source"]]
    assert names == sorted(names)
    assert names == [name for name, _ in load_application(TapConfig().application).files()]  # the source + tapinfra/runtime/
    assert "app.py" in names
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)


def test_both_modes_package_the_same_names_and_bytes(tmp_path):
    cfg = example_config("default")
    inline = Tf(synth(cfg).doc)
    (body,) = [b for b in inline.data("archive_file").values() if "/function-" in b["output_path"]]
    inline_files = {s["filename"]: _untemplate(s["content"]).encode() for s in body["source"]}

    asset_run = synth(with_changes(cfg, packaging={"mode": "asset"}))
    stack_dir = asset_run.full_synth_dir()
    zips = sorted(stack_dir.glob("assets/**/function-*.zip"))
    assert len(zips) == 1
    with zipfile.ZipFile(zips[0]) as zf:
        asset_files = {info.filename: zf.read(info) for info in zf.infolist()}
        assert [i.filename for i in zf.infolist()] == sorted(asset_files)
        assert {i.date_time for i in zf.infolist()} == {ZIP_DATE}
        assert {i.external_attr >> 16 for i in zf.infolist()} == {0o100644}
    assert asset_files == inline_files


def test_asset_mode_needs_no_archive_provider():
    doc = synth(with_changes(example_config("default"), packaging={"mode": "asset"})).doc
    assert "archive_file" not in doc.get("data", {})
    assert "archive" not in doc["provider"]
    assert "archive" not in doc["terraform"]["required_providers"]


def test_zip_is_deterministic(tmp_path):
    files = [("b.txt", b"2"), ("a.txt", b"1")]
    one = deterministic_zip(sorted(files), tmp_path / "one.zip").read_bytes()
    two = deterministic_zip(sorted(files), tmp_path / "two.zip").read_bytes()
    assert one == two


def test_template_sequences_stay_literal():
    assert terraform_literal('f"${x}" and %{ if }') == 'f"$${x}" and %%{ if }'
    assert _untemplate(terraform_literal("a ${b} %{c}")) == "a ${b} %{c}"


def test_collect_skips_caches_and_rejects_empty_or_missing(tmp_path):
    (tmp_path / "pkg" / "__pycache__").mkdir(parents=True)
    (tmp_path / "pkg" / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"\0")
    (tmp_path / "pkg" / "mod.py").write_text("x = 1\n")
    (tmp_path / "pkg" / ".hidden").write_text("no")
    assert collect(tmp_path / "pkg", "p/") == [("p/mod.py", b"x = 1\n")]
    with pytest.raises(FileNotFoundError, match="does not exist"):
        collect(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="holds no files"):
        collect(tmp_path / "empty")


def test_the_zip_name_changes_with_the_code(tmp_path):
    from tapinfra.constructs.packaging import CodePackage
    from cdktf import App, TerraformStack

    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "a.py").write_text("x = 1\n")
    stack = TerraformStack(App(outdir=str(tmp_path / "out")), "s")
    one = CodePackage(stack, "one", source_dir=tmp_path / "code", name="fn", mode="asset")
    (tmp_path / "code" / "a.py").write_text("x = 2\n")
    two = CodePackage(stack, "two", source_dir=tmp_path / "code", name="fn", mode="asset")
    assert one.zip_name != two.zip_name and one.zip_name.startswith("fn-")


def test_packaged_file_lists_are_exactly_the_runtime_files(default_tf):
    """What ships: lambda/'s runtime modules and the canary's two files and its health contract, nothing else."""
    by_zip = {b["output_path"].split("/")[-1].rsplit("-", 1)[0]: [s["filename"] for s in b["source"]]
              for b in default_tf.data("archive_file").values()}
    # the reference application's files as they stand (Python modules and its OpenAPI document),
    # and the runtime tapinfra ships in every zip; nothing else
    from tapinfra.assets import reference_application_dir

    source = [p.name for p in reference_application_dir().iterdir() if p.is_file() and not p.name.endswith(".pyc")]
    assert by_zip["function"] == sorted([*source, "tapinfra/__init__.py", "tapinfra/runtime/__init__.py",
                                         "tapinfra/runtime/health.py", "tapinfra/runtime/openapi.py"])
    assert "openapi.json" in source and all(n.endswith(".py") or n == "openapi.json" for n in source)
    assert by_zip["canary"] == ["nodejs/node_modules/tapCanary.js", "nodejs/node_modules/tapHealth.js",
                                "nodejs/node_modules/tapHealthContract.json"]
