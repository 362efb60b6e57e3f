"""Grounded drafting: each part of the speech is written from material retrieved for it.

    grounding = Grounding.for_brief(brief, outline, library)
    grounding.material("section-1")      # sentences placed right before the paragraph
    grounding.reject("section-1", s)     # why a drafted sentence is not kept ('' = keep)
    grounding.fallback("section-1", n)   # retrieved sentences to use when the model gives nothing good
    attribute(speech, grounding)         # the units every paragraph stands on (metadata.sources)

A small base model adapts good, on-topic material placed right before it far better than it
writes from a distant example: for each point the pipeline looks up how edited texts (the
user's corpus, the 52 government work reports) already say it, adapts their scope to the
speaker (全国 → 全县, 各地区各部门 → 各乡镇、各部门), leaves out what the brief does not allow
(figures, names, documents, places) and keeps a drafted sentence only when most of it comes
from that material or the brief and it does not speak for a higher level than the speaker's.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from pipeline.check.substance.voice import audience_claim
from pipeline.material import Hit, Library, Unit
from pipeline.material.index import bigram_terms, segment
from pipeline.material.phrasebook import SOURCE_PREFIX as PHRASEBOOK_SOURCE
from pipeline.speech import Speech
from pipeline.tasks.adapt.brief import Brief, allowed_texts
from pipeline.tasks.adapt.outline import DOERS, Outline, self_unit
from pipeline.text.hanzi import count_zi, split_paragraphs, split_sentences

__all__ = ["ON_POINT_SHARE", "Grounding", "adapt_scope", "attribute", "grounding_check", "grounding_for", "on_point_share", "open_material",
           "prompt_material"]

MATERIAL_PER_PART = 8
# Units kept per part: the prompt shows the best MATERIAL_PER_PART; the rest stand behind the
# grounding test and the fallback, so that a part whose drafts are rejected still reaches its length.
RESERVE = 2
GROUNDED_SHARE = 0.6  # of a sentence's bigrams found in the part's material or the brief
SOURCE_SHARE = 0.35  # a unit is a sentence's source when it holds this share of its bigrams
MIN_ZI, MAX_ZI = 12, 90
MAX_PARAGRAPH_ZI = 400  # a paragraph taken by its lead: one subpoint, not a report's whole section
# A report sentence that touches the point in one clause of six (有序推进城市更新，……开展老旧建筑和
# 设施安全隐患排查整治，再开工改造一批城镇老旧小区……) takes a section off its point: at least
# this share of a unit's clauses must share a topic word with what the part is about (0.4 keeps
# 加强对各类安全事故隐患排查和整治工作，健全重大隐患治理、重大危险源监控制度，…, 2 of 5).
ON_POINT_SHARE = 0.4
# Phrasing of the last two decades reads as a speech of today; 五年计划的斗争 does not.
MIN_YEAR = 2003
# What only the State Council's report to the NPC says of itself.
_OWN_OCCASION = re.compile(r"代表大会|人大|政协|政府工作报告|本届政府|五年计划|规划纲要|我代表|各位代表|审议")

_SECTION_FUNCTIONS = ("要求/部署", "措施", "意义/认识")
# What a local speaker cannot say as material: a count of past times (四次提高…) is a claim the
# brief does not make; raising benefit standards is the State Council's or a province's act.
_COUNTED = re.compile(r"(?:[两三四五六七八九几]|[一二三四五六七八九十]{2,}|十)(?:次|年来|个百分点|倍)")
_BENEFIT_RAISE = re.compile(r"提高[^，。；]{0,16}(?:补助|抚恤|养老金|补贴|低保|工资)[^，。；]{0,6}(?:标准|水平)")
# Material that speaks to students or of school life, for a brief that has neither.
_SCHOOL = re.compile(r"同学|校园|校规|学业|课堂|母校")
_SCHOOL_BRIEF = re.compile(r"同学|学生|师生|教师|老师|学校|校|教育|家长|毕业|开学")
_GREETING = re.compile(r"问候|祝贺|欢迎|感谢|慰问|致敬|祝福")
_OPENING_FUNCTIONS = ("开场", "意义/认识")
_CLOSING_FUNCTIONS = ("号召/结尾", "意义/认识")
# What a drafted sentence of someone else's text says: a rule's own articles (严格执行本办法), a
# report to superiors (向大家汇报), another body's voice (我代表局党委, 我公司全体员工). The brief may
# say them; the pipeline's own opening (首先，我代表县人民政府…) is not checked here.
_NOT_THIS_SPEAKER = re.compile(r"本(?:办法|条例|规定|细则|通知|意见|决定)|汇报|我代表|我公司|我局|我厂|我院|我所|本公司|各级我|我部门")
# Who a sentence speaks for when it is not the speaker's own level.
_NATIONAL = re.compile(r"国务院|全党|各省|大国|国际一流|省（区、市）|省区市|中央(?!企业)|全国人大|政协|我国|全国|国家(?!级)"
                       r"|中国(?!特色|式)|(?:出台|制定|修订|颁布)[^，。；]{0,12}(?:法|条例)")
# A local speech may cite the higher level it carries out (贯彻落实党中央、国务院决策部署).
_CITED = re.compile(r"(贯彻|落实|按照|遵照|根据|执行)[^，。；]{0,8}(党中央|中央|国务院|国家)[^，。；]{0,12}(部署|要求|精神|决策|政策)")


def protected_phrases(brief_text: str) -> list[str]:
    """National words the brief itself uses, with what follows them (创建全国文明城市 → 全国文明):
    the speech may say them."""
    return [brief_text[m.start() : m.end() + 2] for m in _NATIONAL.finditer(brief_text)]


def _without(text: str, phrases: list[str]) -> str:
    for p in phrases:
        text = text.replace(p, "\x00")
    return text


def adapt_scope(text: str, unit: str, keep: list[str] | None = None) -> str:
    """A sentence of a national text said at the speaker's level: 全国 → 全县, 我国 → 我县,
    各地区各部门 → 各乡镇、各部门, 各级政府 → 各级各部门. Returns '' when it cannot be said
    there (it still speaks for 国务院, 中央 …). `keep`: phrases the brief uses (全国文明城市)."""
    keep = [k for k in (keep or []) if k in text]
    for i, k in enumerate(keep):
        text = text.replace(k, f"\x00{i}\x00")
    out = _adapt(text, unit)
    for i, k in enumerate(keep):
        out = out.replace(f"\x00{i}\x00", k)
    return out


def _adapt(text: str, unit: str) -> str:
    if not unit:
        unit = "单位"
    whole = f"全{unit}" if len(unit) == 1 else "全体"
    own = f"我{unit}" if len(unit) == 1 else "我们"
    doers = DOERS.get(unit, "各单位、各部门")
    out = text
    for a, b in (("全国各族人民", f"{whole}广大干部群众"), ("各地区各部门", doers), ("各地各部门", doers),
                 ("各地区、各部门", doers), ("各级政府", "各级各部门"), ("全国", whole), ("我国", own)):
        out = out.replace(a, b)
    rest = _CITED.sub("", re.sub("\x00\\d+\x00", "", out))
    return "" if _NATIONAL.search(rest) else out


@dataclass
class PartMaterial:
    units: list[Unit] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)  # the units' texts at the speaker's scope
    used: int = 0  # fallback sentences taken so far


class Grounding:
    """Retrieved material per part of the outline, and the tests a drafted sentence must pass."""

    def __init__(self, brief: Brief, outline: Outline, library: Library, *, per_part: int = MATERIAL_PER_PART) -> None:
        self.brief = brief
        self.unit = self_unit(brief)
        self.national = bool(_NATIONAL.search(brief.speaker or "")) or "国务院" in (brief.speaker or "")
        self.library = library
        self.per_part = per_part
        self.brief_text = " ".join(allowed_texts(brief))
        self.brief_grams = set(bigram_terms(self.brief_text))
        self.keep = protected_phrases(self.brief_text)
        # Material that speaks to students fits only a brief about a school (see _take).
        self.school = bool(_SCHOOL_BRIEF.search(f"{brief.audience}{brief.occasion}"))
        self.parts: dict[str, PartMaterial] = {}
        for part in outline.parts:
            self.parts[part.key] = self._retrieve(part.key, part.point)

    @classmethod
    def for_brief(cls, brief: Brief, outline: Outline, library: Library) -> Grounding:
        return cls(brief, outline, library)

    # ---- retrieval ------------------------------------------------------------------------

    def _query(self, key: str, point: str) -> tuple[str, dict[str, float], tuple[str, ...]]:
        occasion = _occasion_core(self.brief.occasion)
        if key.startswith("section-"):
            # A point that is itself a greeting (致以节日问候) is said as openings say it, and
            # with the praise that goes with it (退役军人在部队时保家卫国…, labelled 其他).
            greeting = _GREETING.search(point)
            return point, {occasion: 0.3}, _SECTION_FUNCTIONS + (("开场", "号召/结尾", "其他") if greeting else ())
        points = {p: 0.5 for p in self.brief.points}
        if key == "opening":
            # Why we meet: the occasion's topic first; for guests and students the greeting.
            cue = {"guests": {"欢迎 感谢 来宾": 0.6}, "students": {"老师们 同学们 新学期": 0.6}}
            return occasion, {**points, **cue.get(self.brief.audience_kind, {})}, _OPENING_FUNCTIONS
        return occasion, {**points, "让我们 奋斗 努力": 0.4}, _CLOSING_FUNCTIONS

    def _fits(self, unit: Unit, max_zi: int = MAX_ZI) -> bool:
        return (
            MIN_ZI <= unit.zishu <= max_zi and not unit.figures and not unit.names
            and not unit.documents and not unit.places
            and (unit.origin != "bank" or (unit.year or 0) >= MIN_YEAR)
            and not _OWN_OCCASION.search(unit.text) and not _COUNTED.search(unit.text)
            and not _BENEFIT_RAISE.search(unit.text)
        )

    def _retrieve(self, key: str, point: str) -> PartMaterial:
        query, weights, functions = self._query(key, point)
        # A unit must share a topic word with what the part is about (the point; for the opening
        # and closing the occasion and the points), not only its cue words: no material is
        # better than material on another subject (the part is then drafted from the examples).
        about = point if key.startswith("section-") else " ".join([_occasion_core(self.brief.occasion), *self.brief.points])
        if key.startswith("section-") and self._names_unknown(point):
            return PartMaterial()  # 科学健身普及 is not material for 普及围棋运动
        topic = topic_grams(about, self.library.vocab)
        occasion = topic_grams(_occasion_core(self.brief.occasion), self.library.vocab)
        broad = topic | occasion
        # A greeting point takes greetings of this occasion only (not 向广大教师致以节日的问候 at
        # a veterans' meeting).
        greeting = key.startswith("section-") and bool(_GREETING.search(point)) and bool(occasion)

        def search(test: Callable[[set[str]], bool]) -> list[Hit]:
            return self.library.search(
                query, kind="sentence", n=self.per_part * 4 * RESERVE, weights=weights,
                where=lambda u: u.function in functions and self._fits(u) and test(grams := set(bigram_terms(u.text)))
                and on_point_share(u.text, broad) >= ON_POINT_SHARE and (not greeting or bool(grams & occasion)),
            )

        need = min(2, len(topic))
        # (df, gram): a tie must not fall to the set's order, which changes with each process's hash seed.
        known = sorted((g for g in topic if self.library.df(g)), key=lambda g: (self.library.df(g), g))
        # A section's unit holds one of the point's two most specific bigrams: 优化营商环境 is
        # 营商环境, not 优化 and 环境 (优化消费环境).
        key_grams = set(known[:2]) if key.startswith("section-") and len(known) > 2 else set(topic)
        hits = search(lambda grams: len(topic & grams) >= need and bool(grams & key_grams))
        if len(hits) < self.per_part and need > 1 and known:
            # Two topic words together are rare (落实优抚政策: 优抚 and 政策): then the point's
            # most specific word alone (优抚, not 政策) still keeps the material on the point.
            rarest = known[0]
            hits += search(lambda grams: rarest in grams)  # repeats are dropped below
        if not self.national:
            # The phrasebook speaks as a local speaker; a report sentence, however well ranked,
            # may carry what only the State Council does (再次提高…标准): it comes after.
            hits.sort(key=lambda h: not h.unit.source.startswith(PHRASEBOOK_SOURCE))
        got = PartMaterial()
        for hit in hits:
            if self._take(got, hit.unit):
                break
        if key.startswith("section-") and len(got.texts) < self.per_part * RESERVE:
            # Few sentences name the point, but an edited paragraph states its point in its lead
            # sentence (勤学善思是成长成才的根本途径。) and its other sentences carry it out
            # (要善于思考、勤于发问…): they are on the point too, in their own words.
            for hit in self.library.search(
                query, kind="paragraph", n=self.per_part * 2, weights=weights,
                where=lambda u: self._fits(u, MAX_PARAGRAPH_ZI) and len(topic & set(bigram_terms(_lead(u.text)))) >= need
                and (not greeting or bool(set(bigram_terms(u.text)) & occasion)),
            ):
                for sentence in _member_units(hit.unit):
                    if sentence.function in functions and self._fits(sentence) and self._take(got, sentence):
                        return got
        return got

    def _take(self, got: PartMaterial, unit: Unit) -> bool:
        """Add unit to the part's material (at the speaker's scope); True once the part is full."""
        if self._other_voice(unit.text):
            return False  # 要把我局建设成为…: another body's speech, not material for this one
        if not self.school and _SCHOOL.search(unit.text):
            return False  # 希望新同学尽快适应校园生活 is for a 开学典礼, not new staff's 融入团队
        text = unit.text if self.national else adapt_scope(unit.text, self.unit, self.keep)
        if text and text not in got.texts:
            got.units.append(unit)
            got.texts.append(text)
        return len(got.texts) >= self.per_part * RESERVE

    def _names_unknown(self, text: str) -> bool:
        """Does text name a thing the library never mentions (围棋 in 普及围棋运动)? Then its
        other words alone (普及, 运动) would find material on something else."""
        heads = [w[:2] for w in segment(text, self.library.vocab) if len(w) >= 2]
        return any(self.library.df(h) == 0 for h in heads)

    def _other_voice(self, text: str) -> bool:
        """Does text speak as another body (本办法, 汇报, 我局…) that the brief does not name?"""
        voice = _NOT_THIS_SPEAKER.search(text)
        return bool(voice) and voice.group(0) not in self.brief_text

    def material(self, key: str) -> list[str]:
        """What the prompt shows before the part's paragraph: the best `per_part` units."""
        return list(self.parts.get(key, PartMaterial()).texts[: self.per_part])

    # ---- keeping a drafted sentence ---------------------------------------------------------

    def reject(self, key: str, sentence: str) -> str:
        """Why a drafted sentence of this part is not kept: 'scope', 'voice', 'ungrounded' or ''."""
        if not self.national and _NATIONAL.search(_CITED.sub("", _without(sentence, self.keep))):
            return "scope"
        own = re.search(r"我([省市县区乡镇])", sentence)
        if own and self.unit in DOERS and own.group(1) != self.unit and own.group(0) not in self.brief_text:
            return "scope"  # 我省 in a county's speech
        if self._other_voice(sentence):
            return "voice"
        if self.brief.speaker and re.search(f"{re.escape(self.brief.speaker)}(?:要求|强调|指出|说)", sentence):
            return "voice"  # 县长要求，… in the 县长's own speech: the model reports, it does not speak
        if audience_claim(sentence, self.brief.audience, self.brief.speaker):
            return "voice"  # 我们，是广大退役军人代表 said by the 区长
        grams = set(bigram_terms(sentence))
        own = self._grams(key)
        if len(grams) < 4 or not own:
            # A part without material is drafted from the examples, as before.
            return ""
        pool = self.brief_grams | own
        return "" if len(grams & pool) / len(grams) >= GROUNDED_SHARE else "ungrounded"

    def _grams(self, key: str) -> set[str]:
        part = self.parts.get(key)
        return set(bigram_terms("".join(part.texts))) if part else set()

    def fallback(self, key: str, count: int = 2) -> list[str]:
        """The next unused retrieved sentences of a part, best-ranked first (already at the
        speaker's scope)."""
        part = self.parts.get(key)
        if part is None:
            return []
        out = part.texts[part.used : part.used + count]
        part.used += len(out)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {key: [_source(u) for u in p.units] for key, p in self.parts.items()}


