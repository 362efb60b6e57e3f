"""adapt's options besides the brief: the strategy, the fact guard, the examples, the seed."""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.errors import InputError
from pipeline.tasks.adapt.selection import parse_examples_option
from pipeline.tasks.inputs import AdaptInput

__all__ = ["STRATEGIES", "TOLERANCE", "AdaptOptions", "default_strategy"]

STRATEGIES = ("one-call", "plan-draft")
TOLERANCE = 0.15  # the length check: within ±15% of the brief's length


@dataclass
class AdaptOptions:
    strategy: str
    strict_facts: bool
    examples: int | list[str] | None
    example_tokens: int | None
    seed: int
    material: bool = True  # ground the draft in the material bank (素材库)

    @classmethod
    def from_input(cls, inp: AdaptInput, backend_name: str) -> AdaptOptions:
        strategy = inp.strategy or default_strategy(backend_name)
        if strategy not in STRATEGIES:
            raise InputError(f"--strategy: unknown strategy {strategy!r}: use one-call or plan-draft")
        return cls(
            strategy=strategy,
            strict_facts=inp.strict_facts,
            examples=parse_examples_option(inp.examples),
            example_tokens=inp.example_tokens or None,
            seed=inp.seed,
            material=inp.material,
        )


def default_strategy(backend_name: str) -> str:
    """plan-draft for the embedded base model, one-call for everything that follows instructions."""
    return "plan-draft" if backend_name == "local" else "one-call"
