"""`speechsmith corpus …` end to end, through typer's CliRunner and (for exit codes) a subprocess."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.corpus.store import load_corpus

SEEDS = Path(__file__).parent / "fixtures" / "seeds"
SEED = SEEDS / "000_4c88201f79132202.txt"
REPORT = SEEDS / "reports" / "2024年政府工作报告.txt"

runner = CliRunner()


def run(*args: str, env: dict[str, str] | None = None):
    return runner.invoke(app, list(args), env=env, catch_exceptions=True)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("cli") / "corpus"
    result = run("corpus", "add", "--corpus", str(folder), "--id-prefix", "seed", str(SEED))
    assert result.exit_code == 0, result.output
    return folder


def _dump(folder: Path) -> list[dict]:
    return [r.model_dump() for r in load_corpus(folder)]


def test_add_the_seed_page(seeded):
    records = load_corpus(seeded)
    assert [r.id for r in records] == [f"seed-0{n}" for n in range(1, 8)]
    assert sorted(p.name for p in seeded.iterdir()) == [f"seed-0{n}.md" for n in range(1, 8)]


def test_second_add_adds_nothing_and_names_the_duplicates(seeded, tmp_path):
    folder = tmp_path / "corpus"
    shutil.copytree(seeded, folder)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    result = run("corpus", "add", "--corpus", str(folder), "--id-prefix", "seed", str(SEED))
    assert result.exit_code == 0
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 7
    for n, line in enumerate(lines, start=1):
        assert f"not added: exact duplicate of seed-0{n}" in line
    assert "0 added" in result.stderr and "7 duplicate" in result.stderr
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_gbk_copy_ingests_to_identical_records(seeded, tmp_path):
    # same file name, GBK bytes: every field, the source included, must come out the same
    gbk = tmp_path / "gbk" / SEED.name
    gbk.parent.mkdir()
    gbk.write_bytes((SEEDS / "seed_page.gbk.txt").read_bytes())
    assert SEED.read_text(encoding="utf-8").encode("gbk") == gbk.read_bytes()
    folder = tmp_path / "corpus"
    result = run("corpus", "add", "--corpus", str(folder), "--id-prefix", "seed", str(gbk))
    assert result.exit_code == 0, result.output
    assert _dump(folder) == _dump(seeded)


@pytest.mark.parametrize("name", ["seed_page.utf16.txt", "seed_page.docx", "seed_page.html"])
def test_utf16_docx_and_html_copies_give_the_same_speeches(seeded, tmp_path, name):
    folder = tmp_path / "corpus"
    result = run("corpus", "add", "--corpus", str(folder), "--id-prefix", "seed", str(SEEDS / name))
    assert result.exit_code == 0, result.output
    strip = [{k: v for k, v in d.items() if k != "source"} for d in _dump(folder)]
    assert strip == [{k: v for k, v in d.items() if k != "source"} for d in _dump(seeded)]
    assert all(d["source"].startswith(f"{name}#创建文明城市领导讲话篇") for d in _dump(folder))
    # and it is a duplicate of the UTF-8 page
    result = run("corpus", "add", "--corpus", str(seeded), "--dry-run", str(SEEDS / name))
    assert result.stdout.count("exact duplicate of seed-0") == 7


def test_bad_files_get_one_error_each_and_good_files_still_go_in(tmp_path):
    binary = tmp_path / "photo.txt"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    folder = tmp_path / "corpus"
    result = run("corpus", "add", "--corpus", str(folder), str(binary), str(SEED), str(empty), str(REPORT))
    assert result.exit_code == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("speechsmith: error:")]
    assert errors == [
        f"speechsmith: error: {binary}: looks like a binary file, not text",
        f"speechsmith: error: {empty}: file is empty",
    ]
    assert "Traceback" not in result.output
    assert len(load_corpus(folder)) == 8
    assert "8 added" in result.stderr and "2 failed" in result.stderr
    english = tmp_path / "README.txt"
    english.write_text("This project writes speeches. " * 20, encoding="utf-8")
    result = run("corpus", "add", "--corpus", str(folder), str(english))
    assert result.exit_code == 2
    assert f"speechsmith: error: {english}: does not look like a Chinese speech" in result.stderr


def test_a_government_report_is_one_speech_without_its_footer(tmp_path):
    folder = tmp_path / "corpus"
    result = run("corpus", "add", "--corpus", str(folder), str(REPORT))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("added speech-2024: 政府工作报告 · ")
    shown = run("corpus", "show", "speech-2024", "--corpus", str(folder), "--format", "json")
    data = json.loads(shown.stdout)
    assert data["salutation"] == "各位代表："
    assert data["genre"] == "政府工作报告" and data["title"] == "2024年政府工作报告"
    assert "本作品" not in data["text"] and "Public domain" not in data["text"]
    assert data["text"].startswith("各位代表：\n现在，我代表国务院")


def test_list_show_stats_remove(seeded, tmp_path):
    folder = tmp_path / "corpus"
    shutil.copytree(seeded, folder)
    table = run("corpus", "list", "--corpus", str(folder))
    assert table.exit_code == 0
    rows = table.stdout.strip().splitlines()
    assert rows[0].split() == ["id", "genre", "字数", "speaker", "title"]
    assert len(rows) == 8 and rows[3].startswith("seed-03  欢迎致辞")

    listed = json.loads(run("corpus", "list", "--corpus", str(folder), "--format", "json").stdout)
    assert [d["genre"] for d in listed] == [
        "经验交流发言", "募捐动员讲话", "欢迎致辞", "动员大会讲话", "论坛致辞", "表态发言", "动员大会讲话",
    ]
    assert "text" not in listed[0]

    full = json.loads(run("corpus", "show", "seed-02", "--corpus", str(folder), "--format", "json").stdout)
    assert full["placeholders"] == ["□", "aa", "520xx", "xx"]
    assert "当你的孩子为新学期开学做着准备时" in full["text"]
    assert set(full) >= {"id", "title", "genre", "occasion", "speaker", "audience", "source", "zishu", "text"}
    md = run("corpus", "show", "seed-02", "--corpus", str(folder)).stdout
    assert md == (folder / "seed-02.md").read_text(encoding="utf-8")

    stats = json.loads(run("corpus", "stats", "--corpus", str(folder), "--format", "json").stdout)
    assert stats["speeches"] == 7 and stats["genres"]["动员大会讲话"]["speeches"] == 2
    assert stats["zishu_total"] == sum(d["zishu"] for d in listed)
    assert "7 speeches" in run("corpus", "stats", "--corpus", str(folder)).stdout

    removed = run("corpus", "remove", "seed-05", "--corpus", str(folder))
    assert removed.exit_code == 0 and "removed seed-05" in removed.stdout
    assert not (folder / "seed-05.md").exists()
    assert len(load_corpus(folder)) == 6


def test_corpus_folder_from_the_environment(seeded, tmp_path):
    folder = tmp_path / "corpus"
    shutil.copytree(seeded, folder)
    result = run("corpus", "list", "--format", "json", env={"SPEECHSMITH_CORPUS": str(folder)})
    assert len(json.loads(result.stdout)) == 7


def test_dry_run_writes_nothing(tmp_path):
    folder = tmp_path / "corpus"
    result = run("corpus", "add", "--corpus", str(folder), "--dry-run", "-v", str(SEED))
    assert result.exit_code == 0
    assert result.stdout.count("would add") == 7
    assert "joined: …机关对各级党政机关主要领 | 导任职期间国家受托经济责…" in result.stdout
    assert "stripped: 2023年创建文明城市领导讲话(大全7篇)" in result.stdout
    assert not folder.exists()


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    env.pop("SPEECHSMITH_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=120
    )


def test_errors_are_one_line_with_exit_code_2(seeded, tmp_path):
    folder = tmp_path / "corpus"
    shutil.copytree(seeded, folder)
    path = folder / "seed-06.md"
    path.write_text(path.read_text(encoding="utf-8").replace("genre: 表态发言", "genre: {表态"), encoding="utf-8")
    result = _cli("corpus", "list", "--corpus", str(folder), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"speechsmith: error: {path}: malformed YAML front matter at line 5 (field 'genre'): "
        "expected ',' or '}', but got ':'"
    ]
    missing = _cli("corpus", "show", "nope", "--corpus", str(seeded), cwd=tmp_path)
    assert missing.returncode == 2
    assert missing.stderr.strip() == f"speechsmith: error: no speech 'nope' in {seeded} (see `speechsmith corpus list`)"


def test_named_corpus_folder_must_exist(tmp_path) -> None:
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "pipeline", "corpus", "list", "--corpus", str(tmp_path / "typo")],
        capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 2 and "no such corpus folder" in out.stderr
