"""What a change costs: the fixed monthly baseline before and after, and the delta per line and region.

Each side is a synthesized stack (``cdk.tf.json``) or a plan (``terraform show -json``, whose
BEFORE is its prior state and AFTER its planned objects: ``plan_stack.py``); gzip is read as
is. Both sides are priced by the same ``cost.estimate`` and table, then compared line by
line: a line is an item of the price table in one region (all canaries of a region are one
line). A line without a price on a side whose quantity changed has no delta: it is named,
and the delta is a floor. Resources that no table line prices (API keys, usage plans, log
groups: free, or billed per use) are counted per region and type, so an added tenant shows.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from tapinfra.cli.exits import InputError
from tapinfra.errors import Problem
from tapinfra.operator import model
from tapinfra.operator.cost import GLOBAL, Estimate, Line, PriceTable, estimate
from tapinfra.operator.plan_stack import PlanSides, plan_sides
from tapinfra.review.plan import Plan, PlanError, decode_json, parse_plan
from tapinfra.strict_json import Literal

ACCEPTED = "a synthesized stack (cdk.tf.json) or a plan (`terraform show -json PLANFILE`), gzipped or not"


@dataclass
class Side:
    """One side of the comparison: what it was read from, and its estimate."""

    label: str                    # "BEFORE" / "AFTER"
    path: str
    kind: str                     # "stack", or "plan (prior state)" / "plan (planned)"
    estimate: Estimate
    resources: Counter = field(default_factory=Counter)   # (region, type) -> count
    plan: Optional[PlanSides] = None


@dataclass(frozen=True)
class DiffLine:
    region: str
    scopes: tuple[str, ...]       # provider aliases the line comes from, either side
    item: str
    what: str                     # the table's name of the item
    unit: str
    before: Optional[Line]        # the side's lines of this item and region, summed
    after: Optional[Line]

    @staticmethod
    def _monthly(line: Optional[Line]) -> Optional[float]:
        return 0.0 if line is None else line.monthly

    @property
    def monthly_before(self) -> Optional[float]:
        return self._monthly(self.before)

    @property
    def monthly_after(self) -> Optional[float]:
        return self._monthly(self.after)

    @property
    def quantity_before(self) -> float:
        return 0.0 if self.before is None else self.before.quantity

    @property
    def quantity_after(self) -> float:
        return 0.0 if self.after is None else self.after.quantity

    @property
    def delta(self) -> Optional[float]:
        """After minus before; 0 for an unchanged quantity at an unchanged price, None when a changed quantity has no price."""
        if self.monthly_before is not None and self.monthly_after is not None:
            return self.monthly_after - self.monthly_before
        same_price = (self.before is None or self.after is None or self.before.unit_price == self.after.unit_price)
        return 0.0 if self.quantity_before == self.quantity_after and same_price else None

    @property
    def reason(self) -> Optional[str]:
        """The table's reason for a missing price, on whichever side lacks one."""
        for line in (self.after, self.before):
            if line is not None and line.unpriced_reason:
                return line.unpriced_reason
        return None


@dataclass
class Diff:
    before: Side
    after: Side
    lines: list[DiffLine]
    prices: PriceTable

    @property
    def regions(self) -> list[str]:
        seen = list(dict.fromkeys(line.region for line in self.lines if line.region != GLOBAL))
        return seen + ([GLOBAL] if any(line.region == GLOBAL for line in self.lines) else [])

    def region_lines(self, region: str) -> list[DiffLine]:
        return [line for line in self.lines if line.region == region]

    @staticmethod
    def _sum(values: list[Optional[float]]) -> float:
        return sum(v for v in values if v is not None)

    def subtotal(self, region: str, side: str) -> float:
        return self._sum([getattr(line, f"monthly_{side}") for line in self.region_lines(region)])

    def region_delta(self, region: str) -> float:
        return self._sum([line.delta for line in self.region_lines(region)])

    def total(self, side: str) -> float:
        return self._sum([getattr(line, f"monthly_{side}") for line in self.lines])

    @property
    def delta(self) -> float:
        return self._sum([line.delta for line in self.lines])

    @property
    def undetermined(self) -> list[DiffLine]:
        """Lines whose quantity changed where a side has no price: the delta leaves them out."""
        return [line for line in self.lines if line.delta is None]

    def resource_changes(self) -> list[tuple[str, str, int, int]]:
        """(region, type, before, after) for resource types whose count changed in a region."""
        keys = list(dict.fromkeys([*self.before.resources, *self.after.resources]))
        return [(region, rtype, self.before.resources[(region, rtype)], self.after.resources[(region, rtype)])
                for region, rtype in keys if self.before.resources[(region, rtype)] != self.after.resources[(region, rtype)]]

    def scope_label(self, region: str) -> str:
        if region == GLOBAL:
            return GLOBAL
        scopes = sorted({scope for line in self.region_lines(region) for scope in line.scopes if scope != GLOBAL})
        return f"{region} ({', '.join(scopes)})" if scopes else region


