"""The application section: a user's source and OpenAPI document, read and refused by name.

Every bad application is one ConfigError naming the field, or the file and the JSON pointer
of what is wrong, with what is allowed; nothing else escapes (a generator mutates a valid
document at random and checks exactly that).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tapinfra.application import load_application
from tapinfra.assets import reference_application_dir
from tapinfra.config import config_from_dict, load_config
from tapinfra.errors import ConfigError
from tapinfra.runtime.openapi import DocumentError, Route, parse

HANDLER = "def handler(event, context):\n    return {'statusCode': 200, 'body': '{}'}\n"


def document(**paths) -> dict:
    return {
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "security": [{"key": []}],
        "components": {"securitySchemes": {"key": {"type": "apiKey", "in": "header", "name": "x-api-key"}},
                       "schemas": {"Thing": {"type": "object", "properties": {"a": {"type": "string"}}}}},
        "paths": paths or {"/things": {"get": {"responses": {"200": {"description": "ok"}}}}},
    }


OK = {"responses": {"200": {"description": "ok"}}}


def write_app(tmp_path: Path, doc, *, name: str = "openapi.json", handler: str = HANDLER) -> dict:
    src = tmp_path / "src"
    src.mkdir(exist_ok=True)
    (src / "app.py").write_text(handler)
    path = src / name
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return {"source_dir": str(src), "handler": "app.handler", "openapi": str(path)}


def problems(tmp_path: Path, doc, **kw) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        config_from_dict({"application": write_app(tmp_path, doc, **kw)})
    return [str(p) for p in caught.value.problems]


def test_the_reference_item_api_is_an_application_like_any_other():
    config = load_config(None, environ={})
    app = load_application(config.application)
    assert app.source_dir == reference_application_dir()
    assert app.handler == "app.handler"
    assert app.routes[0] == Route("/health", "GET", api_key=False)
    assert {(r.path, r.method) for r in app.routes} == {
        ("/health", "GET"), ("/items", "GET"), ("/items", "POST"), ("/items/{id}", "GET"),
        ("/items/{id}", "PUT"), ("/items/{id}", "DELETE"), ("/metrics", "GET")}
    assert set(app.models) == {"CreateItem", "UpdateItem"}
    names = {name for name, _ in app.files()}
    assert {"app.py", "openapi.json", "tapinfra/__init__.py", "tapinfra/runtime/__init__.py",
            "tapinfra/runtime/openapi.py"} <= names
    assert not any("__pycache__" in n for n in names)


def test_a_valid_user_document_maps_security_models_parameters_and_cache(tmp_path):
    doc = document(**{
        "/things": {"get": {**OK, "security": [], "x-tapinfra-cache": True,
                            "parameters": [{"name": "q", "in": "query"}]},
                    "post": {**OK, "requestBody": {"content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/Thing"}}}}}},
        "/things/{thingId}": {"parameters": [{"name": "thingId", "in": "path", "required": True}],
                              "delete": OK},
    })
    app = load_application(config_from_dict({"application": write_app(tmp_path, doc)}).application)
    routes = {(r.path, r.method): r for r in app.api.routes}
    assert routes[("/things", "GET")] == Route("/things", "GET", api_key=False, query=("q",), cacheable=True)
    assert routes[("/things", "POST")].model == "Thing" and routes[("/things", "POST")].api_key
    assert routes[("/things/{thingId}", "DELETE")].path_parameters == ("thingId",)
    assert app.models["Thing"] == {"$schema": "http://json-schema.org/draft-04/schema#", "title": "Thing",
                                   "type": "object", "properties": {"a": {"type": "string"}}}


def test_yaml_documents_and_openapi_31_schemas_become_draft_4(tmp_path):
    yaml_doc = """
openapi: 3.1.0
info: {title: y, version: "1"}
paths:
  /a:
    post:
      security: []
      requestBody:
        content:
          application/json:
            schema:
              type: object
              properties:
                n: {type: integer, exclusiveMinimum: 0}
                c: {const: fixed}
                s: {type: string, nullable: true, example: x}
      responses: {"200": {description: ok}}
