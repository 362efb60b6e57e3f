"""The Summary schema, how long each --length is, and its text / Markdown renderings.

Every item carries `source`: the 1-based numbers of the paragraphs (¶) it comes from, counted
over the non-empty lines of the input (pipeline.text.hanzi.split_paragraphs), so a reader can check
each point against the original.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


def _clean_sources(value: Any) -> list[int]:
    # Models sometimes cite "¶12" or "12" as strings, or one number instead of a list.
    if value is None:
        return []
    if isinstance(value, (int, str)):
        value = [value]
    out: list[int] = []
    for item in value:
        if isinstance(item, str):
            digits = "".join(ch for ch in item if ch.isdigit())
            if not digits:
                continue
            item = int(digits)
        if isinstance(item, int) and not isinstance(item, bool) and item > 0 and item not in out:
            out.append(item)
    return out


class _Item(BaseModel):
    model_config = ConfigDict(extra="ignore")

    source: list[int] = Field(default_factory=list, description="1-based paragraph numbers (¶)")

    @field_validator("source", mode="before")
    @classmethod
    def _sources(cls, value: Any) -> list[int]:
        return _clean_sources(value)


class KeyPoint(_Item):
    text: str = Field(min_length=2, description="one key point, one sentence")


class TaskItem(_Item):
    what: str = Field(min_length=2, description="what is required or decided (部署、要求)")
    who: str | None = Field(default=None, description="who must do it, only where the text says")

    @field_validator("who", mode="before")
    @classmethod
    def _who(cls, value: Any) -> str | None:
        if value is None:
            return None
        value = str(value).strip()
        return value if value and value not in ("无", "未说明", "null", "None", "-", "—") else None


class Figure(_Item):
    value: str = Field(min_length=1, description="the figure exactly as written, e.g. 5%左右")
    measures: str = Field(min_length=1, description="what the figure measures, e.g. 国内生产总值增长")


class Summary(BaseModel):
    """What `speechsmith summarize` produces (and what a model must return as JSON)."""

    model_config = ConfigDict(extra="ignore")

    gist: str = Field(min_length=2, description="the whole text in one sentence")
    gist_source: list[int] = Field(default_factory=list)
    key_points: list[KeyPoint] = Field(default_factory=list)
    tasks: list[TaskItem] = Field(default_factory=list)
    figures: list[Figure] = Field(default_factory=list)

    @field_validator("gist_source", mode="before")
    @classmethod
    def _gist_sources(cls, value: Any) -> list[int]:
        return _clean_sources(value)


@dataclass(frozen=True)
class LengthSpec:
    """How many items and how many 字 each --length allows."""

    name: str
    points: int
    tasks: int
    figures: int
    gist_zi: int  # upper bound for the gist
    point_zi: int  # upper bound for one point or task


LENGTHS: dict[str, LengthSpec] = {
    "short": LengthSpec("short", points=3, tasks=3, figures=3, gist_zi=80, point_zi=60),
    "medium": LengthSpec("medium", points=6, tasks=5, figures=6, gist_zi=100, point_zi=90),
    "long": LengthSpec("long", points=10, tasks=8, figures=10, gist_zi=120, point_zi=120),
}


def length_spec(name: str) -> LengthSpec:
    from pipeline.errors import InputError

    try:
        return LENGTHS[name]
    except KeyError:
        raise InputError(f"unknown length {name!r}: use one of {', '.join(LENGTHS)}") from None
