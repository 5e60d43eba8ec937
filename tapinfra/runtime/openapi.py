"""The application's OpenAPI 3 document, read as the routes and models API Gateway serves.

One reader for both sides: the infrastructure builds resources, methods, API-key
requirements, request models and validators, CORS preflights and cache keys from
:func:`parse`; the function ships the same document and this module, so its router and its
body schemas come from the same text. Standard library only (YAML needs PyYAML, imported
only for a ``.yaml``/``.yml`` document).

What a document may say, and how it maps:

- ``paths``: each key a path in API Gateway syntax (``/orders/{id}``, a greedy ``{proxy+}``
  last). ``/health`` is tapinfra's own and ``options`` is the CORS preflight's: both refused.
- an operation's ``security`` (or the document's): ``[]`` is open; ``[{<scheme>: []}]`` with an
  ``apiKey`` scheme in the ``x-api-key`` header requires a tenant's API key. Nothing else
  (OAuth, bearer, alternatives) is something API Gateway's API keys can express.
- ``requestBody`` with ``application/json``: a ``$ref`` to ``#/components/schemas/<Name>`` is
  the model ``<Name>``; the schema becomes JSON Schema draft 4 (API Gateway's dialect).
- ``parameters``: ``in: path`` must match the path's ``{names}``; ``in: query`` names join the
  cache key of a cacheable GET.
- ``x-tapinfra-cache: true`` on a GET lets the stage cache answer it (per tenant).
- the root's ``x-tapinfra-table-attributes`` (``{"name": "S", ...}``): the attributes the
  application stores, for the analytics module's export table.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping, Optional

from tapinfra.runtime import HEALTH_PATH, PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE

DRAFT_04 = "http://json-schema.org/draft-04/schema#"
API_KEY_HEADER = "x-api-key"
CACHE_EXTENSION = "x-tapinfra-cache"
TABLE_ATTRIBUTES_EXTENSION = "x-tapinfra-table-attributes"
# OpenAPI's operations, in the order a path item lists them.
OPENAPI_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
DEPLOYABLE_METHODS = ("get", "put", "post", "delete", "head", "patch")
DYNAMODB_TYPES = ("S", "N", "B", "BOOL", "M", "L", "SS", "NS", "BS", "NULL")
_SEGMENT = re.compile(r"^[A-Za-z0-9._:-]+$")
_VARIABLE = re.compile(r"^\{([A-Za-z0-9._-]+)(\+?)\}$")
_MODEL_NAME = re.compile(r"^[A-Za-z0-9]{1,128}$")
_VERSION = re.compile(r"^3\.(0|1)\.\d+$")
# JSON Schema draft 4, the dialect of API Gateway models.
_DRAFT_04_KEYWORDS = frozenset((
    "title", "description", "default", "multipleOf", "maximum", "exclusiveMaximum", "minimum",
    "exclusiveMinimum", "maxLength", "minLength", "pattern", "additionalItems", "items", "maxItems",
    "minItems", "uniqueItems", "maxProperties", "minProperties", "required", "additionalProperties",
    "properties", "patternProperties", "dependencies", "enum", "type", "allOf", "anyOf", "oneOf", "not",
    "format",
))
# OpenAPI annotations with no meaning for validation: dropped from the model.
_ANNOTATIONS = frozenset(("example", "examples", "readOnly", "writeOnly", "deprecated", "xml", "externalDocs",
                          "discriminator", "$comment", "contentMediaType", "contentEncoding"))
_SCHEMA_MAPS = ("properties", "patternProperties")
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf")
_SCHEMA_ONES = ("not", "additionalProperties", "additionalItems")


@dataclass(frozen=True)
class Route:
    """One operation API Gateway serves: ``path`` (``{id}`` syntax), ``method``, whether a tenant's
    API key is required, the request model (a key of :attr:`ApiDocument.models`) the edge
    checks, the query parameters it reads, and whether the stage cache may answer it (per
    tenant: the cache key is the API key plus every path and query parameter)."""

    path: str
    method: str
    api_key: bool = True
    model: Optional[str] = None
    query: tuple[str, ...] = ()
    cacheable: bool = False

    @property
    def path_parameters(self) -> tuple[str, ...]:
        return tuple(m.group(1) for m in map(_VARIABLE.match, self.path.strip("/").split("/")) if m)


HEALTH_ROUTE = Route(HEALTH_PATH, "GET", api_key=False)  # never cached: the drain switch acts at once


@dataclass(frozen=True)
class ApiDocument:
    """What the infrastructure and the function read of the document.

    ``routes`` are the document's operations in its order (``/health`` is not among them:
    :attr:`served_routes` adds it first); ``models`` are draft-4 schemas by name.
    """

    title: str
    routes: tuple[Route, ...]
    models: Mapping[str, dict]
    table_attributes: Mapping[str, str]

    @property
    def served_routes(self) -> tuple[Route, ...]:
        """Every route the API has: tapinfra's ``GET /health`` first, then the document's."""
        return (HEALTH_ROUTE, *self.routes)


class DocumentError(ValueError):
    """Every problem found in a document: ``problems`` is ``(JSON pointer, what is allowed)`` pairs."""

    def __init__(self, source: str, problems: list[tuple[str, str]]) -> None:
        self.source = source
        self.problems = tuple(problems)
        lines = "\n".join(f"  - {source}#{pointer}: {message}" for pointer, message in self.problems)
        super().__init__(f"{source}: not a usable OpenAPI document ({len(self.problems)} problem(s)):\n{lines}")


def pointer(*parts: object) -> str:
    """A JSON pointer (RFC 6901) to ``parts``."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def read(path: str | Path) -> Any:
    """The document at ``path``: JSON, or YAML for ``.yaml``/``.yml`` (PyYAML's safe loader)."""
    path = Path(path)
    text = path.read_bytes().decode("utf-8-sig")
    if path.suffix.lower() in (".yaml", ".yml"):
        import yaml  # only YAML documents need it

        return yaml.safe_load(text)
    return json.loads(text)


