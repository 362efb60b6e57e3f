"""What a checked text may say: the brief, the allowed facts, the source, who speaks to whom,
the example texts the model was shown, and the length it should have.

The substance rules read one SubstanceContext. `speechsmith check` builds it from its options
(--brief, --facts, --source, --speaker, --audience, --occasion, --style, --length); the tasks
build it from their own input (adapt's brief, restyle's source and style, summarize's report).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipeline.check.base import CheckConfig

__all__ = ["SubstanceContext", "context_of", "STYLE_RANGES"]

# 字 a text of each style may have when no target is given: wide bounds that only a broken
# output (a 14-字 reply, a runaway loop) falls outside. (low, high); None = no bound that side.
STYLE_RANGES: dict[str, tuple[int, int | None]] = {
    "speech": (150, None),
    "plain": (150, None),
    "oral": (150, None),
    "remarks": (100, None),
    "news": (120, 3000),
    "minutes": (120, 4000),
    "summary": (20, None),
}


@dataclass
class SubstanceContext:
    """Everything the substance rules compare a text against; every field may be empty."""

    brief: str = ""  # the brief's free text (notes, requirements), if any
    facts: list[str] = field(default_factory=list)  # figures, names, documents the text may use
    source: str | None = None  # the text it was made from (restyle, summarize) or a source file
    speaker: str | None = None  # 县长, 校长, 局党组书记…
    audience: str | None = None  # 全体教师, 新入职员工…
    occasion: str | None = None  # 全县安全生产工作会议
    points: list[str] = field(default_factory=list)  # the brief's points / topic terms
    examples: list[str] = field(default_factory=list)  # texts of examples the model was shown
    style: str | None = None  # speech (default), plain, oral, remarks, news, minutes, summary
    length: int | None = None  # target 字
    length_range: tuple[int, int | None] | None = None  # explicit bounds, overriding the above

    @classmethod
    def from_brief(cls, brief: Any, examples: list[str] | None = None) -> SubstanceContext:
        """The context of adapt's brief (a Brief or its dict) and the example texts shown."""
        fields = brief.model_dump() if hasattr(brief, "model_dump") else dict(brief)
        extra = [str(fields.get(k) or "") for k in ("tone", "date", "place", "genre", "salutation")]
        return cls(
            brief="\n".join(e for e in extra if e),
            facts=[str(f) for f in fields.get("facts") or []],
            speaker=fields.get("speaker") or None,
            audience=fields.get("audience") or None,
            occasion=fields.get("occasion") or None,
            points=[str(p) for p in fields.get("points") or []],
            examples=list(examples or []),
            style="speech",
            length=fields.get("length") or None,
        )

    @property
    def allowed_texts(self) -> list[str]:
        """Texts whose figures, names, documents and meetings the checked text may repeat."""
        out = [self.brief, *self.facts, *self.points]
        out += [t for t in (self.source, self.speaker, self.audience, self.occasion) if t]
        return [t for t in out if t]

    @property
    def grounded(self) -> bool:
        """Is there a brief or source to hold the text to? Without one nothing counts as invented
        (a finished speech checked on its own states its own facts)."""
        return bool(self.brief or self.facts or self.source or self.points or self.occasion)

    @property
    def brief_text(self) -> str:
        """What the text is about: occasion, points, brief and audience in one string."""
        return "\n".join(t for t in (self.occasion, *self.points, self.brief, self.audience, self.speaker) if t)

    def expected_range(self) -> tuple[int, int | None] | None:
        """(low, high) 字 outside which the text is broken, not merely off target: a third of
        the target to three times it, or the style's wide range."""
        if self.length_range:
            return self.length_range
        if self.length:
            return max(1, self.length // 3), self.length * 3
        if self.style in STYLE_RANGES:
            return STYLE_RANGES[self.style]
        return None


def context_of(config: CheckConfig) -> SubstanceContext:
    """The config's context, or one built from its --source, --audience and --length."""
    if config.context is not None:
        return config.context
    return SubstanceContext(source=config.source, audience=config.audience, length=config.length)
