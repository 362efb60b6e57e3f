"""Restyle styles are data: one YAML file per style, validated on load.

    prompts/restyle/styles/<name>.yaml      shipped styles (or under --prompts / $SPEECHSMITH_PROMPTS)
    <user config dir>/styles/<name>.yaml     the user's own styles, no Python needed
    --style path/to/my_style.yaml            a style file given directly

A style says how to rewrite (instructions for capable models, a completion cue and examples for
small base models), what it produces (`output`: speech, news or minutes; `keep_structure`), how
long the result should be (`length` 字, `minutes` of speaking, or `ratio` of the source), and the
deterministic light edits (`replacements`, `frame`) the pipeline falls back on when a model
rewrite loses or invents a fact. A bad file gives one line naming the file and the field.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from platformdirs import user_config_dir
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pipeline.errors import InputError, yaml_error_where
from pipeline.paths import APP, prompts_dir
from pipeline.text.hanzi import SPEAKING_RATE

OutputKind = Literal["speech", "news", "minutes"]
_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_-")


class StyleExample(BaseModel):
    """One before/after pair: shown to the model as a completion example."""

    model_config = ConfigDict(extra="forbid")

    source: str = Field(min_length=1)
    rewrite: str = Field(min_length=1)


class StyleFrame(BaseModel):
    """Fixed parts of a genre, as sandboxed Jinja2 templates.

    Used when the style does not keep the source structure (news, minutes, remarks): the frame
    is the genre's formula, the body comes from the source. Only what the text or the user states
    is filled in; what is unknown is empty (never 有关会议 or 近日). Variables: topic (the occasion,
    from --occasion, the header, the title or the text), topic_found, topic_short, genre (讲话,
    贺词, 报告, 致辞, 发言 …), meeting, held (a meeting or an event), verb (召开 or 举行), speaker,
    subject (the speaker's name, else 会议 for a meeting speech, else the genre), say / stress /
    demand / call (the genre's reporting verbs), headline and lead (the genre's news title and
    lead, or the text's own lead), minutes_lead, date, audience, unit, final (the source's
    closing call) and wishes (its closing wishes, reported).
    """

    model_config = ConfigDict(extra="forbid")

    title: str | None = None
    salutation: str | None = None
    opening: str | None = None
    closing: str | None = None
    # Headings of the restructured body, in order; body sentences are dealt out to them.
    headings: list[str] = Field(default_factory=list)
    # How each reported sentence is introduced, cycled (news: 指出/强调/要求; minutes: 会议指出…).
    lead_ins: list[str] = Field(default_factory=list)
    # Enumerators for pledges or points ("一是", "二是" …); empty keeps plain paragraphs.
    enumerators: list[str] = Field(default_factory=list)
    # How a reported demand (要…/必须…) is turned round (remarks: 我们将…), unless the item
    # already starts with one of `speaker_marks`. Demands are then preferred when selecting.
    demand_prefix: str = ""
    speaker_marks: list[str] = Field(default_factory=lambda: ["我们", "我"])


class Style(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = Field(min_length=1)
    instructions: str = Field(min_length=1)
    output: OutputKind = "speech"
    keep_structure: bool = True
    # Completion-style cue for base models: the model continues "<cue>：" after the source.
    cue: str = "改写后"
    examples: list[StyleExample] = Field(default_factory=list)
    length: int | None = Field(default=None, gt=0, le=100_000)  # target 字
    minutes: float | None = Field(default=None, gt=0, le=600)  # target speaking time
    ratio: float | None = Field(default=None, gt=0, le=5)  # target as a share of the source
    min_length: int | None = Field(default=None, gt=0)  # floor for ratio-derived targets
    max_length: int | None = Field(default=None, gt=0)  # ceiling for ratio-derived targets
    # Light edits applied outside quotations and facts, in order (officialese -> plain words …).
    replacements: dict[str, str] = Field(default_factory=dict)
    # Vocatives and asides that mark spoken delivery; prefixed to some paragraphs by the fallback.
    openers: list[str] = Field(default_factory=list)
    # Connectives that open an expansion: a base model asked to continue a finished paragraph
    # just stops, but continues "也就是说，" fluently (bounded expand of the weakest part).
    bridges: list[str] = Field(default_factory=lambda: ["也就是说，", "具体来说，"])
    # Phrases to drop (first-person asides in news, vocatives in minutes …).
    remove: list[str] = Field(default_factory=list)
    # Regular-expression edits after `replacements`, as [pattern, replacement] pairs, for words
    # whose plain form depends on what follows (积极参与 → 主动参与, but not 积极作用).
    patterns: list[tuple[str, str]] = Field(default_factory=list)
    # Sentences longer than this many 字 are split where a second sentence can stand alone.
    split_long: int | None = Field(default=None, ge=15)
    # Spoken turns to the audience prefixed to every `turn_every`-th sentence, by the kind of
    # sentence: demand (要…/必须…), figure (one with a number), other, any.
    turns: dict[Literal["demand", "figure", "other", "any"], list[str]] = Field(default_factory=dict)
    turn_every: int = Field(default=3, ge=1)
    # The share of source sentences the result must change to be this style (else a failed check).
    min_changed: float = Field(default=0.0, ge=0, le=1)
    # Only for texts given at a meeting (minutes of a 贺词 are nonsense).
    meetings_only: bool = False
    frame: StyleFrame = Field(default_factory=StyleFrame)
    path: str = Field(default="", exclude=True)

    @field_validator("patterns")
    @classmethod
    def _valid_patterns(cls, value: list[tuple[str, str]]) -> list[tuple[str, str]]:
        for pattern, _ in value:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"bad pattern {pattern!r}: {exc}") from None
        return value

    def compiled_patterns(self) -> list[tuple[re.Pattern[str], str]]:
        return [(_compile(p), new) for p, new in self.patterns]

    @field_validator("name")
    @classmethod
    def _plain_name(cls, value: str) -> str:
        if not value or not set(value) <= _NAME_CHARS:
            raise ValueError("use lower-case letters, digits, - and _ only")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Style:
        if self.output != "speech" and self.keep_structure:
            raise ValueError(f"output {self.output} restructures the text: set keep_structure: false")
        return self

    def target_length(self, source_zi: int) -> int | None:
        """The style's own length target in 字 (before --length), or None to keep the source's."""
        if self.length:
            return self.length
        if self.minutes:
            return round(self.minutes * SPEAKING_RATE)
        if self.ratio:
            target = round(source_zi * self.ratio)
            if self.min_length:  # a floor, but a ratio style never asks for more than the source
                target = max(target, min(self.min_length, source_zi))
            if self.max_length:
                target = min(target, self.max_length)
            return target
        return None

    def summary(self) -> str:
        parts = [self.output]
        if not self.keep_structure:
            parts.append("restructures")
        if self.length:
            parts.append(f"{self.length}字")
        elif self.minutes:
            parts.append(f"{self.minutes:g}分钟≈{round(self.minutes * SPEAKING_RATE)}字")
        elif self.ratio:
            parts.append(f"{self.ratio:g}×原文")
        return ", ".join(parts)


@cache
def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def style_dirs(prompts_root: str | Path | None = None) -> list[Path]:
    """Where styles are looked up, later folders overriding earlier ones by name."""
    return [prompts_dir(prompts_root) / "restyle" / "styles", Path(user_config_dir(APP)) / "styles"]


def load_style_file(path: str | Path) -> Style:
    """Load and validate one style file; InputError names the file and the field at fault."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"{path}: cannot read style ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: style file is not UTF-8 text") from None
    except yaml.YAMLError as exc:
        where = yaml_error_where(exc)
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise InputError(f"{path}{where}: invalid YAML ({problem})") from None
    if not isinstance(raw, dict):
        raise InputError(f"{path}: a style file must be a mapping of fields (name, description, instructions …)")
    raw.setdefault("name", path.stem)
    try:
        style = Style.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "(root)"
        msg = err["msg"].removeprefix("Value error, ")
        raise InputError(f"{path}: field {field}: {msg}") from None
    if style.name != path.stem:
        raise InputError(f"{path}: field name: is {style.name!r} but the file is named {path.stem!r}")
    style.path = str(path)
    return style


def load_styles(prompts_root: str | Path | None = None, *, errors: list[str] | None = None) -> dict[str, Style]:
    """All styles by name, from the shipped folder then the user's folder.

    With `errors` given, a broken style file is reported there and skipped, so one bad file
    does not hide every other style (listing); without it, the first bad file is an error.
    """
    styles: dict[str, Style] = {}
    for folder in style_dirs(prompts_root):
        if folder.is_dir():
            for path in sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml")):
                try:
                    style = load_style_file(path)
                except InputError as exc:
                    if errors is None:
                        raise
                    errors.append(str(exc))
                    continue
                styles[style.name] = style
    return styles


def get_style(name_or_path: str, prompts_root: str | Path | None = None) -> Style:
    """A style by name, or a style file by path (anything ending in .yaml/.yml)."""
    if name_or_path.endswith((".yaml", ".yml")):
        path = Path(name_or_path)
        if not path.is_file():
            raise InputError(f"{path}: no such style file")
        return load_style_file(path)
    for folder in reversed(style_dirs(prompts_root)):
        for suffix in (".yaml", ".yml"):
            path = folder / f"{name_or_path}{suffix}"
            if path.is_file():
                return load_style_file(path)
    folders = style_dirs(prompts_root)
    if not any(folder.is_dir() for folder in folders):
        raise InputError(
            f"unknown style {name_or_path!r}: no style folder at {folders[0]} (check --prompts / SPEECHSMITH_PROMPTS)"
        )
    known = ", ".join(sorted(load_styles(prompts_root, errors=[]))) or "none found"
    raise InputError(f"unknown style {name_or_path!r}: use one of {known}, or a .yaml style file")
