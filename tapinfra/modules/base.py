"""The module seam: one protocol for an optional part of the stack, and the registry.

A module is a :class:`Module` subclass registered with :func:`register_module`; a built-in
one's file also declares its config section (a dataclass of ``tapinfra.fields.setting``
fields, held by ``TapConfig``). ``TapStack``
and ``RegionalService`` loop over the registered modules that are ``enabled`` for the
config, and call their hooks in registration order; none of them names a module. Every hook
has a default that contributes nothing, so a module implements only what it adds:

- ``name_rules()``: the kinds of name its resources take (registered with it, in naming.py);
- ``checks(config, ok)``: its cross-field rules (:class:`~tapinfra.Problem` list; the loader
  reports them with the others);
- ``key_grants(foundation, role, region_name, namer)``: what its services need of a region's key;
- ``interface_services(config)``: the VPC interface endpoints its code needs;
- ``build_global(ctx)``: its constructs built once, before the regions (its result is
  ``ctx.parts[name]``);
- ``function_parts(ctx, region)``: the API function's placement, extra statements and
  environment variables in ``region``;
- ``admit(ctx, region, statements)``: told what the code of ``region`` calls (a network
  admits it through its endpoints);
- ``build_region(ctx)``: its constructs in one region (:class:`RegionContext`: the region's
  buckets, topic, alarm collector, ...); its result is ``RegionalServiceResult.modules[name]``;
- ``build_links(ctx)``: what it builds once both regions exist (alarms on global parts, ...);
- ``outputs(ctx)``: its stack outputs, each ``spec.output(value, region)`` (an :class:`Output`)
  of an :class:`~tapinfra.outputs.OutputSpec` its file declares with ``register_output`` at
  import; the stack refuses (ValueError) an output no registered spec declares;
- ``diagram(d, arch, region)`` and ``cost(arch, add, hours)``: its nodes in ``tapinfra
  diagram`` and its lines in ``tapinfra cost``, read from the synthesized JSON;
- ``stateful_types()``: the Terraform types it creates whose deletion loses data (``tapinfra
  review`` flags their deletion or replacement).

Alarms and dashboard rows go through the region's collector (``ctx.monitor.watch(specs,
rows)``, :mod:`tapinfra.constructs.monitoring`): the one way an alarm is created.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Mapping, Optional, Sequence

from tapinfra.outputs import REGISTRY as OUTPUTS, Output
from tapinfra.protection import Protection

if TYPE_CHECKING:  # the seam itself loads no cdktf
    from tapinfra.application import Application
    from tapinfra.config import TapConfig
    from tapinfra.constructs.bucket import SecureBucket
    from tapinfra.constructs.keys import ServiceKeyGrant
    from tapinfra.constructs.monitoring import RegionMonitor
    from tapinfra.constructs.network import NetworkPlacement
    from tapinfra.constructs.packaging import CodePackage
    from tapinfra.constructs.table import GlobalTable
    from tapinfra.errors import Problem
    from tapinfra.naming import NameRule
    from tapinfra.policy import Statement
    from tapinfra.region import Region
    from tapinfra.stack import TapStack


@dataclass(frozen=True)
class FunctionParts:
    """What a module adds to the API function of one region (all optional).

    :param placement: the subnets and security group it runs in (at most one module gives one).
    :param statements: what the module's part of the code may do, appended to the role's policy.
    :param environment: variables the code reads.
    """

    placement: Optional["NetworkPlacement"] = None
    statements: tuple["Statement", ...] = ()
    environment: Mapping[str, str] = field(default_factory=dict)

    def merged(self, other: "FunctionParts") -> "FunctionParts":
        if self.placement is not None and other.placement is not None:
            raise ValueError("two modules place the function in a network")
        return FunctionParts(self.placement or other.placement, self.statements + tuple(other.statements),
                             {**self.environment, **other.environment})


@dataclass
class StackContext:
    """What a module sees of the stack. ``parts`` holds each module's ``build_global`` result
    (by name); ``services`` is filled once the regions exist, primary first."""

    stack: "TapStack"
    config: "TapConfig"
    regions: tuple["Region", "Region"]
    table: "GlobalTable"
    application: "Application"
    function_package: "CodePackage"
    parts: dict[str, Any] = field(default_factory=dict)
    services: tuple = ()

    @property
    def protection(self) -> Protection:
        """What ``config.disposable`` means for the module's constructs (pass it in their props)."""
        return Protection.of(self.config)

    def output(self, output: Output) -> None:
        """Write a module's output; refused unless a registered spec declares its name."""
        if OUTPUTS.spec_of(output.name) is None:
            raise ValueError(f"module output {output.name!r}: no registered OutputSpec declares it; declare it with "
                             "register_output(OutputSpec(...)) at import and return spec.output(value, region)")
        self.stack.output(*output)


