"""Labels of a material unit: what a writer searches by.

    label_sentence(text) -> Labels      # function, figures, names, places, documents, scope
    function_of(text) -> str            # 开场 · 意义/认识 · 回顾/成绩 · 问题 · 要求/部署 · 措施 · 号召/结尾

Cue words, not a model: the functions of a sentence in an official speech are marked by set
phrases (让我们… is a call, 必须… a requirement, 过去一年…取得 a review), and the labels must be
cheap enough to run over a user's whole corpus on `corpus add`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

FUNCTIONS = ("开场", "意义/认识", "回顾/成绩", "问题", "要求/部署", "措施", "号召/结尾", "其他")

# Short names a writer types (--function 要求): each maps to the full label.
FUNCTION_ALIASES = {
    "开场": "开场", "开头": "开场", "opening": "开场",
    "意义": "意义/认识", "认识": "意义/认识", "意义/认识": "意义/认识", "meaning": "意义/认识",
    "回顾": "回顾/成绩", "成绩": "回顾/成绩", "回顾/成绩": "回顾/成绩", "review": "回顾/成绩",
    "问题": "问题", "problem": "问题",
    "要求": "要求/部署", "部署": "要求/部署", "要求/部署": "要求/部署", "requirement": "要求/部署",
    "措施": "措施", "measure": "措施",
    "号召": "号召/结尾", "结尾": "号召/结尾", "号召/结尾": "号召/结尾", "closing": "号召/结尾",
    "其他": "其他", "other": "其他",
}

# Order matters: the first function whose cues match wins (a closing call 让我们…奋斗 also
# holds 要; a review sentence 取得…成效 may also hold 加强).
_CUES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("开场", re.compile(
        r"^(各位代表|同志们|各位(领导|来宾|嘉宾)|尊敬的|老师们|同学们|乡亲们|大家(上午|下午|晚上)?好)"
        r"|我代表.{0,12}(向|对).{0,20}(欢迎|感谢|问候|祝贺)|今天，?(我们)?.{0,20}(召开|举行|隆重)"
        r"|向大会报告|热烈(欢迎|祝贺)|表示(热烈的?|衷心的?|诚挚的?)(欢迎|感谢|祝贺|问候)")),
    ("号召/结尾", re.compile(
        r"^(让我们|同志们，让我们|我们坚信|最后，?(祝|预祝))|谢谢(大家|各位)"
        r"|(而|为.{0,30})(努力|不懈|团结)奋斗[！。]?$|奋勇前进|再创新辉煌|谱写.{0,20}新篇章"
        r"|(预祝|祝愿|祝).{0,20}(圆满成功|身体健康|工作顺利)")),
    ("问题", re.compile(
        r"(存在(一些|不少|的)?(突出)?问题|困难和问题|不足和问题|问题和不足|短板|薄弱环节|仍然(比较)?突出"
        r"|不容忽视|(还|仍|依然)(比较|十分|相当)?严重|不正之风|差距|有待(进一步)?(提高|加强)|还不(够|适应)|亟待|形势(依然|仍然)?(严峻|复杂))")),
    ("回顾/成绩", re.compile(
        r"(过去(一|五|的一|这)年|一年来|五年来|几年来|回顾|取得了?(明显|显著|重大|新的|积极)?(成效|成绩|进展|成就|突破)"
        r"|(比上年|同比)(增长|下降)|创.{0,6}新高|首次|完成了|超额完成|实现了|顺利完成|(达到|增长)\d|\d+(\.\d+)?%)")),
    ("意义/认识", re.compile(
        r"(意义(重大|深远)?|是.{0,16}(根本|关键|基础|前提|保障|重中之重|生命线|必然要求|应有之义|题中之义)"
        r"|事关|关系到|充分认识|深刻认识|清醒(看到|认识)|(必须|要)认识到|只有.{0,20}才能)")),
    ("要求/部署", re.compile(
        r"(^要|[，。；]要|必须|务必|确保|坚决|切实|决不|绝不|严禁|不得|各级(政府|党委)|各地区各部门|各地各部门"
        r"|各(乡镇|部门|单位)|抓紧|着力|落实.{0,6}责任)")),
    ("措施", re.compile(
        r"^(加强|加快|推进|推动|实施|开展|完善|健全|建立|深化|加大|扩大|提高|提升|支持|促进|落实|强化|"
        r"优化|严格|培育|发展|做好|抓好|稳定|保障|整治|排查|拓展|开拓|构建|打造|巩固|统筹|鼓励|引导|规范|聚焦|深入|全力|组织|开展|一是|二是|三是|四是|五是)"
        r"|(一是|二是|三是|实施|开展|建立健全|出台|制定|加强|推进|推动|加快|完善|健全|做好|抓好|培育|打好|"
        r"提高|提升|强化|深化|扩大|改善|优化|整治|治理)")),
)


# A sentence stating figures without a plan word reports what was done.
_PLAN = re.compile(r"要|今年|明年|将|力争|预期|目标|计划|安排")


def function_of(text: str) -> str:
    """The function a sentence (or the lead sentence of a paragraph) has in a speech."""
    t = text.strip()
    for name, cue in _CUES:
        if cue.search(t):
            return name
    if re.search(r"\d", t) and not _PLAN.search(t):
        return "回顾/成绩"
    return "其他"


# ---- what a unit contains ------------------------------------------------------------------

_DOCUMENT = re.compile(r"《[^《》\n]{2,40}》")
_FIGURE = re.compile(
    r"(?:[近约超逾]?\d+(?:[.,]\d+)*(?:多|余)?\s*(?:%|％|万亿|亿|万|千|百)?"
    r"(?:元|美元|人|户|个|家|项|吨|公里|千米|亩|斤|辆|所|座|平方米|千瓦|小时|年|倍|次|件|名|套|条|台|间)?)"
    r"|(?:百分之[零一二三四五六七八九十百点]+)"
    r"|(?:[一二三四五六七八九十两百千万亿]+(?:万|亿)(?:元|人|户|吨|亩|斤))"
)
_YEAR = re.compile(r"(?:19|20)\d\d年")
# Speaker's scope: who the sentence speaks for. A county speech that says 全国 or 国务院 as
# its own borrowed a national sentence.
_SCOPE = re.compile(
    r"全国|国务院|党中央|中央|我国|国家|全党|各省|省委|省政府|全省|我省|全市|我市|市委|市政府|全县|我县|"
    r"县委|县政府|全区|我区|区委|全镇|我镇|镇党委|全乡|我乡|全村|我村|我校|全校|学校|我局|全局|本单位|公司|企业"
)
_NATIONAL = frozenset({"全国", "国务院", "党中央", "中央", "我国", "国家", "全党", "各省"})
_PLACE = re.compile(
    r"(?:北京|天津|上海|重庆|河北|山西|辽宁|吉林|黑龙江|江苏|浙江|安徽|福建|江西|山东|河南|湖北|湖南|广东|"
    r"海南|四川|贵州|云南|陕西|甘肃|青海|台湾|内蒙古|广西|西藏|宁夏|新疆|香港|澳门|京津冀|长三角|粤港澳|"
    r"长江|黄河|雄安|西部|东北|中部|东部)"
    r"|[\u4e00-\u9fff]{2,4}(?:省|自治区|特别行政区)"
)
_NAMES = re.compile(
    r"(?:习近平|江泽民|胡锦涛|邓小平|毛泽东|李克强|温家宝|朱镕基|李鹏|赵紫阳|李强)(?:同志|总书记|主席)?"
    r"|[\u4e00-\u9fff]{2,3}同志(?=[，。、的])"
)


@dataclass
class Labels:
    function: str
    figures: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    places: list[str] = field(default_factory=list)
    documents: list[str] = field(default_factory=list)
    scope: list[str] = field(default_factory=list)

    @property
    def national(self) -> bool:
        """Speaks for the whole country (国务院, 全国, 我国 …)."""
        return any(s in _NATIONAL for s in self.scope)

    def to_dict(self) -> dict[str, object]:
        return {
            "function": self.function, "figures": self.figures, "names": self.names,
            "places": self.places, "documents": self.documents, "scope": self.scope,
        }


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(i for i in items if i))


def figures_in(text: str) -> list[str]:
    """Figures and years stated in text (Arabic and Chinese numerals with a unit)."""
    found = [m.group(0).strip() for m in _FIGURE.finditer(text) if re.search(r"\d|百分之|万|亿", m.group(0))]
    found += _YEAR.findall(text)
    return _unique([f for f in found if len(f) > 1 or f.isdigit()])


def scope_in(text: str) -> list[str]:
    return _unique(_SCOPE.findall(text))


def label_sentence(text: str) -> Labels:
    return Labels(
        function=function_of(text),
        figures=figures_in(text),
        names=_unique(_NAMES.findall(text)),
        places=_unique(_PLACE.findall(text)),
        documents=_unique(_DOCUMENT.findall(text)),
        scope=scope_in(text),
    )


def label_paragraph(text: str, sentences: list[str]) -> Labels:
    """A paragraph's function is its lead sentence's; its contents are all its sentences'."""
    each = [label_sentence(s) for s in sentences] or [label_sentence(text)]
    return Labels(
        function=each[0].function,
        figures=_unique([f for lab in each for f in lab.figures]),
        names=_unique([n for lab in each for n in lab.names]),
        places=_unique([p for lab in each for p in lab.places]),
        documents=_unique([d for lab in each for d in lab.documents]),
        scope=_unique([s for lab in each for s in lab.scope]),
    )