# Bigrams of the occasion's format and level: shared by every occasion, they say nothing of its topic.
_FORMAT_GRAMS = frozenset(
    "全县 全市 全区 全镇 全乡 全省 工作 会议 大会 推进 部署 动员 座谈 典礼 仪式 秋季 春季 年度 项目 推介".split()
)


_CLAUSE_SPLIT = re.compile(r"[，,；;。！？：:、]")


def _lead(paragraph: str) -> str:
    sentences = split_sentences(paragraph)
    return sentences[0] if sentences else paragraph


def _member_units(paragraph: Unit) -> list[Unit]:
    """The sentences of a paragraph unit as units of their own (labelled as the bank labels
    them), for material taken by the paragraph's lead."""
    from pipeline.material import label_sentence

    out = []
    for i, sentence in enumerate(split_sentences(paragraph.text)):
        out.append(replace(paragraph, id=f"{paragraph.id}-s{i:02d}", kind="sentence", text=sentence,
                           parent=paragraph.id, **label_sentence(sentence).to_dict()))
    return out


def on_point_share(text: str, topic: set[str]) -> float:
    """The share of text's clauses (of 4 字 or more) that share a topic bigram."""
    clauses = [c for c in _CLAUSE_SPLIT.split(text) if count_zi(c) >= 4]
    if not clauses or not topic:
        return 1.0
    return sum(1 for c in clauses if topic & set(bigram_terms(c))) / len(clauses)


