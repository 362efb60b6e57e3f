"""S: the opening salutation (称呼) and the closing of a speech.

A salutation is a short early paragraph ending in ：, such as 同志们： or 尊敬的各位领导、各位来宾：.
It should fit the audience (--audience 各位代表 wants 各位代表：, not 同志们：), and a speech that
welcomes guests opens with 尊敬的…. A closing is 谢谢大家！ / 谢谢！, a 祝愿, or a final rallying
sentence ending in ！; a speech that just stops mid-argument has none.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from pipeline.check.base import (
    CheckConfig,
    Doc,
    Finding,
    Paragraph,
    Severity,
    checker,
    finding,
    rule,
)
from pipeline.text.hanzi import count_zi

S101 = rule("S101", "salutation-missing", Severity.warning,
            "no salutation (称呼) such as 同志们： near the start")
S102 = rule("S102", "salutation-audience", Severity.warning,
            "the salutation does not address the --audience")
S103 = rule("S103", "closing-missing", Severity.warning,
            "no closing: 谢谢大家！, a 祝愿, or a final sentence ending in ！")
S104 = rule("S104", "welcome-respect", Severity.warning,
            "a speech welcoming guests or leaders should open with 尊敬的…")

_ADDRESS = re.compile(
    r"同志|各位|尊敬的|代表|朋友|同学|老师|来宾|嘉宾|女士|先生|乡亲|领导|家长|委员|战友|伙伴|亲爱的|大家"
)
# Audience words -> words a fitting salutation contains.
_FITS: list[tuple[tuple[str, ...], tuple[str, ...]]] = [
    (("代表",), ("代表",)),
    (("委员",), ("委员",)),
    (("来宾", "嘉宾", "客人", "外宾", "贵宾"), ("来宾", "嘉宾", "贵宾", "朋友")),
    (("同学", "学生", "学弟", "学妹"), ("同学", "学弟", "学妹")),
    (("老师", "教师"), ("老师",)),
    (("家长",), ("家长",)),
    (("企业家",), ("企业家", "朋友")),
    (("乡亲", "村民", "父老"), ("乡亲", "父老")),
    (("干部", "职工", "党员", "同志", "负责人", "工作人员"), ("同志",)),
    (("领导",), ("领导",)),
    (("朋友",), ("朋友",)),
]
_WELCOME = re.compile(r"热烈欢迎|表示欢迎|欢迎各位|莅临|光临|远道而来")
# words of a closing wish or a final rallying sentence (…而努力奋斗。 …胜利前进。)
_CLOSING = re.compile(
    r"感谢大家|祝愿|预祝|祝大家|祝各位|圆满成功|再见|奋斗|努力|前进|胜利|贡献|到来|信心|大道|"
    r"繁荣|富强|辉煌|新篇章|伟业|新成就|新业绩"
)
_SALUTATION_START = re.compile(
    r"^(?:尊敬的|亲爱的|各位|同志们|女士们|先生们|朋友们|同学们|老师们|乡亲们|父老乡亲)[^，。！：:!,]{0,30}[：:！!，,]"
)


def find_salutation(doc: Doc) -> Paragraph | None:
    """The salutation paragraph, among the first eight (a title, date and speaker may come first)."""
    for para in doc.paragraphs[:8]:
        text = para.text
        if text.endswith(("：", ":")) and count_zi(text) <= 60 and _ADDRESS.search(text):
            return para
        # 各位代表！ (older style) or 同志们，今天… (salutation run into the first sentence)
        if _SALUTATION_START.match(text):
            return para
    return None


@checker(S101, S102, S103, S104)
def check_salutation(doc: Doc, config: CheckConfig) -> Iterator[Finding]:
    if not doc.paragraphs:
        return
    salutation = find_salutation(doc)
    first = doc.paragraphs[0]
    if salutation is None:
        yield finding(doc, "S101", "no salutation near the start: open with a 称呼 such as 同志们：",
                      first.start, first.end)
    else:
        if config.audience:
            yield from _audience_fit(doc, salutation, config.audience)
        opening = "".join(p.text for p in doc.paragraphs[salutation.number: salutation.number + 3])
        guests = _WELCOME.search(opening) or (config.audience and re.search(r"来宾|嘉宾|贵宾|外宾", config.audience))
        if guests and "尊敬" not in salutation.text:
            yield finding(doc, "S104", "the speech welcomes guests, so the salutation should open "
                          "with 尊敬的… (e.g. 尊敬的各位领导、各位来宾：)", salutation.start, salutation.end)
    if not _has_closing(doc):
        last = doc.paragraphs[-1]
        yield finding(doc, "S103", "no closing: end with 谢谢大家！ or a closing wish or call to action",
                      last.start, last.end)


def _has_closing(doc: Doc) -> bool:
    last = doc.paragraphs[-1].text
    tail = "".join(p.text for p in doc.paragraphs[-2:])
    last_sentence = re.split(r"[。！？!?]", last.rstrip("。！？!?”"))[-1]
    return (
        "谢谢" in tail
        or last.endswith(("！", "!"))
        or bool(_CLOSING.search(last_sentence) and last.endswith(("。", "”")))
    )


def _audience_fit(doc: Doc, salutation: Paragraph, audience: str) -> Iterator[Finding]:
    wanted = [fits for words, fits in _FITS if any(w in audience for w in words)]
    if not wanted:
        return
    if not any(any(f in salutation.text for f in fits) for fits in wanted):
        hint = "、".join(sorted({f for fits in wanted for f in fits[:1]}))
        yield finding(doc, "S102", f"salutation does not address the audience “{audience}”: "
                      f"it should name {hint}", salutation.start, salutation.end)
