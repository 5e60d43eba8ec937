"""The diagram shows what each example synthesizes: its regions, global layer and flows."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from tapinfra.config import with_changes
from tapinfra.operator import diagram, model
from tests.synth import ROOT, example_config, synth

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
SVG = "{http://www.w3.org/2000/svg}"

# Per example: nodes that must be there, nodes that must not, edges (tail, head, kind) that must be there.
EXPECTED = {
    "minimal": dict(
        nodes={"zone", "routing", "primary_health", "secondary_health", "primary_canary", "secondary_canary"},
        absent={"us_east_1_ops"},
        edges={("clients", "routing", "traffic"), ("routing", "primary_waf", "traffic"), ("routing", "secondary_waf", "traffic"),
               ("primary_health", "routing", "health"), ("secondary_health", "routing", "health")},
        no_edges=set(),
    ),
    # minimal without a domain: health checks stay, nothing routes.
    "no-dns": dict(
        nodes={"clients", "global_table", "primary_api", "secondary_api", "primary_waf", "secondary_waf", "primary_fn",
               "secondary_fn", "primary_table", "secondary_table", "primary_drain", "secondary_drain",
               "primary_bucket", "secondary_bucket", "primary_bus", "secondary_bus", "primary_health", "secondary_health",
               "primary_canary", "secondary_canary"},
        absent={"routing", "zone", "us_east_1_ops"},
        edges={("clients", "primary_waf", "traffic"), ("clients", "secondary_waf", "traffic"),
               ("primary_waf", "primary_api", "traffic"), ("primary_api", "primary_fn", "traffic"),
               ("primary_fn", "primary_table", "traffic"), ("global_table", "secondary_table", "replication"),
               ("primary_bucket", "secondary_bucket", "replication"), ("primary_fn", "primary_drain", "reads"),
               ("primary_health", "primary_api", "health"), ("primary_canary", "primary_api", "health"),
               ("primary_bus", "secondary_bus", "events")},
        no_edges={("primary_health", "routing", "health")},
    ),
    "default": dict(
        nodes={"clients", "zone", "routing", "global_table", "primary_health", "secondary_health",
               "primary_canary", "secondary_canary", "primary_waf", "primary_fn", "secondary_fn"},
        absent={"us_east_1_ops", "us_east_1_dnssec"},
        edges={("clients", "routing", "traffic"), ("routing", "primary_waf", "traffic"), ("routing", "secondary_waf", "traffic"),
               ("primary_health", "primary_api", "health"), ("secondary_health", "routing", "health"),
               ("primary_canary", "primary_api", "health"), ("primary_bus", "secondary_bus", "events"),
               ("secondary_bus", "primary_bus", "events"), ("primary_bucket", "secondary_bucket", "replication"),
               ("global_table", "primary_table", "replication"), ("zone", "routing", "reads")},
        no_edges=set(),
    ),
    "full": dict(
        nodes={"zone", "routing", "us_east_1_ops", "us_east_1_dnssec", "us_east_1_query_log", "primary_health", "secondary_health"},
        absent=set(),
        edges={("primary_health", "us_east_1_ops", "health"), ("secondary_health", "us_east_1_ops", "health"),
               ("us_east_1_dnssec", "zone", "reads"), ("routing", "primary_waf", "traffic"),
               ("primary_bus", "secondary_bus", "events")},
        no_edges=set(),
    ),
}


def _config(name: str):
    if name == "no-dns":
        return with_changes(example_config("minimal"), features={"dns": False})
    return example_config(name)


def _diagram(name: str) -> diagram.Diagram:
    return diagram.build(model.from_document(synth(_config(name)).doc), title=name)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_diagram_has_the_nodes_and_edges_the_stack_synthesizes(name):
    d, want = _diagram(name), EXPECTED[name]
    assert want["nodes"] <= set(d.nodes), f"{name}: missing nodes {sorted(want['nodes'] - set(d.nodes))}"
    assert not (want["absent"] & set(d.nodes)), f"{name}: nodes of modules that are off: {sorted(want['absent'] & set(d.nodes))}"
    assert want["edges"] <= d.edge_keys(), f"{name}: missing edges {sorted(want['edges'] - d.edge_keys())}"
    assert not (want["no_edges"] & d.edge_keys()), f"{name}: unexpected edges {sorted(want['no_edges'] & d.edge_keys())}"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_regions_and_helper_are_clusters_labelled_with_their_region(name):
    d = _diagram(name)
    doc = synth(_config(name)).doc
    regions = {p["alias"]: p["region"] for p in doc["provider"]["aws"]}
    for alias, region in regions.items():
        assert alias in d.clusters and region in d.clusters[alias], f"{name}: cluster for {alias} ({region}) missing"
    assert ("us_east_1" in d.clusters) == ("us_east_1" in regions)


def test_the_routing_node_names_the_synthesized_policy():
    assert "failover routing" in _diagram("full").nodes["routing"].label
    assert "latency routing" in _diagram("default").nodes["routing"].label


def test_labels_with_quotes_and_newlines_are_escaped_for_dot():
    d = diagram.Diagram("t")
    d.node("a", 'say "hi"\\ok\nline', None)
    source = diagram.to_dot(d)
    assert '"say \\"hi\\"\\\\ok\\nline"' in source


def _dot_or_skip():
    if diagram.dot_binary() is None:
        if IN_CI:
            pytest.fail("graphviz's dot is missing in CI: make install must install it")
        pytest.skip("graphviz's dot is not installed (make install adds it on Debian)")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_rendered_svg_carries_every_node_and_edge(name, tmp_path):
    _dot_or_skip()
    d = _diagram(name)
    out = tmp_path / f"{name}.svg"
    diagram.render(diagram.to_dot(d), out, "svg")
    groups = {g.get("id"): g.get("class") for g in ET.parse(out).getroot().iter(f"{SVG}g")}
    assert {n for n, c in groups.items() if c == "node"} == set(d.nodes)
    drawn = {tuple(i.split(":")[1:]) for i, c in groups.items() if c and c.startswith("edge")}
    assert drawn == d.edge_keys()


def test_command_writes_png_and_dot_from_a_stack_json(tmp_path):
    _dot_or_skip()
    stack = tmp_path / "cdk.tf.json"
    stack.write_text(__import__("json").dumps(synth(example_config("minimal")).doc))
    from tapinfra.__main__ import main

    assert main(["tapinfra", "diagram", "--stack-json", str(stack), "--out", str(tmp_path / "a.png")]) == 0
    assert (tmp_path / "a.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["tapinfra", "diagram", "--stack-json", str(stack), "--out", str(tmp_path / "a.dot")]) == 0
    assert (tmp_path / "a.dot").read_text().startswith("digraph tapinfra {")


def test_command_refuses_an_unknown_format_and_a_bad_stack(tmp_path, capsys):
    from tapinfra.operator.diagram import main

    assert main(["--stack-json", "x.json", "--out", str(tmp_path / "a.jpg")]) == 2
    assert "--out" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text('{"resource": {}}')
    assert main(["--stack-json", str(bad), "--out", str(tmp_path / "a.dot")]) == 2
    err = capsys.readouterr().err
    assert "--stack-json" in err and "Traceback" not in err


def test_readme_png_is_the_default_examples_diagram():
    png = ROOT / "docs" / "architecture.png"
    assert png.is_file() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", "run: python -m tapinfra diagram --out docs/architecture.png"
    assert "docs/architecture.png" in (ROOT / "README.md").read_text()


def test_command_synthesizes_a_config_in_a_temp_dir_it_removes(tmp_path):
    """--config synthesizes in-process; nothing is left in the temp dir afterwards."""
    before = set(os.listdir(__import__("tempfile").gettempdir()))
    result = subprocess.run([sys.executable, "-m", "tapinfra", "diagram", "--config", str(ROOT / "examples" / "minimal.json"),
                             "--out", str(tmp_path / "m.dot")], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    left = {n for n in set(os.listdir(__import__("tempfile").gettempdir())) - before if n.startswith("tapinfra-operator-")}
    assert not left, f"synth directories left behind: {left}"
    assert '"primary_api"' in (tmp_path / "m.dot").read_text()