def topic_grams(text: str, vocab: dict[str, int] | None = None) -> set[str]:
    """The bigrams of the topic words of a point or occasion (not 落实, 加强, 全县, 会议 …)."""
    from pipeline.material.index import word_bigrams

    return {g for g, w in word_bigrams(text, vocab).items() if w >= 1.0 and g not in _FORMAT_GRAMS}


def _occasion_core(occasion: str) -> str:
    """全县安全生产工作会议 → 全县安全生产工作: the topic of the occasion, not its format."""
    return re.sub(r"(工作)?(会议|大会|推进会|部署会|动员会|座谈会|典礼|仪式|推介会)$", "", occasion or "") or occasion


def _source(unit: Unit) -> dict[str, Any]:
    return {"id": unit.id, "source": unit.source, "year": unit.year, "origin": unit.origin, "text": unit.text}


BRIEF_SOURCE = {"id": "brief", "source": "brief", "year": None, "origin": "brief", "text": ""}
FRAMES_SOURCE = {"id": "frames", "source": "prompts/adapt/frames.yaml", "year": None, "origin": "frames", "text": ""}


def grounding_check(grounding: Grounding, sources: list[dict[str, Any]]) -> dict[str, Any]:
    """Does every section stand on material? A section for whose point nothing was retrieved
    (勤学善思: the reports never say it) is what the embedded model wrote from the examples alone,
    with inventions no rule can read (「要爱自己的孩子」, 「要认真对待上报的材料」): the pipeline
    cannot vouch for it, so the check fails and names the section. `sections` shows, per section,
    the paragraphs whose sentences a retrieved unit holds (metadata.sources)."""
    by: dict[str, list[bool]] = {}
    for entry in sources:
        if entry["part"].startswith("section-"):
            by.setdefault(entry["part"], []).append(entry["sources"][0]["origin"] not in ("brief", "frames"))
    weak = [k for k in grounding.parts if k.startswith("section-") and not grounding.material(k)]
    points = dict(zip((f"section-{i}" for i in range(1, len(grounding.brief.points) + 1)),
                      grounding.brief.points, strict=True))
    # Little material (under one prompt's worth) is where a long speech comes out short.
    thin = [k for k in grounding.parts if k.startswith("section-") and k not in weak
            and len(grounding.parts[k].texts) < grounding.per_part]
    return {
        "passed": not weak,
        "sections": {k: f"{sum(v)}/{len(v)}" for k, v in by.items()},
        "material": {k: len(p.texts) for k, p in grounding.parts.items() if k.startswith("section-")},
        "unsupported": weak,
        "unsupported_points": [points[k] for k in weak if k in points],
        "thin_points": [points[k] for k in thin if k in points],
        **({"advice": "no material on these points: write them yourself, or add your own material "
            "(speechsmith corpus add) and draft again"} if weak else {}),
    }


