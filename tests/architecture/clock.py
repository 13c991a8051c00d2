"""An import-linter contract type for what imports cannot show: reading the clock.

Pure modules may import `datetime` for its types, but a call such as `datetime.now()` makes
the same input give different output (a new ETag on every render). The `forbidden` contract
keeps `time` out; this one keeps `.now()`, `.today()` and `.utcnow()` out.
"""

from __future__ import annotations

import ast
import importlib.util
from dataclasses import dataclass

from grimp import ImportGraph
from importlinter.application import output
from importlinter.domain import fields
from importlinter.domain.contract import Contract, ContractCheck
from importlinter.domain.helpers import module_expressions_to_modules

CLOCK_READS = frozenset({"now", "today", "utcnow"})


@dataclass(frozen=True)
class ClockRead:
    module: str
    line: int
    call: str


def clock_reads(module: str) -> list[ClockRead]:
    """Each call of a clock-reading method in the module's source, by line."""
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None or not spec.origin.endswith(".py"):
        return []
    with open(spec.origin, encoding="utf-8") as source:
        tree = ast.parse(source.read(), spec.origin)
    return [
        ClockRead(module, node.lineno, f".{node.func.attr}()")
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in CLOCK_READS
    ]


class ClocklessContract(Contract):
    """The source modules (and their submodules) never read the clock; callers pass `now`."""

    type_name = "clockless"
    source_modules = fields.ListField(subfield=fields.ModuleExpressionField())

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        modules = module_expressions_to_modules(graph, self.source_modules, as_packages=True)
        names = sorted(
            {m.name for m in modules} | {d for m in modules for d in graph.find_descendants(m.name)}
        )
        reads = [read for name in names for read in clock_reads(name)]
        return ContractCheck(kept=not reads, metadata={"reads": reads})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for read in check.metadata["reads"]:
            output.print_error(f"{read.module} reads the clock: {read.call} on line {read.line}")
            output.new_line()
