"""Plan-then-draft: the pipeline plans the speech, a small base model fills in paragraphs.

The plan (title, 称呼, one numbered section per point, a 字 budget per part, the openers of
its paragraphs) comes from the brief; the model only ever writes one paragraph per call, after
the examples (a prompt prefix shared by every call, so llama.cpp reads it once) and a line
naming the part: a new paragraph from an opener the pipeline chose (each used once), or more of
the last paragraph while it is short. Every paragraph is cleaned before it is kept: cut at the
last full sentence, loops and repeated sentences removed, and sentences dropped that state
figures the brief does not give, leak placeholders or carry an example's own topic over. A
part is drafted until it reaches its budget, with a bounded number of calls.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pipeline.speech import Section, Speech, numbered_heading
from pipeline.tasks.adapt.brief import Brief
from pipeline.tasks.adapt.selection import bigrams
from pipeline.text.hanzi import CONTROL_TOKEN, count_zi, normalize, split_sentences
from pipeline.text.numbering import LEADING_NUMBER
from pipeline.text.placeholders import ALL, has_placeholder

TOKENS_PER_ZI = 0.66  # Gemma 3 on official Chinese prose (measured); refined per backend
SENTENCE_END = "。！？；…!?"
GENERIC_BIGRAMS = frozenset(
    "讲话 会议 大会 动员 领导 工作 同志 我们 今天 这次 全面 推进 建设 发展 城市 市领 导讲 篇一 "
    "在全 上的 的讲 议上 会上".split()
)


@dataclass
class PartPlan:
    """One part the model drafts: the opening, a section (by point) or the closing."""

    key: str  # "opening", "section-1", …, "closing"
    label: str  # how the prefill names it: 的开头 / 中的一部分，主题是“…” / 的结尾
    target: int  # 字 this part should have
    leads: list[str]  # openers of its new paragraphs, in order (used up one by one)
    heading: str = ""
    point: str = ""
    paragraphs: list[str] = field(default_factory=list)
    calls: int = 0
    used_leads: int = 0
    stalled: bool = False  # the last paragraph should not be continued (it gave nothing, or looped)
    stuck: bool = False  # drafting gave up short of the target: its budget went to other parts
    misses: int = 0  # calls in a row that added nothing usable
    fallbacks: int = 0  # paragraphs taken from retrieved material (grounded drafting)
    framed: bool = False  # written from set phrases (frames.yaml), not drafted

    @property
    def zishu(self) -> int:
        return count_zi("".join(self.paragraphs))

    def lead(self) -> str:
        """The opener of the next new paragraph ('' once the planned ones are used up). The
        first opener is tried again while the part is still empty: it is how the part starts."""
        if not self.paragraphs:
            return self.leads[0]
        return self.leads[self.used_leads] if self.used_leads < len(self.leads) else ""


@dataclass
class Outline:
    title: str
    subtitle: str
    salutation: str
    parts: list[PartPlan]
    sign_off: str  # a fixed last line (谢谢大家！) or ""
    transition: str = ""  # a fixed last sentence of the opening (下面，我讲几点意见。) or ""

    def speech(self) -> Speech:
        opening = next(p for p in self.parts if p.key == "opening")
        opening_paras = list(opening.paragraphs)
        if self.transition:
            if opening_paras:
                opening_paras[-1] += self.transition
            else:
                opening_paras = [self.transition]
        closing = next(p for p in self.parts if p.key == "closing")
        sections = [
            Section(heading=p.heading, paragraphs=list(p.paragraphs))
            for p in self.parts if p.key.startswith("section-")
        ]
        closing_paras = list(closing.paragraphs) + ([self.sign_off] if self.sign_off else [])
        return Speech(
            title=self.title, subtitle=self.subtitle, salutation=self.salutation,
            opening="\n".join(opening_paras), sections=sections, closing="\n".join(closing_paras),
        )


# ---- planning ---------------------------------------------------------------------------------

_MEETING = re.compile(r"(会议|大会|会|座谈会|推进会|动员会|培训班|研讨班)$")
_CEREMONY = re.compile(r"(仪式|典礼|开幕式|闭幕式|揭牌|开工|签约|颁奖|庆典|纪念)")
_GATHERING = re.compile(r"(论坛|峰会|博览会|交流会|洽谈会|推介会|招商|年会|联欢)")


# Who carries out a speech's tasks at each level (各地区各部门 said by a 县长: 各乡镇、各部门).
DOERS = {"县": "各乡镇、各部门", "市": "各县区、各部门", "区": "各街道、各部门", "镇": "各村、各站所", "乡": "各村、各站所"}


def self_unit(brief: Brief) -> str:
    """The speaker's own unit as a speech names it (我县, 全县): from speaker, then occasion."""
    for text in (brief.speaker, brief.occasion, brief.audience):
        m = re.search(r"(县|市|区|局|镇|乡|校|厅|委|院)(?:长|委书记|委|政府|直|级)?", text or "")
        if m:
            return m.group(1)
    return ""