def attribute(speech: Speech, grounding: Grounding, framed: frozenset[str] = frozenset()) -> list[dict[str, Any]]:
    """For every paragraph of the speech, the retrieved units its sentences stand on (a unit
    holding at least SOURCE_SHARE of a sentence's bigrams); a paragraph written from the brief
    alone (the pipeline's opening sentence, the sign-off) names the brief."""
    parts = [("opening", split_paragraphs(speech.opening))]
    parts += [(f"section-{i}", s.paragraphs) for i, s in enumerate(speech.sections, 1)]
    parts.append(("closing", split_paragraphs(speech.closing)))
    every = [(u, set(bigram_terms(t))) for p in grounding.parts.values() for u, t in zip(p.units, p.texts, strict=True)]
    out = []
    for key, paragraphs in parts:
        own = grounding.parts.get(key, PartMaterial())
        mine = [(u, set(bigram_terms(t))) for u, t in zip(own.units, own.texts, strict=True)]
        for i, para in enumerate(paragraphs):
            found: dict[str, dict[str, Any]] = {}
            for sentence in split_sentences(para):
                grams = set(bigram_terms(sentence))
                if len(grams) < 4:
                    continue
                best = max(((len(grams & g) / len(grams), u) for u, g in mine or every),
                           key=lambda x: x[0], default=(0.0, None))
                if best[1] is not None and best[0] >= SOURCE_SHARE:
                    found.setdefault(best[1].id, _source(best[1]))
            plain = FRAMES_SOURCE if key in framed else BRIEF_SOURCE
            out.append({"part": key, "paragraph": i, "zishu": count_zi(para),
                        "sources": list(found.values()) or [plain]})
    return out


