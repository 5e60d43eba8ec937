"""tapinfra's version: stated here once; the package metadata, ``tapinfra --version`` and the
stack's ``tapinfra_version`` output read it."""

__version__ = "0.3.0"