def opening_lead(brief: Brief) -> str:
    """The first sentence of the speech, written by the pipeline: a small model's first
    sentence is where it invents most (dates, bodies that did not meet, grand claims)."""
    occ = brief.occasion
    where = f"在{brief.place}" if brief.place else "在这里"
    if _GATHERING.search(occ) or brief.audience_kind == "guests":
        host = host_of(brief.speaker)
        welcome = f"首先，我代表{host}，" if host else "首先，"
        return (f"今天，我们相聚{brief.place or '一堂'}，共同出席{occ}。"
                f"{welcome}对各位领导、各位来宾的到来表示热烈欢迎！")
    if _CEREMONY.search(occ):
        return f"今天，我们{where}隆重举行{occ}。"
    if _MEETING.search(occ):
        return f"今天，我们{where}召开{occ}。"
    return f"今天，我们{where}举行{occ}。"


_HOSTS = (("市长", "市人民政府"), ("县长", "县人民政府"), ("区长", "区人民政府"), ("省长", "省人民政府"),
          ("市委书记", "市委"), ("县委书记", "县委"), ("校长", "学校"), ("总经理", "公司"), ("董事长", "公司"),
          ("局长", "局党组"), ("院长", "院党委"))


def host_of(speaker: str) -> str:
    """Whom a speaker welcomes guests on behalf of (市长 → 市人民政府); '' when unsure."""
    for title, host in _HOSTS:
        if speaker.endswith(title):
            return host
    return ""


def closing_lead(salutation: str, kind: str) -> str:
    # The closing opens the way the house closes: a call to action (让我们…), a hope for the
    # students, a wish for the guests. A bare 同志们， let the small model wander back to problems.
    return {
        "students": "同学们，希望你们", "villagers": "乡亲们，让我们", "guests": "最后，预祝",
        "community": "朋友们，让我们",
    }.get(kind, "同志们，让我们")


def section_leads(point: str, kind: str, unit: str) -> list[str]:
    # The first paragraph restates the point (keeps a small model on topic); later ones open as
    # a speaker turns from why to what to how. Each opener is used once: a stock opener repeated
    # paragraph after paragraph is what the small model then loops on.
    doers = {
        "students": "同学们要", "villagers": "我们要", "guests": "我们将", "community": "我们要",
    }.get(kind, f"各{'乡镇' if unit == '县' else '单位'}、各部门要" if unit in ("县", "市", "区") else "我们要")
    return [f"{point}，", doers, "同时，要", "此外，还要", "特别是要", "要进一步"]


