"""The record of one speech in the corpus: what a corpus/<id>.md file holds."""

from __future__ import annotations

import datetime
import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

from pipeline.text.hanzi import count_zi

ID_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,79}$"
_ID_RE = re.compile(ID_PATTERN)

# Front-matter keys in the order they are written, so files diff cleanly in git.
FIELD_ORDER = (
    "id", "title", "genre", "occasion", "speaker", "audience", "date", "source",
    "placeholders", "zishu", "salutation", "closing", "headings",
)
# Labels a user may correct by hand; re-ingesting keeps the corrections (see ingest.py).
LABEL_FIELDS = ("title", "genre", "occasion", "speaker", "audience")


class SpeechRecord(BaseModel):
    """One speech. `text` is the body of the Markdown file, one paragraph per line."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: str = Field(pattern=ID_PATTERN, description="file name without .md; lower-case ASCII")
    title: str = Field(min_length=1, description="what the speech is, from its content")
    genre: str = Field(min_length=1, description="体裁, e.g. 动员大会讲话, 欢迎致辞, 表态发言")
    occasion: str | None = Field(default=None, description="场合, e.g. 创建省级园林城市动员大会")
    speaker: str | None = Field(default=None, description="讲话人 as the text shows it, e.g. 县长")
    audience: str | None = Field(default=None, description="听众, e.g. 市审计组")
    date: str | None = Field(default=None, description="date of delivery if the text gives one")
    source: str | None = Field(default=None, description="file (and section) it was ingested from")
    placeholders: list[str] = Field(
        default_factory=list, description="anonymization blanks in the text (xx, □, 一一 …)"
    )
    zishu: int = Field(default=0, ge=0, description="字数: non-space characters of text")
    salutation: str | None = Field(default=None, description="称呼, e.g. 同志们：")
    closing: str | None = Field(default=None, description="结束语, e.g. 谢谢大家！")
    headings: list[str] = Field(default_factory=list, description="numbered headings, in order")
    text: str = Field(min_length=1, description="the speech, one paragraph per line")

    @field_validator("text")
    @classmethod
    def _one_paragraph_per_line(cls, value: str) -> str:
        lines = [line.strip(" \t\u3000\xa0") for line in value.splitlines()]
        text = "\n".join(line for line in lines if line)
        if not text:
            raise ValueError("the speech text is empty")
        return text

    @field_validator("placeholders", "headings", mode="before")
    @classmethod
    def _list_of_text(cls, value: object) -> object:
        # Hand edits: an empty key, or a single value written without the list dash.
        if value is None:
            return []
        if isinstance(value, (str, int, float)):
            return [str(value)]
        if isinstance(value, list):
            return [_as_text(v) for v in value]
        return value

    @field_validator("title", "genre", "occasion", "speaker", "audience", "date", "source", mode="before")
    @classmethod
    def _scalar_as_text(cls, value: object) -> object:
        # YAML reads `date: 2024-03-05` as a date and `title: 2024` as a number; both are text here.
        return _as_text(value)

    def paragraphs(self) -> list[str]:
        return self.text.split("\n")

    def with_counts(self) -> SpeechRecord:
        """The same record with zishu recomputed from the text (hand edits change it)."""
        return self.model_copy(update={"zishu": count_zi(self.text)})


def valid_id(value: str) -> bool:
    return bool(_ID_RE.match(value))


def _as_text(value: object) -> object:
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return value
