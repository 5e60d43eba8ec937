"""Which files of a code folder a zip holds: everything but caches, hidden files and editor droppings.

Pure Python (no cdktf): the config's checks and the packaging read folders the same way.
"""

from __future__ import annotations

from pathlib import Path

# Never shipped: interpreter caches and editor droppings.
EXCLUDED_PARTS = ("__pycache__",)
EXCLUDED_SUFFIXES = (".pyc", ".pyo", ".swp", "~")


def collect(source_dir: Path, prefix: str = "") -> list[tuple[str, bytes]]:
    """``(name in zip, bytes)`` for every file under ``source_dir``, sorted by name."""
    return [(prefix + name, (source_dir / name).read_bytes()) for name in names(source_dir)]


def names(source_dir: Path) -> list[str]:
    """The names :func:`collect` zips, sorted, without reading the files (the config's checks need no more)."""
    if not source_dir.is_dir():
        raise FileNotFoundError(f"code folder {source_dir} does not exist")
    found = []
    for path in source_dir.rglob("*"):
        rel = path.relative_to(source_dir)
        if not path.is_file() or any(p in EXCLUDED_PARTS or p.startswith(".") for p in rel.parts):
            continue
        if path.name.endswith(EXCLUDED_SUFFIXES):
            continue
        found.append(rel.as_posix())
    if not found:
        raise FileNotFoundError(f"code folder {source_dir} holds no files")
    return sorted(found)