# ---------------------------------------------------------------- reading the sides

def read_document(path: str, label: str) -> Any:
    """The JSON of a side's file (gunzipped when gzipped); an InputError naming the side and file."""
    try:
        data = Path(path).read_bytes()
    except (OSError, ValueError) as exc:  # ValueError: a path with a NUL byte
        raise _bad_side(label, path, Literal("<unreadable>"), f"a readable file ({getattr(exc, 'strerror', None) or exc})") from None
    try:
        return decode_json(data, path)
    except PlanError as exc:
        raise _unreadable(label, path, exc) from None


def _bad_side(label: str, path: str, value: Any, why: str) -> InputError:
    """One problem: the side and its file, what was found, what is accepted and why this file is not."""
    return InputError([Problem(f"cost --diff {label} {path}", value, f"{ACCEPTED} ({why})")])


def _unreadable(label: str, path: str, exc: PlanError) -> InputError:
    """The reader's own words about the file (its name dropped: the message names it once)."""
    reason = " ".join(str(exc).split())
    reason = reason[len(path):].lstrip(":").strip() if reason.startswith(path) else reason
    return _bad_side(label, path, Literal("<not a stack or plan>"), f"this file {reason}" if reason.startswith("is ") else reason)


def sides(before_path: str, after_path: str, prices: PriceTable) -> tuple[Side, Side]:
    """Both sides priced. Two plans, two stacks or one of each: each file is read for what it is."""
    read = {label: _side_documents(read_document(path, label), label, path) for label, path in (("BEFORE", before_path), ("AFTER", after_path))}
    before_doc, before_kind, before_plan = read["BEFORE"][0]
    after_doc, after_kind, after_plan = read["AFTER"][1]
    return (_side("BEFORE", before_path, before_kind, before_doc, prices, before_plan),
            _side("AFTER", after_path, after_kind, after_doc, prices, after_plan))


def _side_documents(doc: Any, label: str, path: str):
    """((before document, kind, plan), (after document, kind, plan)) of one file: a stack is both."""
    if isinstance(doc, dict) and "format_version" in doc:
        try:
            parsed = parse_plan(doc, path)
        except PlanError as exc:
            raise _unreadable(label, path, exc) from None
        planned = plan_sides(parsed)
        return (planned.before, "plan (prior state)", planned), (planned.after, "plan (planned)", planned)
    if isinstance(doc, dict) and "resource" in doc:
        return (doc, "stack", None), (doc, "stack", None)
    shape = sorted(doc)[:6] if isinstance(doc, dict) else Literal(f"<a JSON {type(doc).__name__}>")
    raise _bad_side(label, path, shape, "a stack has a resource section, a plan a format_version")


def _side(label: str, path: str, kind: str, doc: dict[str, Any], prices: PriceTable, plan: Optional[PlanSides]) -> Side:
    where = f"cost --diff {label} {path}" + (f" ({kind})" if plan is not None else "")
    arch = model.from_document(doc, where)
    counts = Counter((region.name, r.type) for region in arch.regions.values() for r in region.resources)
    return Side(label, path, kind, estimate(arch, prices), counts, plan)


def plan_diff(plan: Plan, prices: PriceTable, path: str = "plan") -> Diff:
    """The diff of one parsed plan (what ``review`` holds): its prior state against its planned objects."""
    planned = plan_sides(plan)
    return compare(_side("BEFORE", path, "plan (prior state)", planned.before, prices, planned),
                   _side("AFTER", path, "plan (planned)", planned.after, prices, planned), prices)


# ---------------------------------------------------------------- comparing

def compare(before: Side, after: Side, prices: PriceTable) -> Diff:
    keys: dict[tuple[str, str], None] = {}
    summed = {}
    for side in (before, after):
        lines: dict[tuple[str, str], list[Line]] = {}
        for line in side.estimate.lines:
            lines.setdefault((line.region, line.item), []).append(line)
            keys.setdefault((line.region, line.item))
        summed[side.label] = {key: _sum_lines(group) for key, group in lines.items()}
    out = []
    for region, item in keys:
        b, a = summed["BEFORE"].get((region, item)), summed["AFTER"].get((region, item))
        scopes = tuple(dict.fromkeys(line.scope for side in (before, after) for line in side.estimate.lines
                                     if (line.region, line.item) == (region, item)))
        entry = prices.entry(item)
        out.append(DiffLine(region, scopes, item, entry["what"], entry["unit"], b, a))
    return Diff(before, after, out, prices)


