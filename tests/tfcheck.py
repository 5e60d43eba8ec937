"""Offline Terraform for the tests: the library's ``tapinfra.tfcli``, under the names tests use."""

from tapinfra.tfcli import (  # noqa: F401
    AWS_PROVIDER,
    AWS_VERSION,
    cli_config,
    find_mirror,
    is_mirror,
    os_arch,
    run,
    terraform,
)
