"""Every built-in rule id with its help text: what SARIF's rule list and the JUnit suite name.

The help is the docstring of the detector that reports the id, so it is written once.
"""

from __future__ import annotations

from tapinfra.review import protections, rules

# rule id -> the detector that reports it
DETECTORS = {
    "stateful-resource": rules.stateful_loss,
    "fixed-name-create-before-destroy": rules.fixed_name_create_before_destroy,
    "policy-wildcard": rules.policy_wildcards,
    "method-opened": rules.method_opened,
    "protection-removed": rules.protection_removed,
    "provider-region-changed": rules.region_changed,
    "key-disabled": protections.key_disabled,
    "data-protection-off": protections.data_protection_off,
    "ttl-changed": protections.ttl_changed,
    "lifecycle-expires-all": protections.lifecycle_expires_all,
    "trail-stopped": protections.trail_stopped,
    "web-acl-opened": protections.web_acl_opened,
    "method-created-open": protections.method_created_open,
}


def help_text(rule) -> str:
    """A detector's docstring as one paragraph."""
    return " ".join((rule.__doc__ or "").split()) or getattr(rule, "__name__", str(rule))


BUILT_IN = {rule_id: help_text(detector) for rule_id, detector in DETECTORS.items()}
