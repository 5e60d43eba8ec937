"""What ``disposable`` means, said once: the guards a stateful resource gets unless the
environment is throwaway (rehearsals, tests).

The config's ``disposable`` flag is read here and nowhere else: :meth:`Protection.of` builds
the one value where the config is read (the foundation, the stack, each region's tier, the
modules' contexts) and constructs take it in their props. Importing this module imports
neither cdktf nor jsii.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Optional

if TYPE_CHECKING:
    from cdktf import TerraformResourceLifecycle

    from tapinfra.config import TapConfig

# KMS waits 7 to 30 days after a key's deletion is scheduled (ScheduleKeyDeletion's PendingWindowInDays).
KEY_DELETION_WINDOW_DAYS = (7, 30)
# Secrets Manager deletes a secret at once (0, ForceDeleteWithoutRecovery) or after 7 to 30 days.
SECRET_RECOVERY_WINDOW_DAYS = (0, 30)


@dataclass(frozen=True)
class Protection:
    """How hard a stateful resource is to destroy: everything on unless ``disposable``.

    :param disposable: the config's ``disposable``: a destroy succeeds and removes what the
        resources hold. Default: False (every guard on).
    """

    disposable: bool = False

    @classmethod
    def of(cls, config: "TapConfig") -> "Protection":
        """The protection ``config`` asks for (its ``disposable`` flag)."""
        return cls(disposable=config.disposable)

    @property
    def prevent_destroy(self) -> bool:
        """Terraform refuses a plan that destroys the resource: a mistaken destroy would lose data or break others."""
        return not self.disposable

    def lifecycle(self, **extra: Any) -> Optional["TerraformResourceLifecycle"]:
        """The resource's lifecycle: ``prevent_destroy`` unless disposable, with ``extra``
        (``ignore_changes``, ...; None values dropped) either way; None when nothing is left."""
        given = {key: value for key, value in extra.items() if value is not None}
        if self.disposable and not given:
            return None
        from cdktf import TerraformResourceLifecycle

        return TerraformResourceLifecycle(prevent_destroy=None if self.disposable else True, **given)

    @property
    def force_destroy(self) -> bool:
        """A destroy empties the bucket, zone or workgroup first: S3, Route 53 and Athena refuse to delete a non-empty one."""
        return self.disposable

    @property
    def deletion_protection(self) -> bool:
        """The service itself refuses a delete (DynamoDB, RDS), whoever asks: a guard beyond Terraform's."""
        return not self.disposable

    @property
    def key_deletion_window_days(self) -> int:
        """Days KMS waits before deleting a key: the maximum 30 (time to cancel a mistake), the minimum 7 if disposable."""
        shortest, longest = KEY_DELETION_WINDOW_DAYS
        return shortest if self.disposable else longest

    @property
    def secret_recovery_window_days(self) -> int:
        """Days a deleted secret can be restored: the maximum 30, or 0 (deleted at once, its name free again) if disposable."""
        immediately, longest = SECRET_RECOVERY_WINDOW_DAYS
        return immediately if self.disposable else longest

    @property
    def skip_final_snapshot(self) -> bool:
        """A deleted database leaves no final snapshot only if disposable (RDS then needs no snapshot name)."""
        return self.disposable

    def final_snapshot_identifier(self, name: Callable[[], str]) -> Optional[str]:
        """The final snapshot's identifier, None if disposable; ``name`` is called only when a
        snapshot is kept (deriving a name claims it)."""
        return None if self.disposable else name()
