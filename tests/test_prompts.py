"""Prompt templates are data: strict loading, sandboxed rendering, missing variables are errors."""

from pathlib import Path

import pytest

from pipeline.errors import InputError
from pipeline.prompts import list_prompts, load_prompt


def _write(folder: Path, meta: str, user: str = "主题：{{ topic }}", system: str | None = "你是秘书。") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "meta.yaml").write_text(meta, encoding="utf-8")
    (folder / "user.md").write_text(user, encoding="utf-8")
    if system is not None:
        (folder / "system.md").write_text(system, encoding="utf-8")


def test_render_and_ref(tmp_path: Path) -> None:
    _write(tmp_path / "demo", "id: demo\nversion: '3'\nvariables: [topic]\n")
    tpl = load_prompt("demo", tmp_path)
    messages = tpl.render(topic="安全生产")
    assert [m.role for m in messages] == ["system", "user"]
    assert messages[1].content == "主题：安全生产"
    assert tpl.ref.id == "demo" and tpl.ref.version == "3" and len(tpl.ref.hash) == 16
    assert list_prompts(tmp_path) == ["demo"]


def test_hash_changes_when_a_template_changes(tmp_path: Path) -> None:
    _write(tmp_path / "demo", "id: demo\nversion: '1'\nvariables: [topic]\n")
    before = load_prompt("demo", tmp_path).ref.hash
    (tmp_path / "demo" / "system.md").write_text("你是资深秘书。", encoding="utf-8")
    assert load_prompt("demo", tmp_path).ref.hash != before


def test_missing_variable_is_an_error(tmp_path: Path) -> None:
    _write(tmp_path / "demo", "id: demo\nversion: '1'\n", user="{{ topic }} {{ other }}")
    with pytest.raises(InputError, match="other"):
        load_prompt("demo", tmp_path).render(topic="x")


def test_declared_variable_missing(tmp_path: Path) -> None:
    _write(tmp_path / "demo", "id: demo\nversion: '1'\nvariables: [topic]\n")
    with pytest.raises(InputError, match="missing variable"):
        load_prompt("demo", tmp_path).render()


def test_unknown_meta_field_names_file_and_field(tmp_path: Path) -> None:
    _write(tmp_path / "demo", "id: demo\nversion: '1'\nvarz: [topic]\n")
    with pytest.raises(InputError, match=r"meta.yaml: field varz"):
        load_prompt("demo", tmp_path)


def test_malformed_yaml_is_one_line(tmp_path: Path) -> None:
    _write(tmp_path / "demo", "id: demo\nversion: [1\n")
    with pytest.raises(InputError) as err:
        load_prompt("demo", tmp_path)
    assert "invalid YAML" in str(err.value) and "\n" not in str(err.value)


def test_id_must_match_folder(tmp_path: Path) -> None:
    _write(tmp_path / "demo", "id: other\nversion: '1'\n")
    with pytest.raises(InputError, match="folder"):
        load_prompt("demo", tmp_path)


def test_sandbox_blocks_attribute_escape(tmp_path: Path) -> None:
    _write(tmp_path / "demo", "id: demo\nversion: '1'\n", user="{{ ''.__class__.__mro__ }}")
    with pytest.raises(InputError):
        load_prompt("demo", tmp_path).render()


def test_template_syntax_error_names_file(tmp_path: Path) -> None:
    _write(tmp_path / "demo", "id: demo\nversion: '1'\n", user="{% if %}")
    with pytest.raises(InputError, match="user.md"):
        load_prompt("demo", tmp_path)


def test_prefill_becomes_final_assistant_message(tmp_path: Path) -> None:
    _write(tmp_path / "demo", "id: demo\nversion: '1'\nvariables: [topic]\n")
    (tmp_path / "demo" / "prefill.md").write_text("下面是关于{{ topic }}的讲话：", encoding="utf-8")
    messages = load_prompt("demo", tmp_path).render(topic="防汛")
    assert messages[-1].role == "assistant" and messages[-1].content == "下面是关于防汛的讲话："


def test_shipped_prompts_all_load() -> None:
    for name in list_prompts():
        load_prompt(name)
