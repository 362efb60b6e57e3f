"""V: first-person claims the speaker could not make.

Both need the speaker (the brief's or --speaker), except two levels at once. A county
magistrate does not say 我在党的十八届五中全会上…: a sentence in the singular first
person with a central congress or plenum in it is a claim only a central leader makes (V101).
我代表县委和市政府 mixes two levels, and a 副县长 speaks for the county, not for 市委、市政府 or
各级人民代表大会 (V102).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from pipeline.check.base import CheckConfig, Doc, Finding, Severity, checker, finding, rule
from pipeline.check.substance.context import context_of

V101 = rule("V101", "speaker-claim", Severity.error,
            "the speaker (我) claims a central congress or plenum only a central leader could")
V102 = rule("V102", "speaker-represents", Severity.error,
            "我代表… names bodies of another level than the speaker's, or of two levels at once")
V103 = rule("V103", "speaker-is-audience", Severity.error,
            "the speaker says they are the audience (我们是退役军人代表 in a 区长's speech)")

# Audiences a speaker addresses but is not one of: a 区长 is not a 退役军人代表, a 校长 not a
# 学生, a 县委书记 not one of the 企业家朋友 (全县干部 or 全体教师 may include the speaker).
_OTHERS = ("代表", "同学", "学生", "企业家", "来宾", "嘉宾", "家长", "新员工", "新同事", "退役军人", "志愿者", "村民")

# 我 alone, not 我们 / 我国 / 我市 / 我县 … (those are the institution, not the person)
_I = re.compile(r"我(?![们国市县省区乡镇局校村党军厂司院部委所处室单行方])")
_CENTRAL_MEETING = re.compile(
    r"[一二三四五六七八九十]{1,3}届[一二三四五六七八九十]{1,2}中全会|[二三]?十[一二三四五六七八九]?大(?![学力量型批项类事幅规小多会])"
    r"|全国代表大会|全国两会|全国人大|中央[\u4e00-\u9fff]{0,8}?(?:工作会议|工作座谈会|全会)")
_CENTRAL_SPEAKER = re.compile(r"总书记|总理|国家主席|委员长|中央|国务院|全国人大|全国政协")
_REPRESENT = re.compile(r"我代表([^，。！？；：\n]{2,40}?)(?=[，。！；]|向|对|热烈|衷心|表示|作|感谢|欢迎|祝贺|致以)")
_LEVELS = "省市县区镇乡村"
_ORGAN = re.compile(rf"([{_LEVELS}])(?:委员会|委|人民政府|政府|党委|人大|政协|委会|民委员会)")
_CENTRAL_ORGAN = re.compile(r"党中央|国务院|全国人大|各级人民代表大会|各级党委")
_SPEAKER_LEVEL = re.compile(rf"([{_LEVELS}])(?:长|委|党委|政府|人民政府|党支部|委会)")


def speaker_level(speaker: str | None) -> str | None:
    """省/市/县/区/镇/乡/村 of a speaker such as 副县长, 市委书记, 彬县人民政府县长; None if none."""
    if not speaker:
        return None
    m = _SPEAKER_LEVEL.search(speaker)
    return m.group(1) if m else None


def audience_claim(sentence: str, audience: str | None, speaker: str | None = None) -> str:
    """The audience the speaker claims to be in sentence (我们，是广大退役军人代表), or ''."""
    for noun in _OTHERS:
        if noun in (audience or "") and noun not in (speaker or ""):
            m = re.search(rf"我(?:们)?[，,]?(?:都|也|就|正)?是[^，。！？；]{{0,8}}?{noun}", sentence)
            if m:
                return m.group(0)
    return ""


@checker(V101, V102, V103)
def check_voice(doc: Doc, config: CheckConfig) -> Iterator[Finding]:
    ctx = context_of(config)
    speaker = ctx.speaker or ""
    central = bool(_CENTRAL_SPEAKER.search(speaker))
    level = speaker_level(speaker)
    if "我" not in doc.text:
        return
    if config.enabled("V103") and ctx.audience:
        for _, start, end, sent in doc.sentences():
            if claim := audience_claim(sent, ctx.audience, speaker):
                yield finding(doc, "V103", f"“{claim}”: the speaker{f' ({speaker})' if speaker else ''} addresses "
                              f"{ctx.audience}, and is not one of them: remove the sentence", start, end)
    for _, start, end, sent in doc.sentences():
        if not _I.search(sent):
            continue
        if config.enabled("V101") and speaker and not central:
            m = _CENTRAL_MEETING.search(sent)
            if m and _I.search(sent[: m.start()] + sent[m.end():]):
                yield finding(doc, "V101", f"the speaker claims “{m.group(0)}” in the first person; "
                              f"{speaker or 'a local speaker'} could not: remove the sentence",
                              start, end)
        if config.enabled("V102"):
            yield from _represents(doc, start, sent, level, central, speaker)


def _represents(doc: Doc, start: int, sent: str, level: str | None, central: bool,
                speaker: str) -> Iterator[Finding]:
    for m in _REPRESENT.finditer(sent):
        bodies = m.group(1)
        levels = {o.group(1) for o in _ORGAN.finditer(bodies)}
        why = None
        if speaker and not central and _CENTRAL_ORGAN.search(bodies):
            why = f"a local speaker cannot speak for {_CENTRAL_ORGAN.search(bodies).group(0)}"
        elif len(levels) > 1:
            why = f"bodies of two levels at once ({'、'.join(sorted(levels))})"
        elif level and levels and level not in levels:
            why = f"the speaker ({speaker}) is of the {level} level, not the {''.join(levels)} level"
        if why:
            a = start + m.start()
            yield finding(doc, "V102", f"“我代表{bodies}”: {why}", a, start + m.end())


__all__ = ["V101", "V102", "V103", "audience_claim", "check_voice", "speaker_level"]
