"""terraform init + validate of every example, synthesized in asset mode, against the offline mirror."""

import json

import pytest

from tapinfra.config import with_changes
from tests import tfcheck
from tests.synth import EXAMPLE_NAMES, example_config, synth


@pytest.fixture(scope="session")
def tf_env(tmp_path_factory):
    return tfcheck.offline_cli_config(tmp_path_factory, checks="TERRAFORM CHECKS", workdir="tfcli")


def test_mirror_search_honours_the_env_var(monkeypatch, tmp_path):
    monkeypatch.setenv("TAP_TF_PROVIDER_MIRROR", str(tmp_path))
    assert tfcheck.find_mirror() is None  # an explicit but wrong mirror is not silently replaced
    fake = tmp_path / tfcheck.AWS_PROVIDER / tfcheck.AWS_VERSION / tfcheck.os_arch()
    fake.mkdir(parents=True)
    (fake / "terraform-provider-aws_v5.100.0_x5").write_text("")
    assert tfcheck.find_mirror() == tmp_path


def test_terraform_runs_with_a_lazier_go_collector_unless_the_caller_set_one(monkeypatch, tmp_path):
    from tapinfra import tfcli

    monkeypatch.delenv("GOGC", raising=False)
    assert tfcli.terraform_env(tmp_path / "rc")["GOGC"] == tfcli.GO_GC_PERCENT == "400"
    monkeypatch.setenv("GOGC", "150")
    assert tfcli.terraform_env(tmp_path / "rc")["GOGC"] == "150"


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_example_is_valid_terraform(name, tf_env):
    config = with_changes(example_config(name), packaging={"mode": "asset"})
    stack_dir = synth(config).full_synth_dir()
    init = tfcheck.run(["init", "-backend=false", "-input=false", "-no-color"], stack_dir, tf_env)
    assert init.returncode == 0, init.stdout + init.stderr
    result = tfcheck.run(["validate", "-json", "-no-color"], stack_dir, tf_env)
    report = json.loads(result.stdout)
    assert report["valid"], json.dumps(report["diagnostics"], indent=1)
    assert report["error_count"] == 0
    warnings = {d["summary"] + ": " + d.get("detail", "") for d in report["diagnostics"] if d["severity"] == "warning"}
    assert warnings <= EXPECTED_WARNINGS


# hashicorp/aws 5.100 deprecates reset_on_delete because 6.0 makes it the only behaviour;
# without it a destroy leaves the account's logging setting naming the role it just deleted.
EXPECTED_WARNINGS = {
    'Attribute Deprecated: The "reset_on_delete" attribute will be removed in a future version of the provider',
}
