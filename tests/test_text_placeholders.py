"""One placeholder detector (pipeline.text.placeholders) for the corpus, adapt and the linter.

Before it there were three, and they disagreed. The frozen copies below of the two that were
not the corpus's (adapt's selection pattern, the linter's P101 pattern) check that unifying
changed nothing on the shipped corpus and the report excerpts: the corpus still records the same
blanks, adapt drops the same example sentences (so the prompts are byte for byte the same) and
the linter flags the same marks. What the old detectors missed is caught now.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipeline.check import CheckConfig, lint
from pipeline.corpus.store import load_corpus
from pipeline.paths import PROJECT_ROOT
from pipeline.tasks.adapt.selection import neutralize_placeholders
from pipeline.text.hanzi import split_paragraphs, split_sentences
from pipeline.text.placeholders import (
    ALL,
    find_placeholders,
    has_placeholder,
    mask_placeholders,
    placeholder_tokens,
)

RECORDS = load_corpus(PROJECT_ROOT / "corpus")
FIXTURES = Path(__file__).parent / "fixtures"
TEXTS = {
    **{r.id: r.text for r in RECORDS},
    **{p.name: p.read_text(encoding="utf-8") for p in sorted((FIXTURES / "reports").glob("*.txt"))},
    **{p.name: p.read_text(encoding="utf-8") for p in sorted((FIXTURES / "check").glob("*.txt"))},
}

# adapt's selection pattern before the unification (tasks/adapt/selection.py, _MARK)
OLD_SELECTION = re.compile(
    r"(?<![A-Za-z])[xX×]{2,}(?![A-Za-z])"
    r"|(?<![A-Za-z0-9])[xX×](?=[年月日号时万亿元个名人家项%％])"
    r"|(?<![A-Za-z0-9])(?:aa+|AA+)(?![A-Za-z]|级|A)"
    r"|[□■○△◇]"
    r"|某某"
    r"|_{2,}|＿{2,}"
    r"|(?<![-A-Za-z0-9_])-{2,}(?![->A-Za-z0-9_])|－{2,}"
    r"|【[^】\n]{0,16}】"
)
# the linter's P101 pattern before the unification (check/placeholders.py, _MARKS)
OLD_P101 = re.compile(
    r"(?:(?<![A-Za-z])[xX×]{2,}(?![A-Za-z])"
    r"|(?<![A-Za-z0-9])[xX×](?=[年月日号时万亿元个名人家项%％])"
    r"|(?<![A-Za-z0-9])(?:aa+|AA+)(?![A-Za-z]|级|A)"
    r"|[□■△◇]+"
    r"|(?<![〇零一二三四五六七八九十百千万亿○])○+(?![〇零一二三四五六七八九十百千万亿○])"
    r"|某某+"
    r"|_{3,}|＿{2,}"
    r"|(?<![-A-Za-z0-9_])-{2,}(?![->A-Za-z0-9_])|－{2,})"
)


@pytest.mark.parametrize(
    ("text", "token", "kind"),
    [
        ("我们一一的园林绿化事业取得了长足发展。", "一一", "yiyi"),  # the corpus caught it, selection and P101 did not
        ("请到__处报名。", "__", "underscore"),  # selection caught it, P101 did not
        ("xx同志在20xx年到aa市", "xx", "latin"),
        ("会议时间为X月X日。", "X", "latin"),
        ("○○年○○月○○日召开会议。", "○○", "box"),
        ("我叫--，是---届毕业生。", "--", "dash"),
        ("请【单位名称】各部门负责同志参会。", "【单位名称】", "slot"),
    ],
)
def test_one_detector_catches_every_kind(text: str, token: str, kind: str) -> None:
    found = find_placeholders(text, ALL)
    assert any(p.token == token and p.kind == kind for p in found), found
    assert has_placeholder(text, ALL)


def test_the_issues_cases_are_caught_everywhere() -> None:
    for text in ("我们一一的园林绿化事业取得了长足发展。", "请到__处报名。"):
        assert placeholder_tokens(text)  # the corpus records it
        assert neutralize_placeholders(text) == ""  # adapt never shows it to a model
        assert [f.rule for f in lint(text, CheckConfig(select=["P"]))] == ["P101"]  # the linter flags it


@pytest.mark.parametrize(
    "text",
    ["要把问题一一落实", "逐一解决、一一列举", "二○○○年", "一九五○年，二百○八所", "30--40人", "2-3年",
     "Xbox", "2024年", "打造AAAA级景区，某些地方", "这是我们的目标——建设文明城市。", "□ 加强组织领导"],
)
def test_ordinary_text_is_no_placeholder(text: str) -> None:
    assert find_placeholders(text, ALL) == []


def test_a_leading_dash_is_a_dash_and_a_mask_replaces_blanks() -> None:
    assert find_placeholders("--我们要推动经济发展\n  --二要落实") == []
    assert mask_placeholders("xx同志在20xx年到aa市") == "＿＿同志在＿＿年到＿＿市"
    assert mask_placeholders("请□□同志发言", mask="") == "请同志发言"


def test_the_corpus_records_what_it_recorded_before() -> None:
    for record in RECORDS:
        assert placeholder_tokens(record.text) == record.placeholders, record.id


def _sentences(text: str) -> list[str]:
    return [s for para in split_paragraphs(text) for s in split_sentences(para)]


def test_adapt_drops_the_same_example_sentences_as_before() -> None:
    # what selection rewrites into neutral words first, then the sentences it drops
    neutral = [(re.compile(r"[□■]+"), ""), (re.compile(r"(?<![A-Za-z])(?:aa|AA)(?=[省市县区镇乡村])"), "本"),
               (re.compile(r"(?:19|20)[xX×]{2}年"), "今年"), (re.compile(r"[xX×]{2,}(?=同志)"), "有关"),
               (re.compile(r"[xX×]{2,}(?=[市县区局])"), "本")]
    for record in RECORDS:
        extra = [e for e in record.placeholders if e.strip()]
        text = record.text
        for pattern, repl in neutral:
            text = pattern.sub(repl, text)
        for sentence in _sentences(text):
            old = bool(OLD_SELECTION.search(sentence)) or any(e in sentence for e in extra)
            new = has_placeholder(sentence, ALL) or any(e in sentence for e in extra)
            assert old == new, (record.id, sentence)


def test_the_linter_flags_the_same_marks_as_before_and_the_missed_ones() -> None:
    gained = []
    for name, text in TEXTS.items():
        new = {f.span for f in lint(text, CheckConfig(select=["P101"]))}
        old = set()
        for m in OLD_P101.finditer(text):
            line_start = text.rfind("\n", 0, m.start()) + 1
            line_end = text.find("\n", m.end())
            line = text[line_start: line_end if line_end >= 0 else len(text)].strip()
            leading = not text[line_start: m.start()].strip()
            if re.fullmatch(r"[-*_=\s|:]{3,}", line) or (leading and (m.group(0).startswith("-")
                                                                       or re.match(r"^[□■○△◇]\s", line))):
                continue
            old.add(m.span())
        # every old mark is still flagged, as a whole: 20xx and 520xx rather than their xx
        assert all(any(a <= s and e <= b for a, b in new) for s, e in old), (name, sorted(old - new))
        gained += [(name, text[a:b]) for a, b in new if not any(a <= s and e <= b for s, e in old)]
    # what P101 missed before: the blank 一一 of the garden speech (一一的园林绿化事业, 我们一一园林绿化)
    assert gained == [("seed-04", "一一"), ("seed-04", "一一")]