def open_material(corpus_dir: Any) -> Library:
    """The material library for drafting. One that cannot be opened (a phrasebook file saved as
    something that is not text, an unreadable bank) is an error, not a quiet draft without
    material: on the embedded model that draft is the one a writer cannot use."""
    from pipeline.errors import InputError, SpeechsmithError
    from pipeline.material import open_library

    try:
        return open_library(corpus_dir)
    except (SpeechsmithError, OSError) as exc:
        raise InputError(f"cannot open the material bank (素材库): {exc} (fix it, or draft without it: --no-material)") from None


def grounding_for(brief: Brief, outline: Outline, opts: Any, ctx: Any) -> Grounding | None:
    """Material retrieved for every part of the outline, unless turned off (`material: false`)."""
    if not getattr(opts, "material", True):
        return None
    return Grounding.for_brief(brief, outline, open_material(ctx.corpus_dir))


PROMPT_LINES_PER_PART = 5
PROMPT_MATERIAL_ZI = 1500  # keeps the one-call prompt within its token budget


def prompt_material(grounding: Grounding | None, outline: Outline) -> list[dict[str, Any]]:
    """The one-call prompt's material: a few sentences per part, at most PROMPT_MATERIAL_ZI 字."""
    if grounding is None:
        return []
    names = {"opening": "开场白", "closing": "结束语"}
    out, total = [], 0
    for part in outline.parts:
        lines = []
        for text in grounding.material(part.key)[:PROMPT_LINES_PER_PART]:
            if total + count_zi(text) > PROMPT_MATERIAL_ZI:
                break
            lines.append(text)
            total += count_zi(text)
        if lines:
            out.append({"part": names.get(part.key) or part.heading, "lines": lines})
    return out
