"""Who a speech addresses and what kind of occasion it is, from a few words: an audience, a
称呼, an occasion, a corpus title. Used to choose the 称呼, to pick examples, and to check that
a speech's 称呼 fits its audience."""

from __future__ import annotations

import re

__all__ = ["classify_audience", "classify_occasion"]

_AUDIENCE_KINDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    # Order matters: the first matching kind decides the 称呼.
    ("students", ("同学", "学生", "师生", "新生", "毕业生", "少先队员", "学子")),
    ("villagers", ("乡亲", "村民", "群众代表", "父老")),
    ("community", ("志愿者", "居民")),
    ("guests", ("来宾", "嘉宾", "客商", "企业家", "朋友", "专家", "外宾", "代表团", "投资")),
    ("staff", ("职工", "员工", "干部职工")),
)


def classify_audience(text: str) -> str:
    """Audience (or a 称呼) → cadres, leaders_cadres, guests, students, villagers, community or staff."""
    for kind, words in _AUDIENCE_KINDS:
        if any(w in text for w in words):
            return kind
    if "领导" in text:
        return "leaders_cadres"
    return "cadres"


_OCCASION_TYPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("forum", re.compile(r"论坛|峰会|博览会|交流会|洽谈会|推介会|招商|年会|联欢|研讨会")),
    ("ceremony", re.compile(r"仪式|典礼|开幕式|闭幕式|揭牌|开工|签约|颁奖|庆典|纪念|表彰")),
    ("welcome", re.compile(r"欢迎|致辞|莅临|考察|调研|审计|检查组|督导")),
    ("meeting", re.compile(r"会议|大会|动员会|推进会|座谈会|部署会|培训班|讲话|会$")),
)


def classify_occasion(text: str) -> str:
    """Occasion (or a corpus title/genre) → forum, ceremony, welcome, meeting or other."""
    for kind, pattern in _OCCASION_TYPES:
        if pattern.search(text or ""):
            return kind
    return "other"
