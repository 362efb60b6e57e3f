"""The phrasebook (常用表述): the project's own model passages for the occasions writers meet most.

    pipeline/material/data/phrasebook/<topic>.txt       # one topic a file, plain text, editable
    phrasebook_units() -> list[Unit]                   # joins the bank's shelf
    python -m pipeline.material.phrasebook --check     # what each sentence is labelled, and faults

The government work reports speak for the State Council: they say a great deal about 营商环境
or 防汛抗旱, but nothing a school head says at a 开学典礼, a district head to veterans on 八一,
or a county about its own flood duty, and most of their sentences carry national scope or
figures that a local speech may not borrow. These files hold how a local speech says such
things, written for this project (no one's copyrighted text), with no names, places, figures,
documents or scope words, so every sentence fits any speaker.

A file: the first line `# 话题`, then paragraphs separated by blank lines, one subpoint each.
Each sentence's function (意义/认识, 要求/部署, 措施, 开场, 号召/结尾) comes from its cue words as
for every other unit, so `--check` shows what a writer's edit changes.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import sys
from pathlib import Path

from pipeline.material.units import MAX_SENTENCE_ZI, MIN_SENTENCE_ZI, Unit, units_from_text
from pipeline.text.hanzi import count_zi, split_paragraphs, split_sentences
from pipeline.text.textio import read_text

__all__ = ["PHRASEBOOK_DIR", "SOURCE_PREFIX", "check_phrasebook", "phrasebook_digest", "phrasebook_dir", "phrasebook_units"]

PHRASEBOOK_DIR = Path(__file__).resolve().parent / "data" / "phrasebook"
SOURCE_PREFIX = "常用表述"
# The year the passages were written: material is filtered by year (old reports speak of another
# time), and these are current.
YEAR = 2026

# What a sentence of the phrasebook must not hold: it would not fit every speaker.
_SCOPE_WORDS = re.compile(
    r"全国|国务院|党中央|中央|我国|国家|全党|各省|全省|我省|全市|我市|全县|我县|全区|我区|全镇|我镇|"
    r"我代表|我局|我公司|本办法|汇报"
)


def phrasebook_dir() -> Path:
    """$SPEECHSMITH_PHRASEBOOK (a copy of the folder you edit: a pip-installed package's own
    files are replaced by the next upgrade), else the phrasebook shipped in the package."""
    env = os.environ.get("SPEECHSMITH_PHRASEBOOK")
    if not env:
        return PHRASEBOOK_DIR
    folder = Path(env).expanduser()
    if not folder.is_dir():
        from pipeline.errors import InputError

        raise InputError(f"SPEECHSMITH_PHRASEBOOK: {folder}: no such folder")
    return folder


def _files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.txt")) if folder.is_dir() else []


def _topic(path: Path, text: str) -> str:
    first = text.lstrip().splitlines()[0] if text.strip() else ""
    return first.lstrip("#").strip() if first.startswith("#") else path.stem


def phrasebook_digest(folder: Path | None = None) -> str:
    """Changes whenever a file is edited, added or removed (the bank's index is rebuilt)."""
    folder = folder or phrasebook_dir()
    h = hashlib.sha1()
    for path in _files(folder):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def phrasebook_units(folder: Path | None = None) -> list[Unit]:
    """Units of every phrasebook file (origin "bank", source 常用表述·<topic>)."""
    folder = folder or phrasebook_dir()
    units: list[Unit] = []
    for path in _files(folder):
        text = read_text(path)
        body = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
        units += units_from_text(
            body, source=f"{SOURCE_PREFIX}·{_topic(path, text)}", origin="bank", year=YEAR,
            prefix=f"pb-{path.stem}",
        )
    return units


def check_phrasebook(folder: Path | None = None) -> list[str]:
    """Faults of the phrasebook, one line each (empty when every sentence is usable)."""
    folder = folder or phrasebook_dir()
    from pipeline.material.label import label_sentence

    faults: list[str] = []
    seen: dict[str, str] = {}
    for path in _files(folder):
        body = "\n".join(line for line in read_text(path).splitlines() if not line.startswith("#"))
        for para in split_paragraphs(body):
            for sentence in split_sentences(para):
                where = f"{path.name}: {sentence}"
                zi = count_zi(sentence)
                lab = label_sentence(sentence)
                if not MIN_SENTENCE_ZI <= zi <= MAX_SENTENCE_ZI or zi > 90:
                    faults.append(f"{where}: {zi} 字 (keep 12–90)")
                if m := _SCOPE_WORDS.search(sentence):
                    faults.append(f"{where}: says {m.group(0)} (fits one speaker only)")
                for kind in ("figures", "names", "places", "documents"):
                    if getattr(lab, kind):
                        faults.append(f"{where}: holds {kind} {getattr(lab, kind)}")
                if sentence in seen:
                    faults.append(f"{where}: also in {seen[sentence]}")
                seen.setdefault(sentence, path.name)
    return faults


def _report(folder: Path) -> int:
    from collections import Counter

    from pipeline.material.label import FUNCTIONS

    units = [u for u in phrasebook_units(folder) if u.kind == "sentence"]  # labelled once, not per file
    for path in _files(folder):
        counts = Counter(u.function for u in units if u.id.startswith(f"pb-{path.stem}-"))
        print(f"{path.name:28} {sum(counts.values()):3} sentences  " + "  ".join(f"{f} {counts[f]}" for f in FUNCTIONS if counts[f]))
    faults = check_phrasebook(folder)
    for fault in faults:
        print(fault)
    return 1 if faults else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check the phrasebook: functions per file and faults.")
    parser.add_argument("--check", action="store_true", help="list each file's functions and every fault")
    parser.add_argument("folder", nargs="?", type=Path, help="default: $SPEECHSMITH_PHRASEBOOK, else the shipped one")
    args = parser.parse_args(argv)
    from pipeline.errors import SpeechsmithError

    try:
        folder = args.folder or phrasebook_dir()
        if not folder.is_dir():
            print(f"phrasebook: {folder}: no such folder", file=sys.stderr)
            return 2
        return _report(folder)
    except SpeechsmithError as exc:
        print(f"phrasebook: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