def _sum_lines(group: list[Line]) -> Line:
    """One line for an item in a region: quantities add; the price is the region's (one per item and region)."""
    first = group[0]
    if len(group) == 1:
        return first
    prices = {line.unit_price for line in group}
    unit_price = first.unit_price if len(prices) == 1 else None   # sizes or classes that differ: summed monthly below
    quantity = sum(line.quantity for line in group)
    if unit_price is None and all(line.monthly is not None for line in group):
        monthly = sum(line.monthly for line in group)
        return Line(first.scope, first.region, first.item, first.what, quantity, first.unit, monthly / quantity if quantity else 0.0)
    reason = next((line.unpriced_reason for line in group if line.unpriced_reason), None)
    return Line(first.scope, first.region, first.item, first.what, quantity, first.unit, unit_price, reason)


def diff_files(before_path: str, after_path: str, prices: PriceTable) -> Diff:
    before, after = sides(before_path, after_path, prices)
    return compare(before, after, prices)


# ---------------------------------------------------------------- printing

def _money(value: Optional[float]) -> str:
    return "unpriced" if value is None else f"{value:,.2f}"


def _signed(value: Optional[float]) -> str:
    if value is None:
        return "unpriced"
    return "0.00" if abs(value) < 0.005 else f"{value:+,.2f}"


