"""The application a stack deploys: the function's source, its handler and its OpenAPI document.

Every application goes through here, the reference item API included (its source and
document are tapinfra's package data): the REST API is built from :attr:`Application.api`,
the function zip from :meth:`Application.files`, and the function's handler is
:attr:`Application.handler`. Pure Python (no cdktf): the config's checks use it too.
"""

from __future__ import annotations

import ast
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tapinfra.assets import reference_application_dir, runtime_files
from tapinfra.errors import ConfigError, Problem
from tapinfra.runtime.openapi import ApiDocument, DocumentError, Route
from tapinfra.runtime.openapi import read as read_document
from tapinfra.runtime.openapi import parse as parse_document
from tapinfra.sources import collect, names as file_names

if TYPE_CHECKING:
    from tapinfra.config import ApplicationConfig, TapConfig

DEFAULT_DOCUMENT = "openapi.json"
RUNTIME_PREFIX = "tapinfra/"  # the zip's tapinfra/runtime/ (assets.runtime_files): the source may not hold one
INGEST_HANDLER = "ingest.handler"  # the ingestion module's processor, in the same zip


@dataclass(frozen=True)
class Application:
    """One deployable application.

    :param source_dir: the folder zipped as the function's code.
    :param handler: ``module.function`` in ``source_dir`` (Lambda's handler setting).
    :param document: the OpenAPI document's path.
    :param api: what the document declares (routes, models, table attributes).
    :param event_source: the ``source`` its events carry on the bus.
    """

    source_dir: Path
    handler: str
    document: Path
    api: ApiDocument
    event_source: str

    @property
    def routes(self) -> tuple[Route, ...]:
        """Every route the REST API serves: ``GET /health`` first, then the document's."""
        return self.api.served_routes

    @property
    def models(self) -> dict[str, dict]:
        return dict(self.api.models)

    def files(self) -> list[tuple[str, bytes]]:
        """The function zip's contents: the source folder, plus ``tapinfra/runtime/``."""
        return sorted([*collect(self.source_dir), *runtime_files()])


def source_dir_of(settings: "ApplicationConfig") -> Path:
    return Path(settings.source_dir) if settings.source_dir is not None else reference_application_dir()


def document_of(settings: "ApplicationConfig") -> Path:
    return Path(settings.openapi) if settings.openapi is not None else source_dir_of(settings) / DEFAULT_DOCUMENT


def load_application(settings: "ApplicationConfig") -> Application:
    """The application ``settings`` names, or one :class:`ConfigError` saying what is wrong."""
    problems: list[Problem] = []
    app = _load(settings, problems)
    if problems or app is None:
        raise ConfigError(problems)
    return app


def application_problems(config: "TapConfig") -> list[Problem]:
    """What is wrong with the config's application (the config's cross-field checks call this)."""
    problems: list[Problem] = []
    app = _load(config.application, problems)
    if app is not None and config.ingestion.enabled:
        _check_handler(app.source_dir, INGEST_HANDLER, "ingestion.enabled", problems,
                       why="the ingestion module's processor runs ingest.handler from the application's zip")
    return problems


def _load(settings: "ApplicationConfig", problems: list[Problem]) -> Application | None:
    source_dir = source_dir_of(settings)
    if not source_dir.is_dir():
        problems.append(Problem("application.source_dir", str(source_dir),
                                "a folder holding the function's source (relative to the config file)"))
        return None
    try:
        files = file_names(source_dir)
    except (OSError, ValueError) as exc:
        problems.append(Problem("application.source_dir", str(source_dir), f"a readable folder with files ({exc})"))
        return None
    clash = [name for name in files if name.startswith(RUNTIME_PREFIX)]
    if clash:
        problems.append(Problem("application.source_dir", str(source_dir),
                                f"a source without a tapinfra/ folder (found {clash[0]}): the zip carries tapinfra/runtime/ there"))
    _check_handler(source_dir, settings.handler, "application.handler", problems)
    document = document_of(settings)
    api = _document(document, problems)
    if api is None or len(problems) > 0:
        return None
    return Application(source_dir=source_dir, handler=settings.handler, document=document, api=api,
                       event_source=settings.event_source)


def _document(path: Path, problems: list[Problem]) -> ApiDocument | None:
    try:
        raw = read_document(path)
    except FileNotFoundError:
        problems.append(Problem("application.openapi", str(path), "an OpenAPI 3 document that exists (JSON, or YAML with .yaml/.yml)"))
        return None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        problems.append(Problem("application.openapi", str(path), f"a readable JSON or YAML document ({_first_line(exc)})"))
        return None
    except Exception as exc:  # PyYAML's errors share no base with ValueError
        if type(exc).__module__.startswith("yaml"):
            problems.append(Problem("application.openapi", str(path), f"valid YAML ({_first_line(exc)})"))
            return None
        raise
    try:
        return parse_document(raw, str(path))
    except DocumentError as exc:
        for pointer, message in exc.problems:
            problems.append(Problem(f"{path}#{pointer}", _at(raw, pointer), message))
        return None


def _check_handler(source_dir: Path, handler: str, field: str, problems: list[Problem], why: str = "") -> None:
    module, _, function = handler.rpartition(".")
    candidates = [source_dir / (module.replace(".", "/") + ".py"), source_dir / module.replace(".", "/") / "__init__.py"]
    found = next((c for c in candidates if c.is_file()), None)
    reason = f" ({why})" if why else ""
    if found is None:
        problems.append(Problem(field, handler, f"a module.function whose module is in {source_dir} "
                                                f"(no {candidates[0].relative_to(source_dir)} there){reason}"))
        return
    try:
        names = _module_names(found.read_bytes(), str(found))
    except (SyntaxError, ValueError) as exc:
        problems.append(Problem(field, handler, f"a module Python can import ({found.name}: {_first_line(exc)})"))
        return
    if function not in names:
        problems.append(Problem(field, handler, f"a function defined at the top of {found.relative_to(source_dir)} "
                                                f"(no {function!r} there){reason}"))


@functools.lru_cache(maxsize=64)
def _module_names(source: bytes, filename: str) -> frozenset[str]:
    """The top-level names of a module's source, by content: every config check reads the handler,
    and parsing it is most of a check's time."""
    return frozenset(_top_level_names(ast.parse(source, filename=filename)))


def _top_level_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names


def _at(doc: Any, pointer: str) -> Any:
    """The value at a JSON pointer, or None where the pointer leads nowhere."""
    node = doc
    for part in pointer.split("/")[1:]:
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
