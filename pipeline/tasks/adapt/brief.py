"""The brief a 文秘 gives for a new speech: from flags, a YAML/JSON file, or both (flags win).

    occasion: 全县安全生产工作会议
    speaker: 县长
    audience: 各乡镇、县直各部门负责同志
    points: [压实安全生产责任, 深入开展隐患排查整治]
    length: 1500            # 字
    facts: [2025年, 3起较大事故]   # the only names, dates and figures the speech may state

Every problem is an InputError naming the field, so a bad brief is one clear line.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from pipeline.errors import InputError, yaml_error_where
from pipeline.text.audience import classify_audience, classify_occasion
from pipeline.text.numbering import LEADING_NUMBER

__all__ = [
    "Brief",
    "allowed_facts_list",
    "allowed_texts",
    "brief_from_inputs",
    "classify_audience",
    "classify_occasion",
    "load_brief_file",
    "make_brief",
]

MIN_LENGTH = 100
MAX_LENGTH = 20000
MAX_POINTS = 12

class Brief(BaseModel):
    """What the speech must be about; `facts` bounds what it may assert."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    occasion: str = Field(min_length=2, max_length=200)
    speaker: str = Field(default="", max_length=100)
    audience: str = Field(default="", max_length=200)
    points: list[str] = Field(min_length=1, max_length=MAX_POINTS)
    length: int = Field(default=1500, ge=MIN_LENGTH, le=MAX_LENGTH)
    tone: str = Field(default="", max_length=100)
    date: str = Field(default="", max_length=50)
    place: str = Field(default="", max_length=100)
    facts: list[str] = Field(default_factory=list, max_length=100)
    genre: str | None = Field(default=None, max_length=50)
    salutation: str | None = Field(default=None, max_length=100)  # overrides the derived 称呼

    @field_validator("points", "facts", mode="before")
    @classmethod
    def _listify(cls, value: Any) -> Any:
        # YAML users write `points: 压实责任` for a single point.
        if isinstance(value, str):
            return [value]
        return value

    @field_validator("points")
    @classmethod
    def _points(cls, value: list[str]) -> list[str]:
        cleaned = [_strip_numbering(p) for p in value]
        for point in cleaned:
            if not point:
                raise ValueError("a point is empty")
            if len(point) > 60:
                raise ValueError(f"point {point[:20]!r}… is longer than 60 characters; make it a heading")
        if len(set(cleaned)) != len(cleaned):
            raise ValueError("the same point is given twice")
        return cleaned

    @field_validator("facts")
    @classmethod
    def _facts(cls, value: list[str]) -> list[str]:
        return [f.strip() for f in value if f and f.strip()]

    # ---- derived ----------------------------------------------------------------------------

    @property
    def audience_kind(self) -> str:
        """cadres (default), leaders_cadres, guests, students, villagers, community or staff."""
        return classify_audience(self.audience)

    def derived_salutation(self) -> str:
        """The 称呼 that fits the audience, unless the brief sets one."""
        if self.salutation:
            return self.salutation if self.salutation.endswith(("：", ":")) else self.salutation + "："
        if self.audience_kind in ("cadres", "staff", "leaders_cadres", "community"):
            # 同志们 is for a party or government meeting: teachers, new staff, entrepreneurs and
            # parents are addressed as the S105 check expects (老师们, 各位新同事…)
            from pipeline.check.substance.fit import AUDIENCE_FORMS

            for words, _, form in AUDIENCE_FORMS:
                if any(w in (self.audience or "") for w in words):
                    return form.split(" / ")[0] + "："
        return {
            "students": "老师们、同学们：",
            "villagers": "父老乡亲们：",
            "guests": "尊敬的各位领导、各位来宾：",
            "staff": "同志们：",
            "community": "同志们、朋友们：",
            "leaders_cadres": "各位领导、同志们：",
            "cadres": "同志们：",
        }[self.audience_kind]

    def derived_title(self) -> str:
        """`在…上的讲话`, the usual title of a 领导讲话稿."""
        occ = self.occasion.strip("《》“”\" ")
        if occ.startswith("在") and occ.endswith("讲话"):
            return occ
        if re.search(r"(会|会议|大会|仪式|典礼|论坛|座谈会|动员会|推进会|开幕式|闭幕式|发布会)$", occ):
            return f"在{occ}上的讲话"
        return f"在{occ}时的讲话"


def _strip_numbering(point: str) -> str:
    # "一、压实责任" and "1. 压实责任" are the same point; the pipeline numbers sections itself.
    return LEADING_NUMBER.sub("", point.strip()).strip(" 。；;")


def load_brief_file(path: str | Path) -> dict[str, Any]:
    """Read a YAML or JSON brief into a dict (not validated yet)."""
    import yaml

    from pipeline.text.textio import read_text

    text = read_text(path)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        where = yaml_error_where(exc)
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise InputError(f"{path}{where}: malformed YAML/JSON brief: {problem}") from None
    if data is None:
        raise InputError(f"{path}: the brief is empty")
    if not isinstance(data, dict):
        raise InputError(f"{path}: a brief is a mapping of fields (occasion, points, …), not a {type(data).__name__}")
    return data


def make_brief(fields: dict[str, Any], *, source: str = "brief") -> Brief:
    """Validate fields into a Brief; an InputError names the first bad field."""
    data = {k: v for k, v in fields.items() if v is not None and v != [] and v != ()}
    unknown = sorted(set(data) - set(Brief.model_fields))
    if unknown:
        allowed = ", ".join(Brief.model_fields)
        raise InputError(f"{source}: unknown field {unknown[0]!r} (fields: {allowed})")
    try:
        return Brief.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = [str(p) for p in err["loc"]]
        field = loc[0] if loc else "(brief)"
        if len(loc) > 1:
            field += f"[{int(loc[1]) + 1}]" if loc[1].isdigit() else f".{loc[1]}"
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "missing":
            hint = {"occasion": " (--occasion)", "points": " (--point, one per section)"}.get(field, "")
            msg = f"is required{hint}"
        return _raise(source, field, msg)


def _raise(source: str, field: str, msg: str) -> Brief:
    raise InputError(f"{source}: field {field}: {msg}")


def brief_from_inputs(inputs: dict[str, Any]) -> Brief:
    """Task inputs (CLI option names) → Brief. A `brief` file gives defaults; flags override."""
    fields: dict[str, Any] = {}
    source = "brief"
    path = inputs.get("brief")
    if path:
        fields.update(load_brief_file(path))
        source = str(path)
    for name in Brief.model_fields:
        value = inputs.get(name)
        if value is None or value == [] or value == ():
            continue
        fields[name] = list(value) if isinstance(value, tuple) else value
    return make_brief(fields, source=source)


def allowed_texts(brief: Brief) -> list[str]:
    """What the speech may state: the brief's own words."""
    return [brief.occasion, brief.speaker, brief.audience, brief.date, brief.place, brief.tone,
            *brief.points, *brief.facts]


def allowed_facts_list(brief: Brief) -> list[str]:
    """The figures, dates and places the brief gives, as the prompts list them."""
    items = list(brief.facts)
    if brief.date:
        items.insert(0, brief.date)
    if brief.place:
        items.insert(0, brief.place)
    return items
