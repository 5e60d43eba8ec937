"""``python -m tapinfra cli-config``: the offline mirror's CLI config for users, one export line."""

from __future__ import annotations

import shlex

from tapinfra import tfcli
from tapinfra.cli import cli_config


def fake_mirror(root):
    platform_dir = root / tfcli.AWS_PROVIDER / tfcli.AWS_VERSION / tfcli.os_arch()
    platform_dir.mkdir(parents=True)
    (platform_dir / f"terraform-provider-aws_v{tfcli.AWS_VERSION}_x5").write_bytes(b"")
    return root


def test_writes_the_config_and_prints_the_export_line(tmp_path, monkeypatch, capsys):
    mirror = fake_mirror(tmp_path / "mirror dir")
    monkeypatch.setenv(tfcli.MIRROR_ENV, str(mirror))
    out = tmp_path / "conf" / "terraform.rc"
    assert cli_config.main(["--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert printed == f"export TF_CLI_CONFIG_FILE={shlex.quote(str(out))}\n"
    text = out.read_text()
    assert f'path    = "{mirror}"' in text and f'include = ["{tfcli.AWS_PROVIDER}"]' in text
    assert f'exclude = ["{tfcli.AWS_PROVIDER}"]' in text, "everything else (none needed in asset mode) goes direct"


def test_no_mirror_is_one_line_and_exit_1(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(tfcli.MIRROR_ENV, str(tmp_path / "not-a-mirror"))
    out = tmp_path / "terraform.rc"
    assert cli_config.main(["--out", str(out)]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and not out.exists()
    assert tfcli.MIRROR_ENV in captured.err and captured.err.count("\n") == 1


def test_registered_as_commands():
    from tapinfra.__main__ import COMMANDS

    assert COMMANDS["cli-config"][0] == "tapinfra.cli.cli_config"
    assert COMMANDS["review"][0] == "tapinfra.cli.review"