def load(path: str | Path) -> ApiDocument:
    """Read and parse the document at ``path`` (raises :class:`DocumentError` or OSError/ValueError)."""
    return parse(read(path), str(path))


def parse(doc: Any, source: str = "openapi") -> ApiDocument:
    """The routes and models of ``doc``, or one :class:`DocumentError` naming every problem."""
    reader = _Reader(doc)
    result = reader.document()
    if reader.problems:
        raise DocumentError(source, reader.problems)
    return result


class _Reader:
    def __init__(self, doc: Any) -> None:
        self.doc = doc
        self.problems: list[tuple[str, str]] = []

    def bad(self, where: str, message: str) -> None:
        self.problems.append((where or "/", message))

    def document(self) -> ApiDocument:
        doc = self.doc
        if not isinstance(doc, dict):
            self.bad("", "an OpenAPI 3.0 or 3.1 document: a JSON/YAML object with openapi, info and paths")
            return ApiDocument("", (), {}, {})
        version = doc.get("openapi")
        if not (isinstance(version, str) and _VERSION.match(version)):
            found = f"openapi {version!r}" if "openapi" in doc else ("swagger 2.0" if "swagger" in doc else "no openapi field")
            self.bad(pointer("openapi"), f"an OpenAPI version 3.0.x or 3.1.x (found {found})")
        info = doc.get("info")
        title = info.get("title") if isinstance(info, dict) else None
        if not (isinstance(title, str) and title.strip()):
            self.bad(pointer("info", "title"), "a non-empty string: the API's title (the REST API's description)")
            title = ""
        models: dict[str, dict] = {}
        routes = list(self.routes(models))
        return ApiDocument(title=title, routes=tuple(routes), models=models, table_attributes=self.table_attributes())

    # -- paths and operations

    def routes(self, models: dict[str, dict]) -> Iterator[Route]:
        paths = self.doc.get("paths")
        if not isinstance(paths, dict) or not paths:
            self.bad(pointer("paths"), "an object with at least one path (tapinfra adds GET /health itself)")
            return
        slugs: dict[str, str] = {}
        variables: dict[str, tuple[str, str]] = {}  # parent path -> (variable segment, the path declaring it)
        default_security = self.doc.get("security")
        for path, item in paths.items():
            where = pointer("paths", path)
            if not self.path_ok(path, where, slugs, variables):
                continue
            if not isinstance(item, dict):
                self.bad(where, "a path item object (its operations by method)")
                continue
            if "$ref" in item:
                self.bad(pointer("paths", path, "$ref"), "the operations written out: path item references are not supported")
                continue
            shared = self.parameters(item.get("parameters", []), pointer("paths", path, "parameters"))
            methods = [m for m in item if m in OPENAPI_METHODS]
            if not methods:
                self.bad(where, f"at least one operation ({', '.join(DEPLOYABLE_METHODS)})")
            for method in methods:
                route = self.operation(path, method, item[method], shared, default_security, models)
                if route is not None:
                    yield route

    def path_ok(self, path: str, where: str, slugs: dict[str, str], variables: dict[str, tuple[str, str]]) -> bool:
        if not isinstance(path, str) or not path.startswith("/"):
            self.bad(where, "a path starting with /")
            return False
        if path == HEALTH_PATH or path.startswith(HEALTH_PATH + "/"):
            self.bad(where, f"a path other than {HEALTH_PATH}: tapinfra always serves GET {HEALTH_PATH} "
                            "(no API key, never cached) for the health checks, the canary and the drain switch")
            return False
        if path == "/":
            return True
        segments = path[1:].split("/")
        names: list[str] = []
        for i, segment in enumerate(segments):
            variable = _VARIABLE.match(segment)
            if variable:
                if variable.group(2) and i != len(segments) - 1:
                    self.bad(where, f"a greedy variable ({segment}) only as the last segment")
                    return False
                if variable.group(1) in names:
                    self.bad(where, f"each path variable once ({{{variable.group(1)}}} repeats)")
                    return False
                names.append(variable.group(1))
                parent = "/" + "/".join(segments[:i])
                seen = variables.setdefault(parent, (segment, path))
                if seen[0] != segment:
                    self.bad(where, f"one variable per level: {seen[1]} already has {seen[0]} under {parent} "
                                    f"(API Gateway cannot hold {segment} beside it)")
                    return False
            elif not _SEGMENT.match(segment):
                self.bad(where, f"segments of letters, digits and . _ : - or one {{variable}} (got {segment!r}); "
                                "no empty segment or trailing /")
                return False
        slug = path_slug(path)
        other = slugs.setdefault(slug, path)
        if other != path:
            self.bad(where, f"a path whose resource name ({slug}) differs from {other}'s")
            return False
        return True

    def operation(self, path: str, method: str, op: Any, shared: dict[tuple[str, str], dict],
                  default_security: Any, models: dict[str, dict]) -> Route | None:
        where = pointer("paths", path, method)
        if method == "options":
            self.bad(where, "no options operation: tapinfra answers every path's CORS preflight (api.cors_allowed_origins)")
            return None
        if method == "trace":
            self.bad(where, f"an operation API Gateway can serve ({', '.join(DEPLOYABLE_METHODS)}): it has no TRACE")
            return None
        if not isinstance(op, dict):
            self.bad(where, "an operation object")
            return None
        before = len(self.problems)
        responses = op.get("responses")
        if not isinstance(responses, dict) or not responses:
            self.bad(pointer("paths", path, method, "responses"), "an object with at least one response")
        params = {**shared, **self.parameters(op.get("parameters", []), pointer("paths", path, method, "parameters"))}
        declared = {name for (where_in, name) in params if where_in == "path"}
        in_path = set(Route(path, method.upper()).path_parameters)
        for name in sorted(in_path - declared):
            self.bad(pointer("paths", path, method, "parameters"),
                     f"a parameter {{name: {name}, in: path, required: true}} for {{{name}}} in the path")
        for name in sorted(declared - in_path):
            self.bad(pointer("paths", path, method, "parameters"), f"path parameters that are in the path: {name!r} is not in {path}")
        for (where_in, name), param in params.items():
            if where_in == "path" and param.get("required") is not True:
                self.bad(pointer("paths", path, method, "parameters"), f"path parameter {name!r} with required: true")
        query = tuple(sorted(name for (where_in, name) in params if where_in == "query"))
        api_key = self.security(op["security"] if "security" in op else default_security,
                                pointer("paths", path, method, "security") if "security" in op else pointer("security"))
        model = self.request_model(op, path, method, models)
        cacheable = op.get(CACHE_EXTENSION, False)
        if not isinstance(cacheable, bool):
            self.bad(pointer("paths", path, method, CACHE_EXTENSION), "true or false")
            cacheable = False
        if cacheable and method != "get":
            self.bad(pointer("paths", path, method, CACHE_EXTENSION), "only on a get: a cached write would not happen")
            cacheable = False
        if cacheable and path == "/":
            self.bad(pointer("paths", path, method, CACHE_EXTENSION), "a path below /: the root's answer is not cached")
            cacheable = False
        if len(self.problems) > before:
            return None
        return Route(path=path, method=method.upper(), api_key=api_key, model=model, query=query, cacheable=cacheable)

    def parameters(self, raw: Any, where: str) -> dict[tuple[str, str], dict]:
        found: dict[tuple[str, str], dict] = {}
        if not isinstance(raw, list):
            self.bad(where, "a list of parameter objects")
            return found
        for i, param in enumerate(raw):
            here = f"{where}/{i}"
            if isinstance(param, dict) and "$ref" in param:
                param, here = self.resolve(param["$ref"], f"{here}/$ref", "parameters")
                if param is None:
                    continue
            if not isinstance(param, dict):
                self.bad(here, "a parameter object")
                continue
            name, where_in = param.get("name"), param.get("in")
            if not isinstance(name, str) or not name:
                self.bad(f"{here}/name", "the parameter's name")
                continue
            if where_in not in ("path", "query", "header", "cookie"):
                self.bad(f"{here}/in", "path, query, header or cookie")
                continue
            found[(where_in, name)] = param
        return found

    def security(self, requirements: Any, where: str) -> bool:
        """True when the operation needs a tenant's API key."""
        if requirements is None or requirements == []:
            return False
        if not (isinstance(requirements, list) and len(requirements) == 1 and isinstance(requirements[0], dict)
                and len(requirements[0]) == 1):
            self.bad(where, "[] (open) or one requirement [{<apiKey scheme>: []}]: API Gateway checks one API key, "
                            "it cannot express alternatives or several schemes")
            return False
        (name,) = requirements[0]
        schemes = self.doc.get("components", {}).get("securitySchemes", {}) if isinstance(self.doc.get("components"), dict) else {}
        scheme = schemes.get(name) if isinstance(schemes, dict) else None
        if not isinstance(scheme, dict):
            self.bad(where, f"a scheme defined in #/components/securitySchemes (no {name!r} there)")
            return False
        if not (scheme.get("type") == "apiKey" and scheme.get("in") == "header"
                and str(scheme.get("name", "")).lower() == API_KEY_HEADER):
            self.bad(pointer("components", "securitySchemes", name),
                     f"type: apiKey, in: header, name: {API_KEY_HEADER} (API Gateway's tenant API keys); "
                     "other schemes need an authorizer tapinfra does not deploy")
            return False
        return True

    def request_model(self, op: dict, path: str, method: str, models: dict[str, dict]) -> str | None:
        body = op.get("requestBody")
        if body is None:
            return None
        where = pointer("paths", path, method, "requestBody")
        if isinstance(body, dict) and "$ref" in body:
            body, where = self.resolve(body["$ref"], f"{where}/$ref", "requestBodies")
            if body is None:
                return None
        content = body.get("content") if isinstance(body, dict) else None
        if not isinstance(content, dict) or set(content) != {"application/json"}:
            self.bad(f"{where}/content", "exactly one media type, application/json (the body the edge validates)")
            return None
        schema = content["application/json"].get("schema") if isinstance(content["application/json"], dict) else None
        where = f"{where}/content/{pointer('application/json')[1:]}/schema"
        if not isinstance(schema, dict):
            self.bad(where, "a schema (a $ref to #/components/schemas/<Name>, or inline)")
            return None
        if "$ref" in schema and len(schema) == 1:
            ref = schema["$ref"]
            name = ref.rpartition("/")[2] if isinstance(ref, str) and ref.startswith("#/components/schemas/") else None
            resolved, at = self.resolve(ref, f"{where}/$ref", "schemas")
            if resolved is None or name is None:
                return None
        else:
            name = re.sub(r"[^A-Za-z0-9]", "", str(op.get("operationId") or f"{method}{path_slug(path)}").title()) + "Body"
            resolved, at = schema, where
        if not _MODEL_NAME.match(name):
            self.bad(f"{where}/$ref", f"a schema name of letters and digits (API Gateway model names), not {name!r}")
            return None
        if name not in models:
            converted = self.draft_04(resolved, at, ())
            if converted is not None:
                models[name] = {"$schema": DRAFT_04, "title": name, **converted}
        return name

    def resolve(self, ref: Any, where: str, kind: str) -> tuple[Any, str]:
        prefix = f"#/components/{kind}/"
        if not (isinstance(ref, str) and ref.startswith(prefix)):
            self.bad(where, f"a local reference {prefix}<Name>")
            return None, where
        target = self.doc.get("components", {}) if isinstance(self.doc.get("components"), dict) else {}
        found = target.get(kind, {}).get(ref[len(prefix):]) if isinstance(target.get(kind), dict) else None
        if found is None:
            self.bad(where, f"a reference to something defined: {ref} is not")
            return None, where
        return found, pointer("components", kind, ref[len(prefix):])

    # -- schemas

    def draft_04(self, schema: Any, where: str, seen: tuple[str, ...]) -> dict | None:
        """``schema`` as JSON Schema draft 4: local references inlined, OpenAPI's dialect translated."""
        if not isinstance(schema, dict):
            self.bad(where, "a schema object")
            return None
        if "$ref" in schema:
            ref = schema["$ref"]
            if ref in seen:
                self.bad(where, f"a schema without a reference cycle ({' -> '.join((*seen, ref))}): API Gateway models are inlined")
                return None
            resolved, at = self.resolve(ref, f"{where}/$ref", "schemas")
            return None if resolved is None else self.draft_04(resolved, at, (*seen, ref))
        out: dict[str, Any] = {}
        for key, value in schema.items():
            here = f"{where}{pointer(key)}"
            if key in _ANNOTATIONS or (isinstance(key, str) and key.startswith("x-")):
                continue
            if key == "nullable":
                continue  # applied to type below
            if key == "const":
                out["enum"] = [value]
            elif key in ("exclusiveMinimum", "exclusiveMaximum") and not isinstance(value, bool):
                if not isinstance(value, (int, float)):
                    self.bad(here, "a number (3.1) or a boolean (3.0)")
                    continue
                out["minimum" if key == "exclusiveMinimum" else "maximum"] = value
                out[key] = True
            elif key in _SCHEMA_MAPS:
                if not isinstance(value, dict):
                    self.bad(here, "an object of schemas")
                    continue
                out[key] = {name: self.draft_04(sub, f"{here}{pointer(name)}", seen) for name, sub in value.items()}
            elif key in _SCHEMA_LISTS:
                if not isinstance(value, list) or not value:
                    self.bad(here, "a non-empty list of schemas")
                    continue
                out[key] = [self.draft_04(sub, f"{here}/{i}", seen) for i, sub in enumerate(value)]
            elif key in _SCHEMA_ONES and not isinstance(value, bool):
                out[key] = self.draft_04(value, here, seen)
            elif key == "items":
                out[key] = ([self.draft_04(sub, f"{here}/{i}", seen) for i, sub in enumerate(value)]
                            if isinstance(value, list) else self.draft_04(value, here, seen))
            elif key in _DRAFT_04_KEYWORDS:
                out[key] = value
            else:
                self.bad(here, f"a JSON Schema draft 4 keyword (API Gateway's model dialect); {key!r} is not one")
        if schema.get("nullable") is True and "type" in out:
            types = out["type"] if isinstance(out["type"], list) else [out["type"]]
            out["type"] = [*types, "null"] if "null" not in types else types
        return out

    # -- what the table holds

    def table_attributes(self) -> dict[str, str]:
        keys = {PARTITION_KEY: "S", SORT_KEY: "S"}
        raw = self.doc.get(TABLE_ATTRIBUTES_EXTENSION) if isinstance(self.doc, dict) else None
        if raw is None:
            return {**keys, TTL_ATTRIBUTE: "N"}
        where = pointer(TABLE_ATTRIBUTES_EXTENSION)
        if not isinstance(raw, dict):
            self.bad(where, 'an object of attribute name -> DynamoDB type ("S", "N", "M", ...)')
            return {**keys, TTL_ATTRIBUTE: "N"}
        for name, kind in raw.items():
            if kind not in DYNAMODB_TYPES:
                self.bad(f"{where}{pointer(name)}", f"a DynamoDB type: one of {', '.join(DYNAMODB_TYPES)}")
        for name, kind in keys.items():
            if raw.get(name, kind) != kind:
                self.bad(f"{where}{pointer(name)}", f"{kind!r}: the table's key {name} is a string")
        return {**keys, **raw}


def path_slug(path: str) -> str:
    """A path as a construct-id part: ``/items/{id}`` -> ``items-id``, ``/`` -> ``root``."""
    return path.strip("/").replace("/", "-").replace("{", "").replace("}", "").replace("+", "") or "root"
