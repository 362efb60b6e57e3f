"""The phrasebook (常用表述): shipped, clean, searchable, and the index follows an edit."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from pipeline.material import open_library
from pipeline.material.library import Library, bank_shelf
from pipeline.material.phrasebook import PHRASEBOOK_DIR, check_phrasebook, phrasebook_units

ROOT = Path(__file__).resolve().parent.parent


def test_every_shipped_sentence_fits_any_speaker():
    # No scope word, figure, name, place or document: the checker the writers' edits go through.
    assert check_phrasebook() == []


def test_phrasebook_covers_the_functions_a_speech_needs():
    units = [u for u in phrasebook_units() if u.kind == "sentence"]
    assert len({u.source for u in units}) >= 20  # topics
    functions = {u.function for u in units}
    assert {"开场", "意义/认识", "要求/部署", "措施", "号召/结尾"} <= functions
    assert all(u.origin == "bank" and u.source.startswith("常用表述·") and u.year for u in units)


def test_phrasebook_is_package_data():
    toml = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(r'"pipeline.material" = \[[^\]]*"data/phrasebook/\*\.txt"', toml)


def test_search_finds_what_the_reports_never_say():
    hits = open_library(ROOT / "corpus").search("勤学善思", n=5)
    assert hits and hits[0].unit.source.startswith("常用表述")
    assert "勤" in hits[0].unit.text or "思" in hits[0].unit.text


def test_checker_names_a_sentence_that_fits_one_speaker_only(tmp_path):
    (tmp_path / "x.txt").write_text(
        "# 测试\n\n全县上下要压实安全生产责任，坚决遏制事故发生。要在2025年底前完成隐患整改任务。\n", encoding="utf-8")
    faults = check_phrasebook(tmp_path)
    assert any("says 全县" in f for f in faults)
    assert any("figures" in f for f in faults)


def test_an_edit_rebuilds_the_bank_index(tmp_path, monkeypatch):
    # Its own cache dir: an edited phrasebook's index must not replace the session's bank index.
    monkeypatch.setenv("SPEECHSMITH_CACHE_DIR", str(tmp_path / "cache"))
    folder = tmp_path / "phrasebook"
    shutil.copytree(PHRASEBOOK_DIR, folder)
    before = bank_shelf(phrasebook=folder)
    new = "各单位要把围棋进校园活动办出特色、办出实效。"
    (folder / "围棋.txt").write_text(f"# 围棋进校园\n\n{new}\n", encoding="utf-8")
    after = bank_shelf(phrasebook=folder)
    assert len(after) > len(before)
    hits = Library([after]).search("围棋进校园", n=3)
    assert hits and hits[0].unit.text == new and hits[0].unit.source == "常用表述·围棋进校园"


def test_a_gbk_file_reads_and_a_binary_one_is_a_one_line_error(tmp_path):
    import subprocess
    import sys

    (tmp_path / "gbk.txt").write_bytes("# 测试\n\n各单位要压实安全生产责任，坚决遏制事故发生。\n".encode("gbk"))
    assert [u.text for u in phrasebook_units(tmp_path) if u.kind == "sentence"] == ["各单位要压实安全生产责任，坚决遏制事故发生。"]
    (tmp_path / "bin.txt").write_bytes(b"\x00\x01\x02binary")
    p = subprocess.run([sys.executable, "-m", "pipeline.material.phrasebook", "--check", str(tmp_path)],
                       capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert p.returncode == 2 and "bin.txt" in p.stderr and "Traceback" not in p.stderr
    assert p.stderr.strip().splitlines()[-1].startswith("phrasebook: ")


def test_your_own_phrasebook_folder_replaces_the_shipped_one(tmp_path, monkeypatch):
    monkeypatch.setenv("SPEECHSMITH_CACHE_DIR", str(tmp_path / "cache"))
    folder = tmp_path / "mine"
    shutil.copytree(PHRASEBOOK_DIR, folder)
    new = "各单位要把围棋进校园活动办出特色、办出实效。"
    (folder / "围棋.txt").write_text(f"# 围棋进校园\n\n{new}\n", encoding="utf-8")
    monkeypatch.setenv("SPEECHSMITH_PHRASEBOOK", str(folder))
    hits = open_library(corpus=False).search("围棋进校园", n=3)
    assert hits and hits[0].unit.text == new
    monkeypatch.setenv("SPEECHSMITH_PHRASEBOOK", str(tmp_path / "missing"))
    import pytest

    from pipeline.errors import InputError

    with pytest.raises(InputError, match="SPEECHSMITH_PHRASEBOOK"):
        open_library(corpus=False)


def test_an_unwritable_cache_dir_costs_speed_not_material(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder", encoding="utf-8")  # even root cannot make a folder under it
    monkeypatch.setenv("SPEECHSMITH_CACHE_DIR", str(blocker / "cache"))
    hits = open_library(corpus=False).search("落实防汛责任", n=3)
    assert hits and "防汛" in hits[0].unit.text


def test_a_broken_phrasebook_stops_adapt_with_one_line_not_a_draft_without_material(tmp_path):
    import os
    import subprocess
    import sys

    folder = tmp_path / "mine"
    shutil.copytree(PHRASEBOOK_DIR, folder)
    (folder / "bin.txt").write_bytes(b"\x00\x01\x02binary")
    env = {**os.environ, "SPEECHSMITH_PHRASEBOOK": str(folder), "SPEECHSMITH_CACHE_DIR": str(tmp_path / "cache"),
           "SPEECHSMITH_LOG": "0"}
    out = tmp_path / "draft.txt"
    p = subprocess.run([sys.executable, "-m", "pipeline", "adapt", "--occasion", "全县防汛工作会议", "--speaker", "县长",
                        "--point", "落实防汛责任", "--length", "300", "-o", str(out)],
                       capture_output=True, text=True, timeout=300, cwd=ROOT, env=env)
    assert p.returncode == 2 and "Traceback" not in p.stderr
    line = p.stderr.strip().splitlines()[-1]
    assert "bin.txt" in line and "--no-material" in line and "素材库" in line
    assert not out.exists()