@dataclass(frozen=True)
class RegionContext:
    """One region's tier, as a module's ``build_region`` sees it: build in ``scope`` under ids
    that start with ``region.role`` (Terraform addresses then never depend on nesting)."""

    stack: StackContext
    scope: Any                 # the construct scope the region's parts are created in
    region: "Region"
    index: int                 # 0 primary, 1 secondary
    data_bucket: "SecureBucket"
    access_log_bucket: "SecureBucket"
    topic_arn: str
    monitor: "RegionMonitor"
    function: FunctionParts    # what the modules gave the API function here (its placement, ...)
    drain: Any = None          # the region's drain switch (a DrainSwitch), None without features.drain_switch

    @property
    def config(self) -> "TapConfig":
        return self.stack.config

    @property
    def protection(self) -> Protection:
        """The stack's :attr:`StackContext.protection`."""
        return self.stack.protection

    def admit(self, statements: Sequence["Statement"]) -> None:
        """Tell every module what code in this region calls (``Module.admit``)."""
        for module in enabled_modules(self.config):
            module.admit(self.stack, self.region, statements)


class Module:
    """An optional part of the stack. Subclass it, set ``name``, override the hooks it needs
    (module docstring), and :func:`register_module` an instance."""

    name: ClassVar[str] = ""
    # The Python module of its constructs, where its alarm kinds are declared (alarm_doc):
    # imported to generate the README's alarm table. Empty: none.
    constructs: ClassVar[str] = ""

    def enabled(self, config: "TapConfig") -> bool:
        """Whether this config builds the module (default: always)."""
        return True

    def name_rules(self) -> Mapping[str, "NameRule"]:
        """The kinds of name its resources take (kind -> :class:`~tapinfra.naming.NameRule`),
        registered with the module; its constructs then call ``region.namer.name(resource, kind)``."""
        return {}

    def checks(self, config: "TapConfig", ok: Callable[..., bool]) -> list["Problem"]:
        """Its cross-field rules, when enabled; ``ok(*paths)`` is False when a field it reads was
        already reported invalid (skip the rule then)."""
        return []

    def key_grants(self, foundation: Any, role: str, region_name: str, namer: Any) -> list["ServiceKeyGrant"]:
        """What its services need of the key of the region ``role`` (``primary``, ``secondary`` or
        ``helper``): :class:`~tapinfra.constructs.keys.ServiceKeyGrant` s, added to the key policy."""
        return []

    def interface_services(self, config: "TapConfig") -> tuple[str, ...]:
        return ()

    def build_global(self, ctx: StackContext) -> Any:
        return None

    def function_parts(self, ctx: StackContext, region: "Region") -> FunctionParts:
        return FunctionParts()

    def admit(self, ctx: StackContext, region: "Region", statements: Sequence["Statement"]) -> None:
        return None

    def build_region(self, ctx: RegionContext) -> Any:
        return None

    def build_links(self, ctx: StackContext) -> None:
        return None

    def outputs(self, ctx: StackContext) -> list[Output]:
        return []

    def diagram(self, d: Any, arch: Any, region: Any) -> None:
        """Add this module's nodes for ``region`` (an ``operator.model.Region``) to ``d``."""
        return None

    def cost(self, arch: Any, add: Callable[..., None], hours: float) -> None:
        """Add this module's lines: ``add(scope, region_name, price_item, what, quantity, variant=None)``."""
        return None

    def stateful_types(self) -> Mapping[str, str]:
        """Terraform type -> what its deletion loses."""
        return {}


_REGISTRY: dict[str, Module] = {}


def register_module(module: Module) -> Module:
    """Add ``module`` to every TapStack built from now on (after the ones registered before it).
    Its ``name`` must be a new, non-empty identifier; returns the module."""
    import tapinfra.modules  # noqa: F401  (the built-ins first, whoever registers first)

    if not isinstance(module, Module):
        raise TypeError(f"register_module takes a Module instance, not {type(module).__name__}")
    if not module.name or not module.name.replace("_", "").isalnum():
        raise ValueError(f"module name {module.name!r}: a non-empty identifier (letters, digits, _)")
    if module.name in _REGISTRY:
        raise ValueError(f"a module named {module.name!r} is already registered")
    from tapinfra.naming import register_name_rule

    for kind, rule in module.name_rules().items():
        register_name_rule(kind, rule)
    _REGISTRY[module.name] = module
    return module


def unregister_module(name: str) -> None:
    """Remove a module registered with :func:`register_module` (a test's teardown)."""
    _REGISTRY.pop(name)


def registered_modules() -> tuple[Module, ...]:
    """Every registered module, the built-in ones first (importing tapinfra.modules registers them)."""
    import tapinfra.modules  # noqa: F401  (the built-ins register on import)

    return tuple(_REGISTRY.values())


def enabled_modules(config: "TapConfig") -> tuple[Module, ...]:
    return tuple(m for m in registered_modules() if m.enabled(config))
