"""Facts in Chinese text: figures, dates, percentages, quoted phrases and titled names.

Used wherever a model rewrites text and must not invent or lose facts: adapt's fact guard
(figures not in the brief are masked as XX), summarize and restyle (kept / dropped / added),
the check rule F (figures not in --source) and the evals.

Public API:

    extract_facts(text, kinds=None) -> list[Fact]
    compare_facts(source, output) -> FactReport(kept, dropped, added)
    find_unsupported(text, allowed_texts, kinds=GUARD_KINDS) -> list[Fact]
    mask_unsupported(text, allowed_texts, kinds=GUARD_KINDS) -> str

Matching rule: a fact is supported when its verbatim text occurs in the other text (the primary
rule), or when its normalized value equals the value of a fact there (full/half-width digits,
一千万元 = 1000万元 = 10000000元, 四成 = 40%, 七月十五日 = 7月15日). Qualifiers such as 近, 约,
多, 余, 左右 are kept in `text` but left out of `value`, so "近1000万元" and "1000万元" agree.

Chinese numerals are only taken as figures where they are unambiguous figures (四成, 两倍,
五千年, 百分之八十五, 三分之一, 第二轮, 二〇二四年, 七月十五日), never counting words such as
三个方面, 一是, 两学一做, so that masking never damages the structure of a speech.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from pipeline.text.numbers import half_width, normalize_value

KINDS = ("number", "percent", "date", "ordinal", "quote", "title", "person")
GUARD_KINDS = ("number", "percent", "date", "ordinal", "person")  # what a model must not invent
# Opt-in kinds for the substance checks (pipeline.check.substance): asked for by name only, so
# the default extraction that adapt's masking and restyle's scoring rely on is unchanged.
#   count    Chinese-numeral counts of ten or more: 十二位, 二十个部门, 一百多家
#   year     a bare year in brackets or inside a title: 《…报告（2018）》
#   meeting  party congresses, plenums and named meetings: 党的十八届五中全会, 第十次全国代表大会
#   org      a named province or a place's party/government organ: 吉林省, 新华市委
SUBSTANCE_KINDS = ("count", "year", "meeting", "org")


@dataclass(frozen=True)
class Fact:
    """One fact: `text` verbatim as in the document, `value` normalized for comparison."""

    kind: str  # one of KINDS
    text: str
    value: str
    span: tuple[int, int]  # [start, end) offsets into the text it came from


@dataclass
class FactReport:
    """Facts of a source kept in / dropped from an output, and output facts not in the source."""

    kept: list[Fact] = field(default_factory=list)  # source facts found in the output
    dropped: list[Fact] = field(default_factory=list)  # source facts missing from the output
    added: list[Fact] = field(default_factory=list)  # output facts not supported by the source

    @property
    def recall(self) -> float:
        total = len(self.kept) + len(self.dropped)
        return 1.0 if total == 0 else len(self.kept) / total

    def to_dict(self) -> dict:
        def rows(facts: list[Fact]) -> list[dict]:
            return [{"kind": f.kind, "text": f.text, "value": f.value} for f in facts]

        return {
            "kept": rows(self.kept),
            "dropped": rows(self.dropped),
            "added": rows(self.added),
            "recall": round(self.recall, 3),
        }


# --- building blocks ----------------------------------------------------------------------

_D = r"[0-9０-９]"
# 1,234.5 / １２３ / 3.14 ; not glued to letters, digits or an x placeholder (520xx年)
_NUM = rf"(?<![0-9０-９A-Za-z.．/]){_D}+(?:[,，]{_D}{{3}})*(?:[.．]{_D}+)?(?![0-9０-９xX×A-Za-z])"
_CN_DIGIT = "〇零一二两三四五六七八九"
_CN_NUM = rf"[{_CN_DIGIT}十百千万亿]+"
_MAG = r"(?:十|百|千(?![瓦米克])|万|亿)*"  # 万亿, 千万, 百万 …
_APPROX_PRE = r"(?:近|约|逾|超过|超|达|将近|大约|约合)?"
_APPROX_POST = r"(?:多|余|来)?"
_APPROX_TAIL = r"(?:左右|以上|以下|之多|多)?"

# Units, longest first so that 平方公里 wins over 公里 and 个百分点 over 个.
_UNITS = sorted(
    """
    元 美元 欧元 周年 日元 港元 人民币 元/吨 元/平方米 个 人 人次 户 家 项 条 件 座 所 名 位 次 年 个月 月
    天 小时 分钟 秒 公里 千米 米 厘米 毫米 平方米 平方公里 平方千米 亩 公顷 吨 千克 公斤 克 斤
    千瓦 千瓦时 兆瓦 度 台 辆 架 艘 份 套 册 岁 周 倍 篇 张 批 期 轮 届 块 种 类 处 支 只 头 株 棵
    间 级 场 道 本 部 所 栋 幢 层 床 张 标准箱 立方米 桶 笔 单 例 起 宗 个点 余人 多人 亿人 万人
    """.split(),
    key=len,
    reverse=True,
)
_UNIT = "(?:" + "|".join(re.escape(u) for u in _UNITS) + ")"
_ORD_UNITS = "轮|届|次|批|期|条|款|章|节|个|名|位|季度|阶段|大|代"

# Person titles; 副 is optional in front of each. Names are surname + 0-2 characters.
_TITLES = sorted(
    """
    局长 书记 市长 县长 省长 区长 镇长 乡长 主任 部长 处长 科长 厅长 校长 院长 所长 队长 站长
    主席 总理 委员长 委员 同志 董事长 总经理 经理 秘书长 会长 理事长 馆长 行长 司令员 政委 检察长 庭长
    教授 老师 先生 女士 总监 组长 社长 台长 主编 总裁 村长 支书 省委书记 市委书记 县委书记
    """.split(),
    key=len,
    reverse=True,
)
# Common surnames, minus ones that are everyday words in official prose (和, 于, 高, 全, 成 …)
# where a title after them is far more often 全体同志 / 各位 than a name.
_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙朱胡郭林罗郑梁谢宋唐韩冯邓曹彭曾萧蔡潘田董袁杜叶程魏苏吕丁沈姜崔钟"
    "谭陆汪范廖贾夏韦付邱侯邹熊孟秦白江阎薛尹段雷黎史龙陶贺顾毛郝龚邵万钱严覃武戴莫孔汤习温"
)

_PERSON_RE = re.compile(
    rf"(?<![\u4e00-\u9fff])(?:(?P<n3>[{_SURNAMES}][\u4e00-\u9fff]{{1,2}})|(?P<n1>[{_SURNAMES}]))"
    rf"(?P<title>副?(?:{'|'.join(_TITLES)}))"
)
# The title first (县长李明, 市委政法委副书记张国庆): only before what follows a name in a
# sentence (同志, a verb of speaking or presiding, a pause), so that 书记万分感谢 is no name.
_TITLE_FIRST = [t for t in _TITLES if t not in ("同志", "先生", "女士", "老师", "委员")]
_PERSON_TITLE_FIRST_RE = re.compile(
    rf"(?P<title>副?(?:{'|'.join(_TITLE_FIRST)}))(?P<n3>[{_SURNAMES}][\u4e00-\u9fff]{{1,2}}?)"
    r"(?=同志|主持|讲话|指出|强调|表示|介绍|宣布|致辞|出席|提出|要求|代表|率|作|在|所|的|对|向|为|也|就|还|将|等|和|与|及|[、，,。：:；;！!）)])"
)
# A looser form used only right after a salutation or list mark (尊敬的刘局长, 、贾卫东副局长).
_PERSON_AFTER_RE = re.compile(
    rf"(?:(?<=尊敬的)|(?<=[、，,：:])|(?<=^)|(?<=\n))"
    rf"(?P<n3>[{_SURNAMES}][\u4e00-\u9fff]{{0,2}}?)(?P<title>副?(?:{'|'.join(_TITLES)}))"
)

_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    # 9月16日至18日, 2024年9月16日至18日, 2021—2025年
    (
        "date",
        re.compile(
            rf"(?:{_NUM}年)?{_NUM}月{_NUM}日(?:[至到\-－—–~～]+(?:{_NUM}月)?{_NUM}日)"
            rf"|(?<![0-9０-９]){_D}{{4}}年?[至到\-－—–~～]+{_D}{{4}}年"
        ),
    ),
    # 2024年7月15日, 2024年7月, 7月15日, 二〇二四年七月十五日, 2024年
    (
        "date",
        re.compile(
            rf"{_NUM}年{_NUM}月(?:{_NUM}日)?|{_NUM}月{_NUM}日"
            rf"|[〇零一二三四五六七八九]{{4}}年(?:[一二三四五六七八九十]{{1,2}}月(?:[一二三四五六七八九十]{{1,3}}日)?)?"
            rf"|[一二三四五六七八九十]{{1,2}}月[一二三四五六七八九十]{{1,3}}日"
            rf"|(?<![0-9０-９]){_D}{{4}}年(?!代|[0-9０-９])"
        ),
    ),
    # 2-3年, 2至3年, 5%-8%
    (
        "number",
        re.compile(
            rf"{_NUM}{_MAG}[%％]?\s*[\-－~～至到]\s*{_NUM}{_MAG}(?:[%％]|{_UNIT})"
        ),
    ),
    # 85%, 5.2%左右, 百分之八十五, 0.5个百分点, 近四成, 三成多
    (
        "percent",
        re.compile(
            rf"{_APPROX_PRE}(?:{_NUM}\s*[%％]|百分之{_CN_NUM}(?:点[{_CN_DIGIT}]+)?|百分之{_NUM}"
            rf"|{_NUM}个?百分点|[{_CN_DIGIT}十]+个?百分点){_APPROX_TAIL}"
        ),
    ),
    # 近四成, 三成多: only after a word that introduces a share, so 一成不变 / 统一成 are not
    (
        "percent",
        re.compile(
            r"(?:(?<=[近约逾超达占有的到为了过至是，、])|(?<![\u4e00-\u9fff]))"
            r"[近约逾]?[一二三四五六七八九]成(?![不立功为就长绩果本员熟型交])[多余]?"
        ),
    ),
    # 1/8, 三分之一
    ("number", re.compile(rf"(?<![0-9０-９/]){_D}+/{_D}+(?![0-9０-９/])|{_CN_NUM}分之{_CN_NUM}")),
    # 第二轮, 第3次, 第八次党代会
    ("ordinal", re.compile(rf"第(?:{_NUM}|{_CN_NUM})(?:{_ORD_UNITS})")),
    # 3800多, 1000万元, 29个, 134.9万亿元, 1000余人
    (
        "number",
        re.compile(
            rf"{_APPROX_PRE}{_NUM}{_APPROX_POST}{_MAG}{_APPROX_POST}{_UNIT}?{_APPROX_TAIL}"
        ),
    ),
    # Chinese-numeral figures that carry a magnitude: 五千年, 十三亿人, 两千多万元; and 两倍
    (
        "number",
        re.compile(
            rf"{_APPROX_PRE}[{_CN_DIGIT}十]*[{_CN_DIGIT}][{_CN_DIGIT}十]*[十百千万亿]+{_APPROX_POST}[万亿]?{_UNIT}"
            rf"(?<!十个)(?<!十项)(?<!十条)"
            rf"|[{_CN_DIGIT}十]+倍"
        ),
    ),
]

_CN_1_9 = "一二三四五六七八九"
_EXTRA_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("meeting", re.compile(
        rf"(?:党的|中共)?(?:[{_CN_1_9}十]{{1,3}}届[{_CN_1_9}十]{{1,2}}中全会"
        rf"|[{_CN_1_9}十]{{1,3}}届全国人大[{_CN_1_9}十]{{1,2}}次会议"
        rf"|[二三]?十[{_CN_1_9}]?大(?![学力量型批项类事幅规小多会])"
        rf"|(?<=党的)[{_CN_1_9}]大(?![学力量型批项类事幅规小多])"
        rf"|第[{_CN_1_9}十]{{1,3}}次(?:全国|全省|全市|全县|全区)?[\u4e00-\u9fff]{{0,4}}?代表大会)"
        rf"|全国两会|[\u4e00-\u9fff]{{0,2}}党代会"
        rf"|(?:中央|全国|省委|市委|县委)[\u4e00-\u9fff]{{0,8}}?(?:工作会议|工作座谈会|全会)"
    )),
    ("org", re.compile(
        r"(?:北京|天津|河北|山西|内蒙古|辽宁|吉林|黑龙江|上海|江苏|浙江|安徽|福建|江西|山东|河南|湖北"
        r"|湖南|广东|广西|海南|重庆|四川|贵州|云南|西藏|陕西|甘肃|青海|宁夏|新疆|台湾)(?:省|市|自治区)"
        r"|中央军委|中央[\u4e00-\u9fff]{2,6}?(?:委员会|领导小组)"
        r"|(?:(?<=[是在由与和、，。：:；（])|(?<![\u4e00-\u9fff]))"
        r"[^\W\d的了是在和与及要把对为好实落做抓这那一不也就都而之其等各个有以将从到于上下中并或但还又再更很大会年"
        r"全本该此两省市县区乡镇村委党政我你他们]{2}(?:市|县)(?:委|人民政府|政府)(?!员)"
    )),
    ("year", re.compile(r"(?<=[（(])(?:1[89]|20)[0-9]{2}(?=[）)])|(?<=[（(])(?:1[89]|20)[0-9]{2}(?=年?[）)])")),
    ("count", re.compile(
        rf"(?<![第{_CN_DIGIT}十百千])(?:[{_CN_1_9}两]?十[{_CN_1_9}]?|[{_CN_1_9}两]百[零{_CN_1_9}十]*)[多余]?"
        r"(?:位|名|个|家|项|所|支|批|户|座|处|场)(?!一体|方面|坚持|意识|自信|维护|全面)"
    )),
]
_TITLE_YEAR = re.compile(r"(?:1[89]|20)[0-9]{2}(?=年|[）)])")

_QUOTE_RE = re.compile(r"“([^“”\n]{1,80})”|「([^「」\n]{1,80})」|\"([^\"\n]{1,80})\"")
_TITLE_RE = re.compile(r"《([^《》\n]{1,80})》")
_PLACEHOLDER_NUM = re.compile(r"[xX×]{2}")


# --- extraction ---------------------------------------------------------------------------


def extract_facts(text: str, kinds: Iterable[str] | None = None) -> list[Fact]:
    """All facts in text, in order of position. `kinds` limits the result (see KINDS)."""
    wanted = set(kinds) if kinds is not None else set(KINDS)
    facts: list[Fact] = []
    taken: list[tuple[int, int]] = []
    if wanted & {"number", "percent", "date", "ordinal"}:
        for kind, pattern in _PATTERNS:
            for m in pattern.finditer(text):
                start, end = m.span()
                frag = m.group(0)
                # trailing 多 of 3800多 belongs to the figure; a trailing bare space does not
                stripped = frag.rstrip()
                end = start + len(stripped)
                if not re.search(r"[0-9０-９〇零一二两三四五六七八九十百千万亿]", stripped):
                    continue
                if _overlaps(taken, start, end):
                    continue
                if kind == "number" and not _is_figure(text, start, end, stripped):
                    continue
                bisect.insort(taken, (start, end))
                if kind in wanted:
                    facts.append(Fact(kind, stripped, normalize_value(kind, stripped), (start, end)))
    if "quote" in wanted:
        for m in _QUOTE_RE.finditer(text):
            inner = next(g for g in m.groups() if g is not None)
            facts.append(Fact("quote", m.group(0), normalize_value("quote", inner), m.span()))
    if "title" in wanted:
        for m in _TITLE_RE.finditer(text):
            facts.append(Fact("title", m.group(0), normalize_value("title", m.group(1)), m.span()))
    if "person" in wanted:
        facts.extend(_persons(text))
    if wanted & set(SUBSTANCE_KINDS):
        facts.extend(_extra_facts(text, wanted, taken))
    facts.sort(key=lambda f: (f.span[0], -f.span[1]))
    return facts


def _extra_facts(text: str, wanted: set[str], taken: list[tuple[int, int]]) -> list[Fact]:
    out: list[Fact] = []
    for kind, pattern in _EXTRA_PATTERNS:
        if kind not in wanted:
            continue
        for m in pattern.finditer(text):
            start, end = m.span()
            if kind in ("count", "year") and _overlaps(taken, start, end):
                continue  # 三十个 inside 三十个百分点 is the percent's already
            out.append(Fact(kind, m.group(0), _extra_value(kind, m.group(0)), (start, end)))
    if "year" in wanted:  # 《…报告（2018）》, 《2019年…规划》: the year of a cited document
        for m in _TITLE_RE.finditer(text):
            for y in _TITLE_YEAR.finditer(m.group(1)):
                start = m.start(1) + y.start()
                if not _overlaps(taken, start, start + 4) and not any(f.span == (start, start + 4) for f in out):
                    out.append(Fact("year", y.group(0), _extra_value("year", y.group(0)), (start, start + 4)))
    return out


def _extra_value(kind: str, text: str) -> str:
    """The comparison key of an opt-in kind: 2018 -> 2018年, 党的十八大 -> 十八大, 十二位 -> 12位."""
    if kind == "year":
        return text + "年"
    if kind == "meeting":
        return re.sub(r"^(?:党的|中共)", "", text)
    if kind == "count":
        return normalize_value("number", text)
    return text


def _overlaps(taken: list[tuple[int, int]], start: int, end: int) -> bool:
    """Does [start, end) overlap one of the disjoint intervals, kept sorted in `taken`?"""
    i = bisect.bisect_left(taken, (end, -1))
    return i > 0 and taken[i - 1][1] > start


def _is_figure(text: str, start: int, end: int, frag: str) -> bool:
    """Keep figures, drop list marks (1. 2、 (3)) and section numbers of headings."""
    if _PLACEHOLDER_NUM.search(text[end : end + 2]) or text[start - 1 : start] == "¶":
        return False  # 520xx年 is a placeholder; （¶9） is a summary's paragraph reference
    bare = re.fullmatch(r"[0-9０-９]+", frag)
    if bare:
        after = text[end : end + 1]
        before = text[start - 1 : start] if start else ""
        # list marks: "1." "2、" "（3）" at a line start or after a bracket
        if after in ("、", ".", "．") and (start == 0 or before in "\n（(　 \t"):
            return False
        if before in "（(" and after in "）)":
            return False
    return True


def _persons(text: str) -> list[Fact]:
    found: dict[tuple[int, int], Fact] = {}
    for pattern in (_PERSON_RE, _PERSON_AFTER_RE, _PERSON_TITLE_FIRST_RE):
        for m in pattern.finditer(text):
            groups = m.groupdict()
            name = groups["n3"] if groups.get("n3") is not None else groups.get("n1")
            if (name is None or _PLACEHOLDER_NUM.search(name) or name in _NOT_NAMES
                    or name[:2] in _NOT_NAME_WORDS):
                continue
            span = m.span()
            if any(s[0] <= span[0] and span[1] <= s[1] for s in found):
                continue
            frag = m.group(0)
            found[span] = Fact("person", frag, normalize_value("person", frag), span)
    # where two candidates overlap, the longer name wins
    kept: list[Fact] = []
    for fact in sorted(found.values(), key=lambda f: (f.span[0], -(f.span[1] - f.span[0]))):
        if kept and fact.span[0] < kept[-1].span[1]:
            continue
        kept.append(fact)
    return kept


# Strings the surname pattern accepts that are words, not names (万名同志, 江委员…).
_NOT_NAMES = {"万", "龙", "史", "习", "温", "白", "黎", "严", "武", "毛", "钱", "方", "江"}
# Words that start with a surname character (严厉查处长春… is not a 处长 named 严厉查).
_NOT_NAME_WORDS = {
    "严厉", "严格", "严肃", "严重", "严密", "周边", "周密", "周期", "周到", "周年", "万元", "武装",
    "高度", "黄金", "龙头", "白色", "温暖", "江河", "钱款", "毛利", "程序", "程度", "金融", "林业",
    "田间", "董事", "曾经", "马上", "陆续", "范围", "夏季", "夏粮", "许多", "许可", "苏联", "余额",
    "顾全", "顾及", "习惯", "温度", "段落", "贺信", "贺电", "何时", "方面", "常委", "孙子",
}


# --- comparison ---------------------------------------------------------------------------


def _index(text: str, kinds: Iterable[str] | None) -> tuple[str, set[tuple[str, str]]]:
    if kinds is not None and set(kinds) & {"count", "year"}:
        kinds = [*kinds, "number", "date"]  # 12位 supports 十二位, 2018年 supports （2018）
    facts = extract_facts(text, kinds)
    return half_width(text), {(_group(f.kind), f.value) for f in facts}


def _group(kind: str) -> str:
    # a date can be written as a number (2024年) and a quote as a title; compare within groups
    return {"date": "num", "number": "num", "percent": "num", "ordinal": "num", "count": "num", "year": "num",
            "quote": "phrase", "title": "phrase"}.get(kind, kind)


def _verbatim(piece: str, half_text: str) -> bool:
    """piece occurs in half_text, and not as the tail of a longer number (5% in 15%)."""
    if piece not in half_text:
        return False
    if not (piece[:1].isdigit() or piece[-1:].isdigit()):
        return True
    pattern = (r"(?<![0-9.])" if piece[:1].isdigit() else "") + re.escape(piece) + (
        r"(?![0-9])" if piece[-1:].isdigit() else "")
    return re.search(pattern, half_text) is not None


def _supported(fact: Fact, half_text: str, values: set[tuple[str, str]]) -> bool:
    if _verbatim(half_width(fact.text), half_text):
        return True
    if fact.kind in ("quote", "title"):
        return fact.value in half_text or (_group(fact.kind), fact.value) in values
    if fact.kind == "person":
        # 贾卫东副局长 (or 副局长贾卫东) in the output is supported by 贾卫东 in the source
        name = re.sub(rf"^副?(?:{'|'.join(_TITLES)})|副?(?:{'|'.join(_TITLES)})$", "", fact.text)
        return len(name) >= 2 and name in half_text
    return (_group(fact.kind), fact.value) in values


def compare_facts(source: str, output: str, kinds: Iterable[str] | None = None) -> FactReport:
    """Which facts of source the output kept or dropped, and which output facts are new."""
    kind_list = list(kinds) if kinds is not None else None
    src_facts = _dedupe(extract_facts(source, kind_list))
    out_facts = _dedupe(extract_facts(output, kind_list))
    out_half, out_values = _index(output, kind_list)
    src_half, src_values = _index(source, kind_list)
    report = FactReport()
    for fact in src_facts:
        (report.kept if _supported(fact, out_half, out_values) else report.dropped).append(fact)
    report.added = [f for f in out_facts if not _supported(f, src_half, src_values)]
    return report


def _dedupe(facts: list[Fact]) -> list[Fact]:
    seen: set[tuple[str, str]] = set()
    out: list[Fact] = []
    for fact in facts:
        key = (fact.kind, fact.value)
        if key not in seen:
            seen.add(key)
            out.append(fact)
    return out


def find_unsupported(
    text: str, allowed_texts: Iterable[str] | str, kinds: Iterable[str] = GUARD_KINDS
) -> list[Fact]:
    """Facts in text that none of allowed_texts supports (every occurrence, in order).

    For adapt's fact guard: allowed_texts are the brief's fields; a figure the model wrote that
    the brief never gave is unsupported.
    """
    if isinstance(allowed_texts, str):
        allowed_texts = [allowed_texts]
    allowed = "\n".join(allowed_texts)
    kind_list = list(kinds)
    half, values = _index(allowed, kind_list)
    return [f for f in extract_facts(text, kind_list) if not _supported(f, half, values)]


def mask_unsupported(
    text: str, allowed_texts: Iterable[str] | str, kinds: Iterable[str] = GUARD_KINDS
) -> str:
    """text with every unsupported figure replaced by XX (units kept: 1000万元 -> XX万元,
    7月15日 -> XX月XX日, 85% -> XX%, 贾卫东副局长 -> XX副局长), ready for a human to fill in."""
    facts = find_unsupported(text, allowed_texts, kinds)
    out: list[str] = []
    pos = 0
    for fact in facts:
        start, end = fact.span
        if start < pos:
            continue
        out.append(text[pos:start])
        out.append(_mask(fact))
        pos = end
    out.append(text[pos:])
    return "".join(out)


def _mask(fact: Fact) -> str:
    if fact.kind == "person":
        first = re.match(rf"副?(?:{'|'.join(_TITLE_FIRST)})(?=[{_SURNAMES}])", fact.text)
        if first:
            return first.group(0) + "XX"
        title = re.search(rf"副?(?:{'|'.join(_TITLES)})$", fact.text)
        return "XX" + (title.group(0) if title else "")
    # every digit run becomes XX; 百 of 百分之 and the 千 of units like 千瓦 are not digits
    return re.sub(
        rf"{_D}+(?:[,，]{_D}{{3}})*(?:[.．]{_D}+)?"
        r"|(?<=百分之)[〇零一二两三四五六七八九十百千点]+"
        r"|(?!百分之)[〇零一二两三四五六七八九十百千]+(?![瓦米克])",
        "XX",
        fact.text,
    )
