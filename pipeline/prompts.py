"""Prompt templates are data: one folder per prompt, readable and editable without Python.

    prompts/<name>/meta.yaml   id, version, description, variables (all required)
    prompts/<name>/system.md   optional system message (Jinja2, sandboxed)
    prompts/<name>/user.md     user message (Jinja2, sandboxed)
    prompts/<name>/prefill.md  optional start of the reply the model continues (base models)

<name> may be nested ("adapt/section"). A missing variable is an error, not an empty string.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pipeline.errors import InputError, yaml_error_where
from pipeline.model.types import Message
from pipeline.paths import prompts_dir

_FILES = ("meta.yaml", "system.md", "user.md", "prefill.md")


class PromptMeta(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    version: str
    description: str = ""
    variables: list[str] = Field(default_factory=list)
    output: str | None = None  # name of the pydantic schema the reply must match, if any


@dataclass(frozen=True)
class PromptRef:
    """Which template made a request: logged with every call and every output."""

    id: str
    version: str
    hash: str

    def to_dict(self) -> dict[str, str]:
        return {"id": self.id, "version": self.version, "hash": self.hash}


@dataclass(frozen=True)
class PromptTemplate:
    meta: PromptMeta
    system: str | None
    user: str
    prefill: str | None
    ref: PromptRef
    path: Path

    def render(self, **variables: Any) -> tuple[Message, ...]:
        """Render to messages; raises InputError naming the template and variable at fault."""
        missing = [v for v in self.meta.variables if v not in variables]
        if missing:
            raise InputError(f"prompt {self.meta.id}: missing variable(s) {', '.join(missing)}")
        messages: list[Message] = []
        for role, source in (("system", self.system), ("user", self.user), ("assistant", self.prefill)):
            if source is None:
                continue
            text = _render(source, variables, f"{self.meta.id}/{role}")
            if role == "assistant" and not text:
                continue
            messages.append(Message(role, text))  # type: ignore[arg-type]
        return tuple(messages)


_LOADED: dict[tuple[Path, tuple[bytes | None, ...]], PromptTemplate] = {}


def load_prompt(name: str, root: str | Path | None = None) -> PromptTemplate:
    """Load and validate prompts/<name>/ (parsed once per distinct content of its files)."""
    folder = prompts_dir(root) / name
    # Tasks load their prompt on every call and a batch makes thousands of calls. Reading four
    # small files is cheap, parsing YAML and validating is not: reuse what was loaded from the
    # very same bytes (never a stale template, however quickly a file is edited).
    key = (folder, tuple(_read(folder / fname) for fname in _FILES))
    cached = _LOADED.get(key)
    if cached is not None:
        return cached
    template = _load_prompt(name, folder)
    if len(_LOADED) < 256:
        _LOADED[key] = template
    return template


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def _load_prompt(name: str, folder: Path) -> PromptTemplate:
    meta_path = folder / "meta.yaml"
    if not meta_path.is_file():
        raise InputError(f"prompt {name!r}: no {meta_path}")
    try:
        raw = yaml.safe_load(meta_path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        where = yaml_error_where(exc)
        raise InputError(f"{meta_path}{where}: invalid YAML") from None
    if not isinstance(raw, dict):
        raise InputError(f"{meta_path}: expected a mapping of fields")
    try:
        meta = PromptMeta.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "(root)"
        raise InputError(f"{meta_path}: field {field}: {err['msg']}") from None
    if meta.id != name:
        raise InputError(f"{meta_path}: field id: is {meta.id!r} but the folder is {name!r}")
    texts = {}
    for fname in _FILES[1:]:
        path = folder / fname
        texts[fname] = path.read_text(encoding="utf-8") if path.is_file() else None
    if texts["user.md"] is None:
        raise InputError(f"prompt {name!r}: no {folder / 'user.md'}")
    digest = hashlib.sha256()
    for fname in _FILES:
        path = folder / fname
        digest.update(fname.encode() + b"\0" + (path.read_bytes() if path.is_file() else b"") + b"\0")
    ref = PromptRef(meta.id, meta.version, digest.hexdigest()[:16])
    for fname, text in texts.items():
        if text is not None:
            _compile(text, f"{folder / fname}")
    return PromptTemplate(
        meta, texts["system.md"], texts["user.md"], texts["prefill.md"], ref, folder
    )


def list_prompts(root: str | Path | None = None) -> list[str]:
    base = prompts_dir(root)
    return sorted(str(p.parent.relative_to(base)) for p in base.rglob("meta.yaml"))


_ENV = None


def _env():
    global _ENV
    if _ENV is None:
        from jinja2 import StrictUndefined
        from jinja2.sandbox import SandboxedEnvironment

        _ENV = SandboxedEnvironment(
            undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False,
            trim_blocks=True, lstrip_blocks=True,
        )
    return _ENV


_COMPILED: dict[str, Any] = {}  # template source -> compiled Template (compiling costs ~1 ms)


def _compile(source: str, where: str):
    from jinja2 import TemplateSyntaxError

    # Batch renders the same few templates thousands of times; a compiled Template is immutable
    # and safe to render from many threads, so it is compiled once per distinct source.
    cached = _COMPILED.get(source)
    if cached is not None:
        return cached
    try:
        template = _env().from_string(source)
    except TemplateSyntaxError as exc:
        raise InputError(f"{where} line {exc.lineno}: template error: {exc.message}") from None
    if len(_COMPILED) < 512:
        _COMPILED[source] = template
    return template


def _render(source: str, variables: dict[str, Any], where: str) -> str:
    from jinja2 import UndefinedError
    from jinja2.exceptions import SecurityError

    try:
        return _compile(source, where).render(**variables).strip("\n")
    except UndefinedError as exc:
        raise InputError(f"prompt {where}: {exc.message}") from None
    except SecurityError as exc:
        raise InputError(f"prompt {where}: not allowed in a template: {exc}") from None