def _qty(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 or float(value).is_integer() else f"{value:,.2f}"


def notes(diff: Diff) -> list[str]:
    """What the reader must know to read the figures: unpriced deltas, what a plan's refresh lost."""
    out = []
    if diff.undetermined:
        out.append(f"{len(diff.undetermined)} changed line(s) have no price on a side: the delta leaves them out "
                   "(each line says why; `cost --refresh-prices` fills the table from the AWS Price List API).")
    for side in (diff.before, diff.after):
        plan = side.plan
        if plan is None or side.label != "BEFORE":
            continue
        for region, count in plan.gone_at_refresh.items():
            out.append(f"BEFORE is the state as terraform refreshed it: {count} resource(s) in {region} the last state held "
                       "were not found (resource_drift). Deleted outside terraform they cost nothing; if they still exist "
                       "(a provider whose region changed), they keep costing and terraform no longer manages them.")
        if plan.unplaced:
            out.append(f"{plan.unplaced} prior-state resource(s) name neither a provider of the configuration nor a region: not counted in BEFORE.")
    return out


def render_text(diff: Diff) -> str:
    currency = diff.prices.data["currency"]
    out = [f"Fixed monthly baseline, before and after ({currency}, {diff.prices.hours_per_month:g} h a month, "
           "on-demand list prices, free tiers not subtracted)",
           f"  BEFORE: {diff.before.path} ({diff.before.kind})", f"  AFTER:  {diff.after.path} ({diff.after.kind})", ""]
    header = f"  {'line':<58} {'qty before':>12} {'qty after':>12} {'before':>10} {'after':>10} {'delta':>10}"
    for region in diff.regions:
        out += [diff.scope_label(region), header]
        for line in diff.region_lines(region):
            what = line.what if len(line.what) <= 58 else line.what[:57] + "…"
            out.append(f"  {what:<58} {_qty(line.quantity_before):>12} {_qty(line.quantity_after):>12} "
                       f"{_money(line.monthly_before):>10} {_money(line.monthly_after):>10} {_signed(line.delta):>10}")
            if line.reason and (line.monthly_before is None or line.monthly_after is None):
                out.append(f"      unpriced: {line.reason}")
        out.append(f"  {'subtotal (priced lines)':<84} {_money(diff.subtotal(region, 'before')):>10} "
                   f"{_money(diff.subtotal(region, 'after')):>10} {_signed(diff.region_delta(region)):>10}")
        out.append("")
    out.append(f"{'TOTAL (priced lines)':<86} {_money(diff.total('before')):>10} {_money(diff.total('after')):>10} {_signed(diff.delta):>10}")
    changes = diff.resource_changes()
    if changes:
        out += ["", "Resources added or removed (types no line of the table prices are free or billed per use):"]
        out += [f"  {region:<16} {rtype:<52} {before:>4} -> {after:<4} ({after - before:+d})" for region, rtype, before, after in changes]
    plan = diff.after.plan or diff.before.plan
    if plan is not None and plan.actions:
        out += ["", "The plan's actions:"]
        out += [f"  {region:<16} {rtype:<52} {kind} {count}" for (region, rtype, kind), count in sorted(plan.actions.items())]
    extra = notes(diff)
    if extra:
        out += [""] + [f"Note: {note}" for note in extra]
    out += ["", "Sources and dates for every price: `cost --json` per line, tapinfra/operator/prices.json"]
    return "\n".join(out) + "\n"


def as_json(diff: Diff) -> dict[str, Any]:
    def side(s: Side) -> dict[str, Any]:
        return {"path": s.path, "kind": s.kind, "total": round(diff.total(s.label.lower()), 6)}

    def line(d: DiffLine) -> dict[str, Any]:
        price = d.after or d.before
        read_in, as_of = diff.prices.source(d.item, "*" if d.region == GLOBAL else d.region)
        return {
            "region": d.region, "scopes": list(d.scopes), "item": d.item, "what": d.what, "unit": d.unit,
            "quantity_before": d.quantity_before, "quantity_after": d.quantity_after,
            "unit_price": None if price is None else price.unit_price,
            "monthly_before": _round(d.monthly_before), "monthly_after": _round(d.monthly_after), "delta": _round(d.delta),
            "unpriced_reason": d.reason, "source": diff.prices.entry(d.item)["source"], "read_in": read_in, "as_of": as_of,
        }

    plan = diff.after.plan or diff.before.plan
    return {
        "currency": diff.prices.data["currency"],
        "hours_per_month": diff.prices.hours_per_month,
        "before": side(diff.before),
        "after": side(diff.after),
        "delta": round(diff.delta, 6),
        "complete": not diff.undetermined,
        "regions": [{"region": r, "label": diff.scope_label(r), "before": round(diff.subtotal(r, "before"), 6),
                     "after": round(diff.subtotal(r, "after"), 6), "delta": round(diff.region_delta(r), 6)} for r in diff.regions],
        "lines": [line(d) for d in diff.lines],
        "resources": [{"region": r, "type": t, "before": b, "after": a} for r, t, b, a in diff.resource_changes()],
        "plan_actions": [] if plan is None else [{"region": r, "type": t, "action": k, "count": n}
                                                 for (r, t, k), n in sorted(plan.actions.items())],
        "notes": notes(diff),
    }


def _round(value: Optional[float]) -> Optional[float]:
    return None if value is None else round(value, 6)


MARKER = "<!-- tapinfra-cost -->"


def markdown_section(diff: Diff) -> str:
    """One Markdown section (a heading, a table per region, the changed lines collapsed), for a pull-request comment."""
    currency = diff.prices.data["currency"]
    floor = "" if not diff.undetermined else " (at least: some changed lines are unpriced)"
    lines = [MARKER, f"#### 💰 Fixed monthly baseline: {_signed(diff.delta)} {currency}{floor}", "",
             f"{_money(diff.total('before'))} → {_money(diff.total('after'))} {currency} a month "
             f"({diff.prices.hours_per_month:g} h, on-demand list prices, free tiers not subtracted).", "",
             "| region | before | after | delta |", "|---|---:|---:|---:|"]
    lines += [f"| {_md(diff.scope_label(r))} | {_money(diff.subtotal(r, 'before'))} | {_money(diff.subtotal(r, 'after'))} "
              f"| {_signed(diff.region_delta(r))} |" for r in diff.regions]
    lines.append(f"| **total** | **{_money(diff.total('before'))}** | **{_money(diff.total('after'))}** | **{_signed(diff.delta)}** |")
    lines.append("")
    changed = [d for d in diff.lines if d.delta is None or abs(d.delta) >= 0.005 or d.quantity_before != d.quantity_after]
    if changed:
        lines += [f"<details><summary>{len(changed)} line(s) changed</summary>", "",
                  "| region | line | quantity | before | after | delta |", "|---|---|---:|---:|---:|---:|"]
        lines += [f"| {_md(d.region)} | {_md(d.what)}{' — ' + _md(d.reason) if d.delta is None and d.reason else ''} "
                  f"| {_qty(d.quantity_before)} → {_qty(d.quantity_after)} {_md(d.unit)} "
                  f"| {_money(d.monthly_before)} | {_money(d.monthly_after)} | {_signed(d.delta)} |" for d in changed]
        lines += ["", "</details>", ""]
    changes = diff.resource_changes()
    if changes:
        lines += [f"<details><summary>{len(changes)} resource type(s) added or removed</summary>", "",
                  "| region | type | before | after |", "|---|---|---:|---:|"]
        lines += [f"| {_md(r)} | `{t}` | {b} | {a} |" for r, t, b, a in changes]
        lines += ["", "</details>", ""]
    lines += [f"- {_md(note)}" for note in notes(diff)]
    return "\n".join(lines).rstrip("\n") + "\n"


def _md(value: str) -> str:
    return value.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")