def plan(brief: Brief, *, salutation: str | None = None) -> Outline:
    """Outline from the brief: title, 称呼, parts with 字 budgets and paragraph openers."""
    kind = brief.audience_kind
    salutation = salutation or brief.derived_salutation()
    sign_off = "谢谢大家！"
    headings = [numbered_heading(i, p) for i, p in enumerate(brief.points, 1)]
    # The house turns from the opening to the sections with one set sentence (seen in the
    # corpus: 下面，我就…讲几点意见。); for guests the points follow without an announcement.
    transition = "下面，我讲几点意见。" if kind in ("cadres", "leaders_cadres", "staff") and len(headings) > 1 else ""
    fixed = count_zi(salutation + "".join(headings) + sign_off + transition)
    rest = max(brief.length - fixed, 60 * (len(headings) + 2))
    opening = int(min(max(rest * 0.14, 50), 320))
    closing = int(min(max(rest * 0.10, 40), 240))
    per_section = max(int((rest - opening - closing) / len(headings)), 60)
    unit = self_unit(brief)
    parts = [PartPlan("opening", "的开头", opening, [opening_lead(brief)])]
    for i, (point, heading) in enumerate(zip(brief.points, headings, strict=True), 1):
        parts.append(PartPlan(
            f"section-{i}", f"中的一部分，主题是“{point}”", per_section,
            section_leads(point, kind, unit), heading=heading, point=point,
        ))
    parts.append(PartPlan("closing", "的结尾", closing, [closing_lead(salutation, kind)]))
    subtitle = f"（{brief.date}）" if brief.date else ""
    return Outline(brief.derived_title(), subtitle, salutation, parts, sign_off, transition)


# ---- cleaning ---------------------------------------------------------------------------------


REFRAIN_ZI = 8
# A run of this many 汉字 in a third sentence is a loop with another opening (see Cleaner._echoes).
# Sentences that may open with a point's own words (see Cleaner._point_again).
POINT_LEADS_MAX = 2
ECHO_ZI = 9
_HAN = re.compile(r"[\u4e00-\u9fff]+")
# a control token with the quote the model opened after it (<start_of_image>“要全面落实…)
_SPECIAL_TOKEN = re.compile(rf"(?:{CONTROL_TOKEN.pattern})[“”\"]?")


@dataclass
class CleanStats:
    """What cleaning removed, for the checks report."""

    repeated: int = 0  # sentences (or looping clauses) already said
    facts: int = 0  # sentences stating figures, dates or names the brief does not give
    placeholders: int = 0
    off_topic: int = 0  # sentences carrying an example's own topic
    fragments: int = 0  # unfinished or too short sentences
    facts_flagged: list[str] = field(default_factory=list)
    # Grounded drafting: sentences not kept because little of them came from the material or
    # the brief ("ungrounded"), or they speak for a higher level than the speaker's ("scope").
    rejected: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out = {
            "repeated": self.repeated, "facts": self.facts, "placeholders": self.placeholders,
            "off_topic": self.off_topic, "fragments": self.fragments,
            "facts_flagged": self.facts_flagged[:20],
        }
        if self.rejected:
            out["rejected"] = dict(self.rejected)
        return out


# the prefill echoed (下面是县长在…会议上的讲话…: 在全县安全生产工作会议上讲话的主要内容：)
_PROMPT_ECHO = re.compile(r"下面是|讲话稿|范文|主题是|小编|以下是|讲话的主要内容|会议上讲话|会议上的讲话(?!精神)")
# A quoted slogan with a count in it (“四个强”, “六大工程”) is the model's invention.
_COUNTED_SLOGAN = re.compile(r"“[^”]{0,12}[一二三四五六七八九十两百千\d][^”]{0,12}”")
_ENUM_START = re.compile(r"^(?:[一二三四五六七八九十]{1,3}是|第[一二三四五六七八九十]{1,3}[，、]|首先，|其次，|再次，|最后，)")
# 七要… / 八是…: a count the model cannot keep across calls (一是…二是 in one paragraph, 三是…八是
# in the next, 八是 alone after it); the sentence reads as well without it.
_NUM_YAO = re.compile(r"^[一二三四五六七八九十]{1,2}(?:是要|是|要)(?=[\u4e00-\u9fff]{4})")
_HALF = {";": "；", ",": "，", ":": "：", "?": "？", "!": "！", "(": "（", ")": "）"}
_HALF_RE = re.compile(r"(?<=[\u4e00-\u9fff”）])[;,:?!()]|[;,:?!()](?=[\u4e00-\u9fff“（])")


