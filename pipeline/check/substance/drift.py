"""D: sentences that belong to another speech.

D101: a sentence on the topic of an example the model was shown, when the brief is not about it
(a school opening praising 在灾区救困方面取得巨大成绩 after a disaster-relief example). Topics
are small word lists of the genres in the corpus; a topic the brief touches is never drift.
D102: a news release or minutes whose headline does not name the source's occasion (「中非合作
论坛举行」 for a government work report; 「有关会议召开」 for a 园林城市 mobilization meeting).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from pipeline.check.base import CheckConfig, Doc, Finding, Severity, checker, finding, rule
from pipeline.check.substance.context import SubstanceContext, context_of
from pipeline.text.hanzi import han_bigrams

D101 = rule("D101", "example-drift", Severity.error,
            "a sentence on an example's topic (灾区, 园林, 审计…) that the brief is not about")
D102 = rule("D102", "occasion-mismatch", Severity.error,
            "a news release or minutes whose headline does not name the source's occasion")

TOPICS: dict[str, tuple[str, ...]] = {
    "disaster relief": ("灾区", "灾民", "救灾", "洪灾", "受灾", "募捐", "捐款", "抗洪", "灾后", "赈灾",
                        "救困", "防汛", "汛期", "抢险", "灾难", "灾害"),
    "gardens": ("园林", "绿化", "创园", "公园"),
    "civility": ("文明城市", "文明单位", "精神文明", "创城", "文明创建"),
    "audit": ("审计",),
    "school": ("开学", "同学们", "学生", "教师", "课堂", "学业", "校园", "学子"),
    "work safety": ("安全生产", "隐患", "危化品", "生产安全事故"),
    "rural revitalization": ("乡村振兴", "人居环境", "村集体", "粮食"),
    "ecology": ("生态环境", "蓝天", "河湖长", "污染", "生态文明"),
    "clean government": ("廉政", "廉洁", "腐败", "纪律"),
    "veterans": ("退役军人", "优抚", "建军节", "军人"),
    "investment": ("招商", "营商环境", "投资", "企业家"),
}
D103 = rule("D103", "off-topic-national", Severity.warning,
            "a speech turning to 国家主权, 人权, 外交, 国防… that the brief never mentions (an error "
            "when the speaker is local)")
# themes of state that a county meeting's draft drifts into (构建亲清政商关系……建设国家主权和
# 国家利益的保障); a brief or source that names one allows it
_NATIONAL = re.compile(r"国家主权|国家利益|领土完整|人权|外交|国防|核心利益|国家安全|霸权|主权")
# who may speak of the state's own themes: 国务院, 外交部, 国家主席… A 副市长 at a 招商推介会 may not.
_STATE_SPEAKER = re.compile(r"国务院|中央|国家|全国|外交|国防|总理|大使")
_LOCAL = re.compile(r"[省市县区乡镇村]|校|学院|大学|公司|集团|企业|局|厅|委|办|院|所|站|中心")
_OCCASION = re.compile(r"在(.{4,40}?)(?:上|时)的[\u4e00-\u9fff]{0,6}?(?:讲话|致辞|发言|报告|贺词)")
# a published 题注 under the title: ——2019年3月5日在第十三届全国人民代表大会第二次会议上
_SUBTITLE_OCCASION = re.compile(r"^[—－-]{1,2}.{0,20}?在(.{4,40}?)上\s*$", re.M)
_NEWS_STYLES = ("news", "minutes")


def topics_of(text: str) -> set[str]:
    return {name for name, words in TOPICS.items() if any(w in text for w in words)}


@checker(D101, D102, D103)
def check_drift(doc: Doc, config: CheckConfig) -> Iterator[Finding]:
    ctx = context_of(config)
    if config.enabled("D101") and ctx.examples and ctx.brief_text:
        foreign = set().union(*(topics_of(e) for e in ctx.examples)) - topics_of(ctx.brief_text)
        if ctx.source:
            foreign -= topics_of(ctx.source)
        if foreign:
            yield from _drift(doc, foreign)
    if config.enabled("D103") and ctx.grounded and ctx.brief_text:
        given = "\n".join(ctx.allowed_texts)
        local = is_local(ctx)
        for _, start, end, sent in doc.sentences():
            m = _NATIONAL.search(sent)
            if m and m.group(0) not in given:
                yield finding(doc, "D103", f"“{m.group(0)}”: a theme of state the brief does not raise; "
                              "is the sentence about this meeting?", start, end,
                              severity=Severity.error if local else Severity.warning)
    if config.enabled("D102") and ctx.style in _NEWS_STYLES and doc.paragraphs:
        yield from _occasion(doc, ctx)


def is_local(ctx: SubstanceContext) -> bool:
    """Does a local speaker speak (县长, 校长, 副市长 at a 招商推介会)? Then a sentence on 国家主权 is
    not theirs to say: an error, not a hint. Unknown speakers stay a warning."""
    who = " ".join(t for t in (ctx.speaker, ctx.occasion) if t)
    return bool(who) and not _STATE_SPEAKER.search(ctx.speaker or "") and bool(_LOCAL.search(who))


def _drift(doc: Doc, foreign: set[str]) -> Iterator[Finding]:
    for _, start, end, sent in doc.sentences():
        for name in sorted(foreign):
            word = next((w for w in TOPICS[name] if w in sent), None)
            if word:
                yield finding(doc, "D101", f"“{word}” is about {name}, an example's topic, not the "
                              "brief's: remove the sentence", start, end)
                break


def occasion_of(ctx: SubstanceContext) -> str | None:
    """The occasion the text should name: the given one, or 在…上的讲话 of the source's title."""
    if ctx.occasion:
        return ctx.occasion
    if ctx.source:
        m = _OCCASION.search(ctx.source[:300]) or _SUBTITLE_OCCASION.search(ctx.source[:300])
        if m:
            return m.group(1)
        if "报告政府工作" in ctx.source[:600]:
            return "政府工作报告"
        first = ctx.source.strip().split("\n", 1)[0].strip()
        if 4 <= len(first) <= 40 and not first.endswith(("：", ":", "。")):
            return first  # a title line (2025年政府工作报告)
    return None


_GENERIC = re.compile(r"^(?:有关|相关|此次|本次|该)?(?:会议|活动)(?:召开|举行)?")


def _occasion(doc: Doc, ctx: SubstanceContext) -> Iterator[Finding]:
    headline = doc.paragraphs[0]
    if _GENERIC.match(headline.text):
        yield finding(doc, "D102", f"the headline “{headline.text}” names no occasion: say which meeting",
                      headline.start, headline.end)
        return
    occasion = occasion_of(ctx)
    if not occasion:
        return
    want = han_bigrams(occasion) - {"会议", "召开", "举行"}
    if not want:
        return
    # the headline or the lead under it: 「县长致辞」 over 「……在市审计组经济责任审计见面会上致辞」 names it
    named = headline.text + (doc.paragraphs[1].text if len(doc.paragraphs) > 1 else "")
    share = len(want & han_bigrams(named)) / len(want)
    if share < 0.5:
        yield finding(doc, "D102", f"the headline does not name the occasion “{occasion}”: it reports "
                      "another event", headline.start, headline.end)


__all__ = ["D101", "D102", "D103", "TOPICS", "check_drift", "is_local", "occasion_of", "topics_of"]
