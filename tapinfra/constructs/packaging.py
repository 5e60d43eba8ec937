"""Code folders as zips, inline in the Terraform (``archive_file``) or as a synth-time asset.

``archive_file`` mode emits ``data "archive_file"`` with one ``source { content, filename }``
per file, sorted, written under ``${path.module}``: the zip is rebuilt by Terraform from the
sources in the plan, with no path of the synthesizing machine in it. ``asset`` mode builds
the same zip at synth time, deterministically (fixed timestamps and modes, sorted entries),
for users without the hashicorp/archive provider.
"""

from __future__ import annotations

import atexit
import hashlib
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Sequence

from constructs import Construct
from cdktf import AssetType, Fn, TerraformAsset

from tapinfra.provider import archive
from tapinfra.sources import EXCLUDED_PARTS, EXCLUDED_SUFFIXES, collect  # noqa: F401  (re-exported)

ZIP_DATE = (1980, 1, 1, 0, 0, 0)
ZIP_MODE = 0o100644 << 16


def deterministic_zip(files: Sequence[tuple[str, bytes]], target: Path) -> Path:
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in files:
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.external_attr = ZIP_MODE
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            zf.writestr(info, data)
    return target


def terraform_literal(text: str) -> str:
    """Escape Terraform template sequences so file content stays literal."""
    return text.replace("${", "$${").replace("%{", "%%{")


_BUILD_DIR: Path | None = None


def _build_dir() -> Path:
    global _BUILD_DIR
    if _BUILD_DIR is None:
        _BUILD_DIR = Path(tempfile.mkdtemp(prefix="tapinfra-assets-"))
        atexit.register(shutil.rmtree, _BUILD_DIR, True)
    return _BUILD_DIR


class CodePackage(Construct):
    """One code folder as a zip.

    :param source_dir: the folder; every file in it is packaged (caches excluded).
    :param files: instead of ``source_dir``, the ``(name in zip, bytes)`` pairs to package.
    :param name: the zip's base name (``<name>-<content hash>.zip``).
    :param prefix: path prefix inside the zip (e.g. ``nodejs/node_modules/`` for canaries).
    :param mode: ``archive_file`` (default) or ``asset``.
    :param provider: the archive provider (``archive_file`` mode only).

    Exposes ``path`` (the zip for ``filename``/``zip_file``), ``hash`` (base64 SHA-256 for
    ``source_code_hash``) and ``files`` (what the zip holds).
    """

    def __init__(self, scope: Construct, id_: str, *, name: str, source_dir: Path | None = None,
                 files: Sequence[tuple[str, bytes]] | None = None, prefix: str = "",
                 mode: str = "archive_file", provider: object | None = None) -> None:
        super().__init__(scope, id_)
        if (source_dir is None) == (files is None):
            raise TypeError("CodePackage takes source_dir or files, not both")
        self.files = collect(source_dir, prefix) if source_dir is not None else sorted((prefix + n, b) for n, b in files)
        self.mode = mode
        # The content hash is part of the zip's name, so a consumer that only sees the path
        # (a Synthetics canary's zip_file) still gets a diff when the code changes.
        digest = hashlib.sha256(repr(self.files).encode()).hexdigest()[:16]
        self.zip_name = f"{name}-{digest}.zip"
        if mode == "archive_file":
            data = archive.data_archive_file
            for filename, content in self.files:
                try:
                    content.decode("utf-8")
                except UnicodeDecodeError:
                    raise ValueError(f"{filename}: archive_file mode packages text files only (set packaging.mode to asset)") from None
            self.archive = data.DataArchiveFile(
                self, "zip",
                provider=provider,
                type="zip",
                output_path=f"${{path.module}}/{self.zip_name}",
                output_file_mode="0644",
                source=[
                    data.DataArchiveFileSource(filename=filename, content=terraform_literal(content.decode("utf-8")))
                    for filename, content in self.files
                ],
            )
            self.path = self.archive.output_path
            self.hash = self.archive.output_base64_sha256
        elif mode == "asset":
            zip_path = deterministic_zip(self.files, _build_dir() / self.zip_name)
            self.asset = TerraformAsset(self, "zip", path=str(zip_path), type=AssetType.FILE)
            self.path = self.asset.path
            self.hash = Fn.filebase64sha256(self.asset.path)
        else:
            raise ValueError(f"packaging mode {mode!r}: expected archive_file or asset")