def _half_to_full(text: str) -> str:
    """Half-width punctuation next to Chinese characters, as the model sometimes writes it."""
    return _HALF_RE.sub(lambda m: _HALF[m.group(0)], text)


# 我局/我市 → the speaker's own unit (我县), before a word or a punctuation mark; 本市场 stays.
_SELF_REF = re.compile(r"(?<=[我本])(县|市|区|局)(?!场)(?=[\u4e00-\u9fff“”《，、。；：！])")


def _clauses(sentence: str) -> list[tuple[str, str | None]]:
    """The sentence's clauses, each with its refrain key (None for one too short to be a refrain)."""
    out = []
    for piece in re.split(r"(?<=[，；：、])", sentence):
        key = normalize(piece)
        out.append((piece, key if count_zi(key) >= REFRAIN_ZI else None))
    return out


class Cleaner:
    """Cleans drafted paragraphs against everything said so far in the speech."""

    def __init__(
        self,
        brief: Brief,
        *,
        unsupported: Callable[[str], list[str]],
        off_topic_terms: set[str] | None = None,
        unit: str = "",
    ) -> None:
        self.brief = brief
        self.unsupported = unsupported
        self.off_topic_terms = off_topic_terms or set()
        self.unit = unit
        self.allowed = " ".join([brief.occasion, *brief.points, *brief.facts])
        self.allowed_han = "|".join(_HAN.findall(self.allowed))
        self.point_leads: dict[str, int] = {}  # sentences opening with a point's own words (勤学善思，…)
        self.seen: list[tuple[str, set[str]]] = []
        self.refrains: dict[str, int] = {}  # clauses of REFRAIN_ZI 字 or more: times said
        self.runs: dict[str, int] = {}  # runs of ECHO_ZI 汉字 in kept sentences: in how many
        self.stats = CleanStats()
        # Set per part by grounded drafting: sentence -> why it is not kept ('' keeps it).
        self.reject: Callable[[str], str] | None = None

    def remember(self, text: str) -> None:
        """Mark text (e.g. a lead or heading) as said, so the model cannot repeat it."""
        for sentence in split_sentences(text):
            sentence = _ENUM_START.sub("", sentence)
            key = normalize(sentence)
            if key:
                self.seen.append((key, set(bigrams(sentence))))

    def _repeated(self, sentence: str) -> bool:
        # "十七是要开展检查。十八是要开展检查。": the same sentence under another number.
        sentence = _ENUM_START.sub("", sentence)
        key = normalize(sentence)
        grams = set(bigrams(sentence))
        for seen_key, seen_grams in self.seen:
            if key == seen_key or (len(key) >= 8 and key in seen_key):
                return True
            # Most of this sentence's words already said together: a paraphrase-free repeat.
            # (Measured on the new sentence, so a sentence that builds on a heading is kept.)
            if len(grams) >= 6 and len(grams & seen_grams) / len(grams) >= 0.8:
                return True
        return False

    def clean(self, text: str, lead: str = "", *, complete: bool = True) -> str:
        """One paragraph as kept in the speech ('' when nothing usable is left).

        `complete`: the model ended the paragraph itself; otherwise it hit the token limit and
        the unfinished last sentence goes.
        """
        text = _half_to_full(_SPECIAL_TOKEN.sub("", text.replace("\r", "")).strip())
        text = LEADING_NUMBER.sub("", text)
        if self.unit:
            text = _SELF_REF.sub(self.unit, text)
        sentences = split_sentences(text)
        if sentences and sentences[-1][-1] not in SENTENCE_END + "”’":
            if not complete or len(sentences) > 1 or count_zi(sentences[-1]) < 12:
                sentences = sentences[:-1]
                self.stats.fragments += 1
            else:
                sentences[-1] += "。"
        kept: list[str] = []
        for sentence in sentences:
            sentence = _NUM_YAO.sub("", LEADING_NUMBER.sub("", self._unloop(sentence)))
            if count_zi(_ENUM_START.sub("", sentence)) < 8 or _PROMPT_ECHO.search(sentence):
                self.stats.fragments += 1
                continue
            if has_placeholder(sentence, ALL):
                self.stats.placeholders += 1
                continue
            flagged = self.unsupported(sentence)
            flagged += [m.group(0) for m in _COUNTED_SLOGAN.finditer(sentence) if m.group(0) not in self.allowed]
            if flagged:
                self.stats.facts += 1
                self.stats.facts_flagged.extend(flagged)
                continue
            if self.off_topic_terms and any(t in sentence for t in self.off_topic_terms):
                self.stats.off_topic += 1
                continue
            if self._repeated(sentence):
                self.stats.repeated += 1
                continue
            reason = self.reject(sentence) if self.reject is not None else ""
            if reason:
                self.stats.rejected[reason] = self.stats.rejected.get(reason, 0) + 1
                continue
            sentence = self._without_refrains(sentence)
            if count_zi(sentence) < 8 or self._echoes(sentence) or self._point_again(sentence):
                self.stats.repeated += 1
                continue
            kept.append(sentence)
            # Counted only once kept: a dropped sentence was not said, and must not make the
            # next one look like a third saying.
            self._count_said(sentence)
            self.remember(sentence)
        # a paragraph ends with a full stop, not mid-list
        return _full_stop("".join(kept), "；;，,、：:")

    def _point_again(self, sentence: str) -> bool:
        """Is this the third sentence to open with a point's own words? A section opens with its
        point (致以节日问候，是…); the material's paragraphs each do too, and four in a row read as
        a loop (致以节日问候，是… 致以节日问候，也是… 致以节日问候，要…)."""
        point = self._leading_point(sentence)
        return point is not None and self.point_leads.get(point, 0) >= POINT_LEADS_MAX

    def _leading_point(self, sentence: str) -> str | None:
        return next((p for p in self.brief.points if sentence.startswith(f"{p}，")), None)

    def _echoes(self, sentence: str) -> bool:
        """Is this the third sentence to carry the same run of ECHO_ZI 汉字? (通过加强健康教育和
        健康管理… 特别是要加强健康教育和健康管理… 要进一步加强健康教育和健康管理: each clause
        differs by its first words, so neither the refrain nor the repeat test sees the loop.)
        Runs inside the brief (the points are said in every section) do not count."""
        return any(self.runs.get(r, 0) >= 2 for r in self._runs(sentence))

    def _runs(self, sentence: str) -> set[str]:
        han = "".join(_HAN.findall(sentence))
        runs = {han[i : i + ECHO_ZI] for i in range(len(han) - ECHO_ZI + 1)}
        return {r for r in runs if r not in self.allowed_han}

    def _count_said(self, sentence: str) -> None:
        """What the refrain, echo and point-lead tests count, for a sentence that was kept."""
        for _, key in _clauses(sentence):
            if key is not None:
                self.refrains[key] = self.refrains.get(key, 0) + 1
        for r in self._runs(sentence):
            self.runs[r] = self.runs.get(r, 0) + 1
        point = self._leading_point(sentence)
        if point is not None:
            self.point_leads[point] = self.point_leads.get(point, 0) + 1

    def _without_refrains(self, sentence: str) -> str:
        # Report sentences on one point all end on the same clause (坚决遏制重特大事故发生): said
        # twice it is emphasis, five times it is a loop (R106). A clause said twice already goes.
        out = [piece for piece, key in _clauses(sentence) if key is None or self.refrains.get(key, 0) < 2]
        return _full_stop("".join(out), "，；：、")

    def _unloop(self, sentence: str) -> str:
        # A base model loops inside a sentence ("对…的考核验收，对…的考核验收，…"): keep each
        # clause once.
        clauses = re.split(r"(?<=[，、：])", sentence)
        if len(clauses) < 3:
            return sentence
        seen: list[str] = []
        out: list[str] = []
        for clause in clauses:
            key = normalize(clause)
            if key and any(key == k or (len(key) >= 4 and key in k) for k in seen):
                self.stats.repeated += 1
                continue
            seen.append(key)
            out.append(clause)
        return _full_stop("".join(out), "，、：")


