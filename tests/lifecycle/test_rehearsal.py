"""The deploy rehearsal's verdicts: one run per example (conftest), one assertion per property."""

from __future__ import annotations

import json

import pytest

from tapinfra.rehearsal import gaps, inventory
from tapinfra.rehearsal.rehearsal import CORE, CORE_SKIPS, REPLACED_TYPES


def _skip_if_cut(rehearsal, step: str) -> None:
    """The core cycle leaves ``CORE_SKIPS`` out by design (the README says why); say so, do not pass."""
    if rehearsal.cycle == CORE and step in CORE_SKIPS:
        pytest.skip(f"the {rehearsal.example} example runs the core cycle: {step} is rehearsed on the full-cycle examples")


def test_first_apply_succeeds(rehearsal):
    step = rehearsal.step("apply")
    assert step.ok, step.report()


def test_plan_after_apply_is_empty(rehearsal):
    step = rehearsal.step("plan-after-apply")
    assert step.ok, step.report()


def test_update_applies(rehearsal):
    _skip_if_cut(rehearsal, "update")
    step = rehearsal.step("update")
    assert step.ok, step.report()


def test_plan_after_update_is_empty(rehearsal):
    _skip_if_cut(rehearsal, "plan-after-update")
    step = rehearsal.step("plan-after-update")
    assert step.ok, step.report()



def test_a_release_midway_does_not_drift(rehearsal):
    """The update published a new version of each released function; the mimicked release
    (gap codedeploy-never-shifts) put 10 % of each alias's traffic on it; the plan after the
    update, refreshed, is empty all the same: Terraform does not fight a rollout."""
    _skip_if_cut(rehearsal, "plan-after-update")
    stack_file = next((rehearsal.workdir / "synth-update" / "stacks").iterdir()) / "cdk.tf.json"
    aliases = json.loads(stack_file.read_text())["resource"].get("aws_lambda_alias", {})
    released = [n for n, body in aliases.items() if "routing_config" in body.get("lifecycle", {}).get("ignore_changes", [])]
    if not released:
        pytest.skip(f"the {rehearsal.example} example has no release")
    shifted = rehearsal.mimicked.get("codedeploy-never-shifts", [])
    assert len(shifted) == len(released), f"released aliases {released}, shifted mid-release: {shifted}"
    step = rehearsal.step("plan-after-update")
    assert step.ok, step.report()

@pytest.mark.parametrize("rtype", REPLACED_TYPES)
def test_replacement_deletes_first(rehearsal, rtype):
    _skip_if_cut(rehearsal, "replace")
    step = rehearsal.step("replace")
    assert step.ran, step.report()
    assert rtype in rehearsal.replace, step.report()
    problems = rehearsal.replace[rtype]
    assert problems == [], f"terraform plan -replace for every {rtype} in the {rehearsal.example} example:\n  " + "\n  ".join(problems)


def test_without_disposable_destroying_state_is_refused(rehearsal):
    """plan -destroy of the same deployment without ``disposable`` fails, refusing the tables,
    data buckets, keys and zone (prevent_destroy) by name."""
    step = rehearsal.step("protected")
    assert step.ok, step.report()


def test_destroy_succeeds(rehearsal):
    step = rehearsal.step("destroy")
    assert step.ok, step.report()


def test_destroy_leaves_nothing_behind(rehearsal):
    step = rehearsal.step("leftovers")
    assert step.ran, step.report()
    assert rehearsal.leftovers == {}, "the emulator still holds, after destroy:\n" + json.dumps(rehearsal.leftovers, indent=1)


def test_the_emulator_inventory_sees_every_kind_the_stack_created(rehearsal):
    """The leftover check can fail: after apply, it finds each kind of thing the stack made."""
    assert rehearsal.after_apply, "no inventory after apply: " + rehearsal.step("apply").report()
    stack_file = next((rehearsal.workdir / "synth-base" / "stacks").iterdir()) / "cdk.tf.json.rehearsal"
    created = set(json.loads(stack_file.read_text())["resource"])
    expected = {inventory.KIND_OF_TYPE[t] for t in created if t in inventory.KIND_OF_TYPE}
    assert expected - inventory.kinds(rehearsal.after_apply) == set()


@pytest.mark.parametrize("key", [gap.key for gap in gaps.GAPS])
def test_listed_gap_still_happens(rehearsal, key):
    gap = gaps.BY_KEY[key]
    probe = rehearsal.probes.get(key)
    assert probe is not False, f"gap no longer happens: remove {key!r} from tapinfra/rehearsal/gaps.py ({gap.emulator_does})"
    assert probe is True, f"{key}: {probe or rehearsal.step('probes').report()}"
    if gap.kind == gaps.MIMIC:
        assert rehearsal.step("mimic").ok, rehearsal.step("mimic").report()
    if gap.kind == gaps.DRIFT and key in rehearsal.applicable:
        assert rehearsal.excused.get(key), (
            f"gap no longer happens: no plan of the {rehearsal.example} example showed {gap.resource_type}.{gap.attribute} "
            f"changing; remove {key!r} from tapinfra/rehearsal/gaps.py")
