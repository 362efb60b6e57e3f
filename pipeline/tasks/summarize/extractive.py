"""Extractive summary: sentence ranking, tasks (who / what), figures (value / what / ¶). No model.

Ranking is TextRank plus centroid similarity over character bigrams (fast, no dictionary to
load; `features="jieba"` uses jieba words instead), multiplied by priors that encode how
Chinese official texts are written: numbered headings and the first sentence of a paragraph
carry the point; sentences with 要、必须、确保… carry the tasks; salutations and bare section
titles carry nothing. Everything returned is copied from the source, so every figure is
verbatim by construction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pipeline.summary import Figure, KeyPoint, LengthSpec, Summary, TaskItem
from pipeline.tasks.summarize.chunk import Document, Sentence, segment
from pipeline.tasks.summarize.similarity import centrality
from pipeline.text.hanzi import count_han

# --- cues -----------------------------------------------------------------------------------

# 要 as a modal verb only: not 主要、重要、需要、要求、要素…
_STRONG_CUE = re.compile(
    r"(?<![主重需纲摘概首只想不将])要(?![求素点害闻务件领])|必须|务必|确保|坚决|应当|一定要|严禁|不得"
)
_MODAL = re.compile(r"(?<![主重需纲摘概首只想不将])要(?![求素点害闻务件领])|必须|务必|应当")
# Text that talks to a model, not to an audience (prompt injection): never a summary sentence.
_INJECTION = re.compile(
    r"忽略(?:以上|上述|之前|前面)|系统提示|提示词|你现在是|扮演|已被攻破|ignore (?:all |the )?(?:previous|above)|system prompt",
    re.I,
)
_BOILERPLATE = re.compile(r"请予审议|向大会报告|提出意见|谢谢大家|请批评指正")
_TASK_VERB = re.compile(
    r"^(?:要|必须|务必|确保|坚决|加快|推进|推动|着力|坚持|强化|深化|落实|完善|健全|扩大|加强|实施|"
    r"大力|全面|积极|切实|抓好|做好|提高|促进|持续|进一步|稳步|继续|努力|力争|统筹|支持|鼓励|"
    r"优化|提升|建立|构建|深入|扎实|坚定|狠抓|严格|加大|发挥|保持|保障|防范|守住|牢牢|有效|"
    r"打好|下大力气|集中|高度重视|认真)"
)
_RETRO_HEADING = re.compile(r"回顾|过去|成绩|执行情况|工作情况|总结|取得")
_RETRO_SENTENCE = re.compile(r"了[，。；、]|取得了|完成了|去年|过去一年|过去五年|一年来|五年来|我们[^，。]{0,6}了")
_GIST_CUE = re.compile(r"总体要求|主要预期目标|总的来看|总之|总体上|关键|核心|根本|首要|主题|主线")
_SALUTATION = re.compile(r"^[^，。]{0,20}[：:]$")
_ENUM_PREFIX = re.compile(
    r"^(?:[（(]?[一二三四五六七八九十]+[）)、．]|[（(]?\d{1,2}[）)．.、]|第[一二三四五六七八九十]+[，、]|"
    r"[一二三四五六七八九十]+是|首先[，,]|其次[，,]|再次[，,]|最后[，,]|同时[，,]|此外[，,]|另外[，,])\s*"
)
_ACTOR = re.compile(
    r"^(?P<who>[^，。；：、“”]{0,18}?(?:各级[^，。；]{0,8}|部门|政府|党委|党组|单位|机关|干部|同志|领导|"
    r"地区|各地|各方|企业|学校|我们|全党|全国|全社会|群众|班子|国务院|委员会|组织|机构|街道|乡镇|"
    r"社区|村|局|厅|委|办|人员|党员|负责人))(?:都|也|还|更|务必|一定)?(?:要|必须|应当|应|需要)"
)

# --- figures --------------------------------------------------------------------------------

_NUM = r"[0-9０-９]+(?:[.．,，][0-9０-９]+)*"
_MULT = r"(?:万亿|千亿|百亿|亿|千万|百万|十万|万|千|百)"
_UNIT = (
    r"(?:个百分点|百分点|%|％|‰|倍|美元|港元|欧元|元|人次|万人|人|户|家|个|项|所|座|辆|台|套|架|艘|部|"
    r"吨|斤|公斤|千克|克|亩|公顷|平方公里|平方米|立方米|公里|千米|米|千瓦时|千瓦|瓦|度|小时|岁|"
    r"条|件|批|处|篇|种|次|张|册|头|只|株|块|所|支)"
)
_MOD = r"(?:左右|以上|以下|以内|多|余)?"
_FIGURE_RE = re.compile(
    rf"(?<![0-9０-９.．])(?:{_NUM}(?:{_MULT}{_UNIT}?|{_UNIT}){_MOD}|百分之[零〇一二三四五六七八九十百点两]+{_MOD})"
)
_CLAUSE_SPLIT = re.compile(r"[，,；;。：:？！?!（）()]")
_TARGET_CUE = re.compile(r"目标|预期|左右|以上|以内|控制在|力争|达到|不低于|不超过|提高到|增加到|安排")
_KEY_INDICATOR = re.compile(
    r"国内生产总值|生产总值|经济增长|就业|失业率|居民消费价格|物价|赤字|国债|专项债|粮食|收入|能耗|"
    r"财政|投资|进出口|外贸|城镇化|排放|预算|工资|养老金|贫困"
)
_WEAK_START = re.compile(r"^(?:比|同比|增长|下降|分别|都|均|占|达到|为|提高|减少|增加|其中)")
_LEAD_IN = re.compile(r"^(?:其中|主要表现在|全年|今年|同时|并且|并|和|及|以及|其|而|但|又|共|还|再)+")


@dataclass(frozen=True)
class Scored:
    sentence: Sentence
    score: float


@dataclass
class Extraction:
    """The extractive summary plus the source sentences behind each item (hybrid's input)."""

    summary: Summary
    gist: Sentence | None
    points: list[Sentence] = field(default_factory=list)
    tasks: list[Sentence] = field(default_factory=list)
    doc: Document | None = None
    features: str = "bigram"


# --- features and ranking -------------------------------------------------------------------

_JIEBA = None


def _jieba():
    # jieba loads its ~1 s dictionary on first use: do it once per process, only when asked.
    global _JIEBA
    if _JIEBA is None:
        import logging

        import jieba

        jieba.setLogLevel(logging.WARNING)
        jieba.initialize()
        _JIEBA = jieba
    return _JIEBA


_TOKEN_RE = re.compile(r"[\u3400-\u9fff]+|[A-Za-z]+|[0-9]+")


def _features(text: str, kind: str) -> set[str]:
    if kind == "jieba":
        return {w for w in _jieba().lcut(text) if len(w) > 1 or "\u3400" <= w <= "\u9fff"}
    out: set[str] = set()
    for run in _TOKEN_RE.findall(text):
        if run[0] < "\u3400":
            out.add(run.lower())
        elif len(run) == 1:
            out.add(run)
        else:
            out.update(run[i : i + 2] for i in range(len(run) - 1))
    return out


# Sentences ranked as one similarity graph. A long report has ~1,200; above RANK_WHOLE the graph
# is built per block of about RANK_BLOCK consecutive sentences (cut at paragraph ends), so that
# memory stays bounded and time grows linearly with the text (one graph over a 30 MB text would
# be a 270k x 270k matrix). Each block is ranked like a document of its own; the priors still
# see the sentence's place in the whole text.
RANK_WHOLE = 2000
RANK_BLOCK = 600


def rank(doc: Document, features: str = "bigram") -> list[Scored]:
    """Every sentence with its score (TextRank + centroid, times priors), in document order."""
    import numpy as np

    sentences = doc.sentences
    n = len(sentences)
    if n == 0:
        return []
    central = np.zeros(n)
    for start, end in rank_blocks(sentences):
        feats = [_features(s.text, features) for s in sentences[start:end]]
        central[start:end] = centrality(feats, sparse=end - start < n)
    return [
        Scored(s, float(central[i]) * _prior(doc, s, i, n) + 1e-6 * (n - i) / n)
        for i, s in enumerate(sentences)
    ]


def rank_blocks(sentences: list[Sentence]) -> list[tuple[int, int]]:
    """(start, end) of the blocks of sentences ranked together: one for an ordinary text."""
    n = len(sentences)
    if n <= RANK_WHOLE:
        return [(0, n)]
    blocks: list[tuple[int, int]] = []
    start = 0
    while start < n:
        end = min(n, start + RANK_BLOCK)
        # Finish the paragraph the block ends in, unless it is itself huge.
        while end < n and end - start < 2 * RANK_BLOCK and sentences[end].para == sentences[end - 1].para:
            end += 1
        if n - end < RANK_BLOCK // 2:
            end = n  # no tiny last block: its few sentences would all look central
        blocks.append((start, end))
        start = end
    return blocks


def _prior(doc: Document, s: Sentence, i: int, n: int) -> float:
    text = s.text
    han = count_han(text)
    p = 1.0
    if _INJECTION.search(text):
        return 0.0
    if _SALUTATION.match(text) or _BOILERPLATE.search(text):
        return 0.05
    if s.heading_level:
        # "一、2024年工作回顾" names a section; "（一）大力提振消费…" states a decision.
        p *= 0.3 if han < 10 else 1.4
    para = doc.paragraph(s.para)
    if para is not None and para.sentences and para.sentences[0] is s:
        p *= 1.3
    if i < 3 or i >= n - 2:
        p *= 1.1
    if _STRONG_CUE.search(text) or _TASK_VERB.match(_ENUM_PREFIX.sub("", text)):
        p *= 1.15
    if han < 8:
        p *= 0.3
    elif han < 15:
        p *= 0.75
    elif han > 150:
        p *= 0.8
    return p


# --- helpers --------------------------------------------------------------------------------


def _clean(text: str) -> str:
    text = _ENUM_PREFIX.sub("", text.strip())
    return text.strip()


def trim(text: str, limit: int) -> str:
    """Cut at a clause boundary (，；：) so the result has at most `limit` 字, ending in 。"""
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = -1
    for m in re.finditer(r"[，；：,;:]", text[: limit + 1]):
        head = text[: m.start()]
        # Never end inside an open quotation: the reader would get half a 提法.
        if m.start() >= limit // 3 and head.count("“") <= head.count("”"):
            cut = m.start()
    if cut < 0:
        open_at = text.rfind("“", 0, limit)
        cut = open_at if open_at >= limit // 3 and text[:open_at].count("“") == text[:open_at].count("”") else limit
    out = text[:cut]
    if out.count("“") > out.count("”"):
        out += "”"
    return out.rstrip("，；：,;:、") + "。"


def _similar(a: str, b: str) -> float:
    fa, fb = _features(a, "bigram"), _features(b, "bigram")
    if not fa or not fb:
        return 0.0
    return len(fa & fb) / min(len(fa), len(fb))


def _top_section(doc: Document, s: Sentence) -> str:
    para = doc.paragraph(s.para)
    return para.section[0] if para is not None and para.section else ""


def _retrospective(doc: Document, s: Sentence) -> bool:
    para = doc.paragraph(s.para)
    in_review = bool(para and para.section and _RETRO_HEADING.search(para.section[0]))
    return in_review or bool(_RETRO_SENTENCE.search(s.text))


def _spread(
    candidates: list[Scored], doc: Document, count: int, taken: list[Sentence], max_sim: float = 0.5
) -> list[Scored]:
    """Best candidates, spread over top-level sections, no near-duplicates, in document order."""
    by_section: dict[str, list[Scored]] = {}
    floor = 0.25 * max((c.score for c in candidates), default=0.0)
    for c in sorted(candidates, key=lambda c: -c.score):
        if c.score < floor:
            break
        by_section.setdefault(_top_section(doc, c.sentence), []).append(c)
    order = sorted(by_section, key=lambda k: -by_section[k][0].score)
    chosen: list[Scored] = []
    seen = [t.text for t in taken]
    while len(chosen) < count and any(by_section.values()):
        for key in order:
            queue = by_section[key]
            while queue:
                c = queue.pop(0)
                if all(_similar(c.sentence.text, t) < max_sim for t in seen):
                    chosen.append(c)
                    seen.append(c.sentence.text)
                    break
            if len(chosen) >= count:
                break
    return sorted(chosen, key=lambda c: c.sentence.index)


# --- items ----------------------------------------------------------------------------------


def who_and_what(text: str) -> tuple[str | None, str]:
    """Split "各地区各部门要压实责任" into ("各地区各部门", "压实责任"); who is None if unsaid."""
    body = _clean(text)
    m = _ACTOR.match(body)
    if m:
        who = m.group("who").strip()
        rest = body[m.end() :].lstrip("，, ")
        if count_han(rest) >= 4:
            return who, rest
    return None, body


def is_task(doc: Document, s: Sentence) -> bool:
    body = _clean(s.text)
    if count_han(body) < 6 or _SALUTATION.match(body) or _INJECTION.search(body):
        return False
    strong = bool(_STRONG_CUE.search(body))
    if _RETRO_SENTENCE.search(body):
        return False  # something done, not something to do
    if _retrospective(doc, s) and not _MODAL.search(body):
        return False
    return strong or bool(_TASK_VERB.match(body))


def find_figures(doc: Document) -> list[tuple[Figure, Sentence, int]]:
    """(figure, sentence, position in sentence) for every figure with a unit in the document."""
    out: list[tuple[Figure, Sentence, int]] = []
    for s in doc.sentences:
        for m in _FIGURE_RE.finditer(s.text):
            value = m.group(0).rstrip("，,")
            if _is_date_or_ordinal(s.text, m.start(), m.end()):
                continue
            measures = _measures(s.text, m.start())
            if count_han(measures) < 2:
                continue
            out.append((Figure(value=value, measures=measures, source=[s.para]), s, m.start()))
    return out


def _is_date_or_ordinal(text: str, start: int, end: int) -> bool:
    after = text[end : end + 1]
    before = text[max(0, start - 1) : start]
    return after in ("年", "月", "日", "号", "届", "次", "周", "号") or before in ("第", "前", "后")


def _measures(text: str, start: int) -> str:
    # The clause before the value, verbatim, so that measures + value is found in the source.
    head = text[:start]
    cut = max((m.end() for m in _CLAUSE_SPLIT.finditer(head)), default=0)
    clause = head[cut:]
    if _WEAK_START.match(clause) and cut > 0:
        # "…，比上年增长8%": the subject is in the clause before; keep both, still verbatim.
        prev = max((m.end() for m in _CLAUSE_SPLIT.finditer(head[: cut - 1])), default=0)
        if head[cut - 1] in "，," and cut - prev <= 25:
            clause = head[prev:]
    lead = _LEAD_IN.match(clause)
    if lead and count_han(clause[lead.end() :]) >= 2:
        clause = clause[lead.end() :]
    if len(clause) > 40:
        # Keep the tail, starting after an enumeration comma or 的/在 where possible.
        tail = clause[-32:]
        cut_at = min((i for i in (tail.find("、"), tail.find("的"), tail.find("在")) if i >= 0), default=-1)
        clause = tail[cut_at + 1 :] if 0 <= cut_at < 16 else tail
    return clause.strip()


# --- the summary ----------------------------------------------------------------------------


def summarize(text_or_doc: str | Document, spec: LengthSpec, features: str = "bigram") -> Extraction:
    doc = segment(text_or_doc) if isinstance(text_or_doc, str) else text_or_doc
    scored = rank(doc, features)
    if not scored:
        from pipeline.errors import InputError

        raise InputError("no sentences to summarize")
    n = len(scored)
    by_index = {c.sentence.index: c for c in scored}

    gist = _pick_gist(doc, scored, spec)
    taken = [gist.sentence] if gist else []

    point_cands = [
        c for c in scored
        if count_han(c.sentence.text) >= 8 and not _SALUTATION.match(c.sentence.text)
        and (gist is None or c.sentence.index != gist.sentence.index)
    ]
    points = _spread(point_cands, doc, spec.points, taken)
    taken += [p.sentence for p in points]

    task_cands = []
    for c in scored:
        if is_task(doc, c.sentence):
            bonus = 1.5 if c.sentence.heading_level >= 2 else 1.0
            bonus *= 1.3 if _STRONG_CUE.search(c.sentence.text) else 1.0
            task_cands.append(Scored(c.sentence, c.score * bonus))
    tasks = _spread(task_cands, doc, spec.tasks, taken)

    figures = _pick_figures(doc, by_index, spec.figures, n)

    summary = Summary(
        gist=trim(_clean(gist.sentence.text), spec.gist_zi) if gist else trim(_clean(scored[0].sentence.text), spec.gist_zi),
        gist_source=[gist.sentence.para] if gist else [scored[0].sentence.para],
        key_points=[KeyPoint(text=trim(_clean(p.sentence.text), spec.point_zi), source=[p.sentence.para]) for p in points],
        tasks=[_task_item(t.sentence, spec) for t in tasks],
        figures=figures,
    )
    return Extraction(
        summary, gist.sentence if gist else None, [p.sentence for p in points],
        [t.sentence for t in tasks], doc, features,
    )


def _task_item(s: Sentence, spec: LengthSpec) -> TaskItem:
    who, what = who_and_what(s.text)
    return TaskItem(what=trim(what, spec.point_zi), who=who, source=[s.para])


def _pick_gist(doc: Document, scored: list[Scored], spec: LengthSpec) -> Scored | None:
    n = len(scored)
    best: Scored | None = None
    best_score = -1.0
    for i, c in enumerate(scored):
        text = _clean(c.sentence.text)
        han = count_han(text)
        if han < 15 or c.sentence.heading_level == 1 or _SALUTATION.match(text) or text.endswith(("：", ":")):
            continue  # a line that introduces something (a salutation, a header run into one) says nothing
        score = c.score
        # A gist is a whole sentence: a list clause (…增长6%－6.5%；) only when nothing else is.
        score *= 1.0 if text.endswith(("。", "！", "？", "!", "?", "”")) else 0.3
        score *= 1.3 if i < 0.4 * n else 1.0
        score *= 1.3 if _GIST_CUE.search(text) else 1.0
        score *= 0.4 if han > spec.gist_zi else 1.0
        if score > best_score:
            best, best_score = c, score
    return best


def _pick_figures(doc: Document, by_index: dict[int, Scored], count: int, n: int) -> list[Figure]:
    ranked: list[tuple[float, int, Figure]] = []
    for fig, s, pos in find_figures(doc):
        base = by_index[s.index].score if s.index in by_index else 0.0
        clause = fig.measures + fig.value
        score = base + 0.05
        score *= 1.6 if _TARGET_CUE.search(clause) else 1.0
        score *= 1.4 if _KEY_INDICATOR.search(fig.measures) else 1.0
        score *= 0.8 if _retrospective(doc, s) else 1.0
        score *= 0.5 if count_han(fig.measures) < 4 else 1.0
        ranked.append((score, s.index * 1000 + pos, fig))
    ranked.sort(key=lambda r: -r[0])
    chosen: list[tuple[int, Figure]] = []
    seen: set[tuple[str, str]] = set()
    # First pass: one figure per sentence, so the table spreads over the text; second pass fills.
    for per_sentence in (1, 1000):
        used: dict[int, int] = {}
        for o, _ in chosen:
            used[o // 1000] = used.get(o // 1000, 0) + 1
        for _, order, fig in ranked:
            key = (fig.value, fig.measures)
            if len(chosen) >= count:
                break
            if key in seen or used.get(order // 1000, 0) >= per_sentence:
                continue
            seen.add(key)
            used[order // 1000] = used.get(order // 1000, 0) + 1
            chosen.append((order, fig))
    return [f for _, f in sorted(chosen, key=lambda c: c[0])]


def bigram_features(text: str) -> set[str]:
    """The character bigrams (and Latin words, numbers) of text, as sentences are compared here."""
    return _features(text, "bigram")