def _full_stop(text: str, open_marks: str) -> str:
    """text ending in 。 where it ended in one of `open_marks`."""
    return text[:-1] + "。" if text and text[-1] in open_marks else text


def off_topic_terms(examples: list[Any], brief_text: str) -> set[str]:
    """Bigrams naming an example's own topic (from its title, frequent in its text) that the
    brief never uses: a sentence holding one was copied from the example's subject."""
    brief_grams = set(bigrams(brief_text))
    terms: set[str] = set()
    for ex in examples:
        for gram in set(bigrams(ex.title)):
            if gram in GENERIC_BIGRAMS or gram in brief_grams:
                continue
            if ex.text.count(gram) >= 3:
                terms.add(gram)
    return terms


# ---- length repair without a model ---------------------------------------------------------


def trim_part(paragraphs: list[str], over: int) -> tuple[list[str], int]:
    """Drop whole sentences from the end of a part to remove about `over` 字; the first
    sentence of the part always stays. Returns (paragraphs, 字 removed)."""
    paras = [split_sentences(p) for p in paragraphs]
    removed = 0
    while removed < over:
        idx = max((i for i, s in enumerate(paras) if s), default=None)
        if idx is None or (idx == 0 and len(paras[0]) <= 1):
            break
        sentence = paras[idx][-1]
        # Never overshoot by a long sentence when a shorter cut would do.
        if removed and removed + count_zi(sentence) > over * 1.6:
            break
        paras[idx].pop()
        removed += count_zi(sentence)
        if not paras[idx]:
            paras.pop(idx)
    return ["".join(s) for s in paras if s], removed


