"""The README tells the truth: its configuration reference is the code's."""

from tests.synth import ROOT
from tools.update_readme import render


def test_readme_reference_matches_the_config_module():
    readme = (ROOT / "README.md").read_text()
    assert render(readme) == readme, "run: .venv/bin/python tools/update_readme.py"


def test_readme_opens_with_the_two_commands():
    head = (ROOT / "README.md").read_text().split("## ")[0]
    assert "make synth" in head and "make test" in head