"""
    app = load_application(config_from_dict({"application": write_app(tmp_path, yaml_doc, name="api.yaml")}).application)
    (model,) = app.models.values()
    assert model["properties"]["n"] == {"type": "integer", "minimum": 0, "exclusiveMinimum": True}
    assert model["properties"]["c"] == {"enum": ["fixed"]}
    assert model["properties"]["s"] == {"type": ["string", "null"]}


BAD_DOCUMENTS = [
    # (what, document or text, pointer in the message, words of what is allowed)
    ("swagger 2", {"swagger": "2.0", "info": {"title": "t"}, "paths": {}}, "#/openapi", "3.0.x or 3.1.x"),
    ("openapi 4", {**document(), "openapi": "4.0.0"}, "#/openapi", "3.0.x or 3.1.x"),
    ("no title", {**document(), "info": {}}, "#/info/title", "non-empty string"),
    ("no paths", {**document(), "paths": {}}, "#/paths", "at least one path"),
    ("no responses", document(**{"/a": {"get": {}}}), "#/paths/~1a/get/responses", "at least one response"),
    ("undeclared path parameter", document(**{"/a/{id}": {"get": OK}}), "#/paths/~1a~1{id}/get/parameters", "in: path"),
    ("parameter not in path", document(**{"/a": {"get": {**OK, "parameters": [{"name": "id", "in": "path", "required": True}]}}}),
     "#/paths/~1a/get/parameters", "not in /a"),
    ("optional path parameter", document(**{"/a/{id}": {"get": {**OK, "parameters": [{"name": "id", "in": "path"}]}}}),
     "#/paths/~1a~1{id}/get/parameters", "required: true"),
    ("health collides", document(**{"/health": {"get": OK}}), "#/paths/~1health", "tapinfra always serves GET /health"),
    ("under health", document(**{"/health/deep": {"get": OK}}), "#/paths/~1health~1deep", "/health"),
    ("options", document(**{"/a": {"options": OK}}), "#/paths/~1a/options", "CORS preflight"),
    ("trace", document(**{"/a": {"trace": OK}}), "#/paths/~1a/trace", "no TRACE"),
    ("no operation", document(**{"/a": {"summary": "x"}}), "#/paths/~1a", "at least one operation"),
    ("relative path", document(**{"a": {"get": OK}}), "#/paths/a", "starting with /"),
    ("trailing slash", document(**{"/a/": {"get": OK}}), "#/paths/~1a~1", "no empty segment"),
    ("bad segment", document(**{"/a b": {"get": OK}}), "#/paths/~1a b", "segments of letters"),
    ("greedy not last", document(**{"/{p+}/x": {"get": OK}}), "#/paths/~1{p+}~1x", "greedy"),
    ("two variables at one level", document(**{"/a/{x}": {"get": {**OK, "parameters": [{"name": "x", "in": "path", "required": True}]}},
                                               "/a/{y}/b": {"get": {**OK, "parameters": [{"name": "y", "in": "path", "required": True}]}}}),
     "#/paths/~1a~1{y}~1b", "one variable per level"),
    ("resource names collide", document(**{"/a-b": {"get": OK}, "/a/b": {"get": OK}}), "#/paths/~1a~1b", "differs from /a-b"),
    ("bearer scheme", {**document(), "components": {"securitySchemes": {"key": {"type": "http", "scheme": "bearer"}}}},
     "#/components/securitySchemes/key", "type: apiKey"),
    ("key in a query", {**document(), "components": {"securitySchemes": {"key": {"type": "apiKey", "in": "query", "name": "k"}}}},
     "#/components/securitySchemes/key", "in: header"),
    ("alternatives", {**document(), "security": [{}, {"key": []}]}, "#/security", "cannot express alternatives"),
    ("unknown scheme", {**document(), "security": [{"other": []}]}, "#/security", "no 'other' there"),
    ("xml body", document(**{"/a": {"post": {**OK, "requestBody": {"content": {"application/xml": {"schema": {}}}}}}}),
     "#/paths/~1a/post/requestBody/content", "application/json"),
    ("dangling ref", document(**{"/a": {"post": {**OK, "requestBody": {"content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/Nope"}}}}}}}), "/schema/$ref", "is not"),
    ("remote ref", document(**{"/a": {"post": {**OK, "requestBody": {"content": {"application/json": {
        "schema": {"$ref": "https://example.com/s.json"}}}}}}}), "/schema/$ref", "local reference"),
    ("not draft 4", document(**{"/a": {"post": {**OK, "requestBody": {"content": {"application/json": {
        "schema": {"type": "object", "unevaluatedProperties": False}}}}}}}), "/unevaluatedProperties", "draft 4 keyword"),
    ("cache on a write", document(**{"/a": {"post": {**OK, "x-tapinfra-cache": True}}}), "#/paths/~1a/post/x-tapinfra-cache", "only on a get"),
    ("cache not boolean", document(**{"/a": {"get": {**OK, "x-tapinfra-cache": "yes"}}}), "#/paths/~1a/get/x-tapinfra-cache", "true or false"),
    ("not JSON", "{not json", "application.openapi", "readable JSON or YAML"),
    ("not an object", "[1, 2]", "#/", "an OpenAPI 3.0 or 3.1 document"),
]


@pytest.mark.parametrize("what, doc, where, allowed", BAD_DOCUMENTS, ids=[c[0] for c in BAD_DOCUMENTS])
def test_a_bad_document_is_refused_with_its_file_and_pointer(tmp_path, what, doc, where, allowed):
    found = problems(tmp_path, doc)
    assert any(where in p and allowed in p for p in found), found
    if where.startswith("#"):
        assert all(str(tmp_path / "src") in p for p in found if "#" in p)  # the file is named


def test_cyclic_schemas_are_refused(tmp_path):
    doc = document(**{"/a": {"post": {**OK, "requestBody": {"content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/Node"}}}}}}})
    doc["components"]["schemas"]["Node"] = {"type": "object", "properties": {"next": {"$ref": "#/components/schemas/Node"}}}
    assert any("reference cycle" in p for p in problems(tmp_path, doc))


def test_a_missing_handler_module_or_function_is_named(tmp_path):
    cfg = write_app(tmp_path, document())
    with pytest.raises(ConfigError) as caught:
        config_from_dict({"application": {**cfg, "handler": "service.handler"}})
    assert caught.value.paths == ("application.handler",)
    assert "no service.py there" in str(caught.value)
    with pytest.raises(ConfigError) as caught:
        config_from_dict({"application": {**cfg, "handler": "app.main"}})
    assert "no 'main' there" in str(caught.value)


def test_missing_source_and_document_are_named(tmp_path):
    with pytest.raises(ConfigError) as caught:
        config_from_dict({"application": {"source_dir": str(tmp_path / "nope")}})
    assert caught.value.paths == ("application.source_dir",)
    cfg = write_app(tmp_path, document())
    with pytest.raises(ConfigError) as caught:
        config_from_dict({"application": {**cfg, "openapi": str(tmp_path / "missing.json")}})
    assert caught.value.paths == ("application.openapi",)


def test_the_source_may_not_carry_its_own_tapinfra_folder(tmp_path):
    cfg = write_app(tmp_path, document())
    (tmp_path / "src" / "tapinfra").mkdir()
    (tmp_path / "src" / "tapinfra" / "x.py").write_text("")
    with pytest.raises(ConfigError, match="without a tapinfra/ folder"):
        config_from_dict({"application": cfg})


def test_ingestion_needs_an_ingest_handler_in_the_source(tmp_path):
    with pytest.raises(ConfigError, match="ingest.handler"):
        config_from_dict({"application": write_app(tmp_path, document()), "ingestion": {"enabled": True}})


def test_paths_in_a_config_file_are_relative_to_that_file(tmp_path, monkeypatch):
    project = tmp_path / "project"
    project.mkdir()
    write_app(project, document())
    (project / "tapinfra.json").write_text(json.dumps({"application": {"source_dir": "src", "openapi": "src/openapi.json"}}))
    monkeypatch.chdir(tmp_path)  # elsewhere: the paths still mean project/src
    config = load_config(project / "tapinfra.json", environ={})
    assert Path(config.application.source_dir) == (project / "src").resolve()


# ---------------------------------------------------------------- any mutation: a named refusal or a document

JUNK = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=5), st.lists(st.integers(), max_size=2),
                 st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _paths(value, (*prefix, i))


SAMPLE = json.loads((reference_application_dir() / "openapi.json").read_text())
SAMPLE_PATHS = [p for p in _paths(SAMPLE) if p]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(SAMPLE_PATHS), JUNK, st.booleans()), min_size=1, max_size=4))
def test_any_mutation_of_a_document_parses_or_is_refused_by_pointer(mutations):
    doc = copy.deepcopy(SAMPLE)
    for path, junk, delete in mutations:
        node = doc
        for part in path[:-1]:
            try:
                node = node[part]
            except (KeyError, IndexError, TypeError):
                break
        else:
            try:
                if delete:
                    del node[path[-1]]
                else:
                    node[path[-1]] = junk
            except (KeyError, IndexError, TypeError):
                pass
    try:
        parse(doc, "doc.json")
    except DocumentError as exc:
        assert exc.problems and all(p.startswith("/") and message for p, message in exc.problems)