_ENUM_SHI = re.compile(r"(?:(?<=^)|(?<=[。！？；;：，]))([一二三四五六七八九十]{1,3})是(?=[\u4e00-\u9fff，])")
_ENUM_DI = re.compile(r"(?:(?<=^)|(?<=[。！？；;：]))第([一二三四五六七八九十]{1,2})(?=[，、])")
_ENUM_SEQ = re.compile(r"(?:(?<=^)|(?<=[。！？；;：]))(首先|其次|再次)(?=，)")
_SEQ_AS_DI = {"首先": "第一", "其次": "第二", "再次": "第三"}
MAX_ITEMS = 8  # a speech lists a few 一是…二是…; a model that counts on is looping


def renumber(paragraphs: list[str]) -> list[str]:
    """Make 一是…二是… and 第一，第二， in a part count 1, 2, 3 in order: cleaning removes
    sentences and a small model skips numbers (…六是…八是), which reads as a gap; a part
    that mixes 首先，其次， with 第一，第二， is counted as one 第… list. Sentences past
    the MAX_ITEMS-th item are dropped: by then the model is looping."""
    from pipeline.text.numbering import cn_number

    out = []
    counters = {"shi": 0, "di": 0}
    if any(_ENUM_DI.search(p) for p in paragraphs) and any(_ENUM_SEQ.search(p) for p in paragraphs):
        # 首先…其次… and 第一…第二… in one part read as two lists: make it one, 第一…第四.
        paragraphs = [_ENUM_SEQ.sub(lambda m: _SEQ_AS_DI[m.group(1)], p) for p in paragraphs]

    def sub(kind: str, fmt: str):
        def repl(m: re.Match[str]) -> str:
            counters[kind] += 1
            return fmt.format(cn_number(counters[kind]))
        return repl

    for para in paragraphs:
        kept = []
        for sentence in split_sentences(para):
            sentence = _ENUM_SHI.sub(sub("shi", "{}是"), sentence)
            sentence = _ENUM_DI.sub(sub("di", "第{}"), sentence)
            if counters["shi"] > MAX_ITEMS or counters["di"] > MAX_ITEMS:
                if _ENUM_SHI.search(sentence) or _ENUM_DI.search(sentence):
                    continue
            kept.append(sentence)
        if kept:
            out.append("".join(kept))
    return out
