"""Switch the fast path on, part by part, and say what is active.

Called once per process by ``tapinfra.enable_fast_import()``. Each part is installed on
its own; one that cannot be (a layout it was not written for, something imported too
early) warns on stderr and stays stock, and the output is the same either way.
``TAP_FAST_IMPORT_OFF=<part,...>`` leaves parts stock on purpose, to measure each alone.
"""

from __future__ import annotations

import os

from tapinfra._fastimport.errors import FastImportUnavailable, warn

#: The parts, in the order they are installed.
PARTS = (
    "direct", "pipelined", "predicted_creates", "lazy_requires", "lazy_stack_traces", "compile_cache", "no_opt", "lazy_asserts",
    "tarball_digests", "start_early", "annotations", "typechecks", "early_load", "quick_exit",
)


def parts_off() -> frozenset[str]:
    off = {part.strip() for part in os.environ.get("TAP_FAST_IMPORT_OFF", "").split(",") if part.strip()}
    unknown = off - set(PARTS)
    if unknown:
        warn(f"TAP_FAST_IMPORT_OFF: unknown part(s) {sorted(unknown)}; known: {', '.join(PARTS)}")
    return frozenset(off & set(PARTS))


def stock_mode(packages: tuple[str, ...]) -> dict[str, str]:
    return {
        "node": "stock", "kernel": "stock", "typechecks": "on", "annotations": "evaluated", "exit": "stock",
        **{package: "stock" for package in packages},
    }


def _all_or_partly(hooked: tuple[str, ...], packages: tuple[str, ...], state: str) -> str:
    return state if len(hooked) == len(packages) else f"partly {state}"


class FastPath:
    """The parts installed in this process, and what they report."""

    def __init__(self, packages: tuple[str, ...]) -> None:
        self.packages = packages
        self.mode = stock_mode(packages)
        self.off = parts_off()
        self.plan = None  # the kernel plan, once installed

    def install(self, start_kernel: bool) -> None:
        # The kernel first: started early, it boots while the rest is installed.
        self._kernel()
        if start_kernel:
            self.start_kernel()
        # These two before the light packages, which would look imported to them.
        self._annotations()
        self._typechecks()
        self._light_packages()
        if "quick_exit" not in self.off:
            from tapinfra._fastimport import shutdown

            shutdown.install()
            self.mode["exit"] = "quick"

    def _kernel(self) -> None:
        from tapinfra._fastimport import kernel, kernel_source

        off = self.off
        optional = (
            ("lazy_requires", kernel.LAZY_REQUIRES),
            ("lazy_stack_traces", kernel.LAZY_STACK_TRACES),
            ("compile_cache", kernel.COMPILE_CACHE),
            ("tarball_digests", kernel.TARBALL_DIGESTS),
        )
        preloads = (kernel.LAZY_INDEX,) + tuple(path for part, path in optional if part not in off)
        plan = kernel.KernelPlan(
            direct="direct" not in off,
            pipelined="pipelined" not in off,
            predict_creates="predicted_creates" not in off,
            preloads=preloads,
            compile_cache_dir=None if "compile_cache" in off else kernel.default_compile_cache_dir(),
            node_flags=() if "no_opt" in off else kernel.NO_OPT_FLAGS,
            source_patches=tuple(patch.name for patch in kernel_source.PATCHES if patch.name not in off),
            tarball_digests_file=None if "tarball_digests" in off else kernel.default_tarball_digests_file(),
        )
        try:
            if kernel.install(plan):
                self.plan = plan
                self.mode["node"] = "fast"
                self.mode["kernel"] = ("direct" if plan.direct else "wrapper") + (", pipelined" if plan.pipelined else "")
        except Exception as exc:  # noqa: BLE001 - never let the fast path break the stock one
            warn(f"kernel not changed ({exc!r}); it starts the stock way")

    def start_kernel(self) -> None:
        if self.plan is None or not self.plan.direct or "start_early" in self.off:
            return
        if "started early" in self.mode["kernel"]:
            return
        from tapinfra._fastimport import kernel

        try:
            if kernel.start_early(self.plan):
                self.mode["kernel"] += ", started early"
        except Exception as exc:  # noqa: BLE001 - it then starts when jsii starts it
            warn(f"kernel not started early ({exc!r})")

    def _annotations(self) -> None:
        if "annotations" in self.off:
            return
        from tapinfra._fastimport import bytecode

        try:
            hooked = bytecode.install()
        except Exception as exc:  # noqa: BLE001
            warn(f"bindings compiled the stock way ({exc!r})")
            return
        if hooked is None:
            self.mode["annotations"] = "evaluated (no writable code cache)"
        elif hooked:
            self.mode["annotations"] = _all_or_partly(hooked, bytecode.PACKAGES, "not evaluated")

    def _typechecks(self) -> None:
        if "typechecks" in self.off:
            return
        from tapinfra._fastimport import typechecks

        try:
            hooked = typechecks.install()
        except Exception as exc:  # noqa: BLE001
            warn(f"argument checks stay on ({exc!r})")
            return
        if hooked:
            self.mode["typechecks"] = _all_or_partly(hooked, typechecks.PACKAGES, "skipped")

    def _light_packages(self) -> None:
        from tapinfra._fastimport import light

        early_load = self.plan is not None and self.plan.pipelined and "early_load" not in self.off
        for package in self.packages:
            try:
                light.install_light_package(package)
                self.mode[package] = "fast"
                if early_load:
                    light.load_assembly_early(package)
            except ModuleNotFoundError:
                self.mode[package] = "missing"
            except FastImportUnavailable as exc:
                warn(f"{exc}; importing {package} the stock way")
            except Exception as exc:  # noqa: BLE001
                warn(f"{package}: {exc!r}; importing it the stock way")
