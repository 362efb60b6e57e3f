"""Q: text no reader could use as it stands — another language, garbled words, a clause cut off.

Q101: a run of three or more Latin-script words in a Chinese text (各乡镇、各部门要We must always
think about…). Abbreviations (GDP, 5G, PM2.5, APEC) are single words and pass.
Q102: a model's control token left in the text (<start_of_image>), 的的 (not 的的确确 or 目的的), a two-字 word said twice in a row (落实落实; not the spoken
doubling 研究研究, nor 一步一步), 了了 (not 不了了之).
Q103: the text or a section that stops on ，、 or on a word that needs its object (和, 的, 要,
把…); Q104 (warning): a long last paragraph without a closing mark, or a paragraph stopping
mid-clause before a short line (hard-wrapped pages do that: 振兴教育事业， then 一要).
Q105: a sentence that works against its own aim (优化营商环境，就是要使企业的生存和发展水平由高至
低): an aim word (优化, 提升, 就是要…) with a result that lowers what every speech wants raised
(发展水平, 竞争力, 获得感…). Hedged sentences (防止, 避免, 如果…) say what to avert and pass; over
the 52 reports and the corpus the rule finds nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from pipeline.check.base import CheckConfig, Doc, Finding, Severity, checker, finding, rule
from pipeline.text.hanzi import CONTROL_TOKEN

Q101 = rule("Q101", "non-chinese", Severity.error,
            "a sentence or clause in Latin script (three or more words) inside the Chinese text")
Q102 = rule("Q102", "garbled", Severity.error,
            "garbled words: 的的, a word doubled (落实落实), 了了")
Q103 = rule("Q103", "unfinished", Severity.error,
            "a paragraph that stops mid-clause (on ，、 or on 和/的/要/把…)")
Q104 = rule("Q104", "no-end-mark", Severity.warning,
            "a long paragraph without a closing mark (。！？…), perhaps cut off")

Q105 = rule("Q105", "self-contradiction", Severity.error,
            "a sentence whose result undoes its aim (优化…使发展水平由高至低)")

_LATIN_RUN = re.compile(r"[A-Za-z][A-Za-z'’\-]*(?:[ \t,.;:!?，]+[A-Za-z][A-Za-z'’\-]*){2,}[.!?]?")
_DE_DE = re.compile(r"(?<!目)的的(?!确)")
_LE_LE = re.compile(r"(?<!不)了了(?!之)")
_DOUBLED = re.compile(r"([\u4e00-\u9fff]{2})\1")
# spoken doublings a leader may well say (研究研究), and 一X一X (一步一步, 一件一件)
_DOUBLING_OK = re.compile(
    r"^(?:一.|研究|学习|讨论|商量|考虑|琢磨|打听|活动|锻炼|休息|检查|比较|思考|交流|体验|总结|认识|了解|"
    r"看看|想想|议论|说道|关心|放松|明白|清楚|高兴|热闹|干净|整齐|轰轰|踏实|实在|仔细|漂亮|"
    r"哈哈|呵呵|嘻嘻|滴答|叮咚|咚咚|哗啦|扎实)$"
)
_EMPHATIC = set("很好多越又再最太真")  # 很紧很紧, 越来越…: doubling for emphasis
_ENDS = "。！？!?…”’」』）)》】；;：:"
_DANGLING = re.compile(r"(?:[，、,]|(?<![\u4e00-\u9fff]{2}[之总])[和与及或并把对向将被的要在])$")
_HEADING_LIKE = re.compile(r"^(?:[一二三四五六七八九十]+[、.．]|（[一二三四五六七八九十0-9]+）|第[一二三四五六七八九十]+[部章节条]|[0-9]+[.、．])")
# Q105: what a speech wants raised, what lowers it, the aim that makes lowering it a contradiction
_GOOD = (r"(?:生存和发展水平|发展水平|生活水平|发展质量|竞争力|竞争能力|活力|满意度|获得感|幸福感|安全感|"
         r"积极性|经济效益|社会效益)")
_DOWN = r"(?:由高至低|由高到低|由好变坏|下降|降低|减少|变差|恶化|萎缩|下滑|减弱|削弱)"
_LOWERS = re.compile(rf"(?:使|让|令|促使)[^。；！？，]{{0,14}}{_GOOD}[^。；！？，]{{0,4}}{_DOWN}"
                     rf"|(?:降低|减少|削弱|损害|拉低)[^。；！？，]{{0,6}}{_GOOD}")
_AIM = re.compile(r"优化|提升|提高|促进|推动|加强|增强|改善|就是要|目的|为了")
_HEDGE = re.compile(r"如果|势必|防止|避免|不能|不得|不要|以免|不会|绝不|决不|不致|导致|造成")
_SHORT = 30  # a line this short without an end mark is a title, heading, date or greeting


def _hanzi_share(text: str) -> float:
    han = sum(1 for c in text if "\u4e00" <= c <= "\u9fff")
    return han / max(1, len(text))


@checker(Q101, Q102, Q103, Q104, Q105)
def check_textual(doc: Doc, config: CheckConfig) -> Iterator[Finding]:
    chinese = _hanzi_share(doc.text) > 0.3
    if config.enabled("Q105"):
        yield from _contradictions(doc)
    for para in doc.paragraphs:
        text = para.text
        if chinese and config.enabled("Q101"):
            for m in _LATIN_RUN.finditer(text):
                a = para.start + m.start()
                yield finding(doc, "Q101", f"Latin-script text “{m.group(0)[:40]}” in a Chinese speech: "
                              "the model switched language; rewrite it in Chinese", a, a + len(m.group(0)))
        if config.enabled("Q102"):
            yield from _garbled(doc, para.start, text)
        if _HEADING_LIKE.match(text) or len(text) <= _SHORT or text.endswith(tuple(_ENDS)):
            continue
        following = doc.paragraphs[para.number] if para.number < len(doc.paragraphs) else None
        dangling = _DANGLING.search(text)
        if following is None or _HEADING_LIKE.match(following.text):
            # the text or its section ends here: a dangling clause was cut off
            if dangling and config.enabled("Q103"):
                yield finding(doc, "Q103", f"the paragraph stops on “{text[-1]}”: the clause is "
                              "unfinished", para.end - 1, para.end)
            elif config.enabled("Q104"):
                yield finding(doc, "Q104", "no closing mark at the end of the paragraph: was it cut "
                              "off?", para.end - 1, para.end)
        elif dangling and len(following.text) <= _SHORT and config.enabled("Q104"):
            # 振兴教育事业， then 一要 on its own line: a hard-wrapped list, or a cut; only a warning
            yield finding(doc, "Q104", f"the paragraph stops on “{text[-1]}”: does the next line "
                          "really continue it?", para.end - 1, para.end)


def _contradictions(doc: Doc) -> Iterator[Finding]:
    for _, start, end, sent in doc.sentences():
        m = _LOWERS.search(sent)
        if m and _AIM.search(sent) and not _HEDGE.search(sent):
            yield finding(doc, "Q105", f"“{m.group(0)}” works against the sentence's own aim: the model "
                          "wrote the opposite of what it meant; rewrite or remove it", start, end)


def _garbled(doc: Doc, offset: int, text: str) -> Iterator[Finding]:
    hits = [(m.start(), m.end(), m.group(0)) for m in _DE_DE.finditer(text)]
    hits += [(m.start(), m.end(), m.group(0)) for m in CONTROL_TOKEN.finditer(text)]
    hits += [(m.start(), m.end(), m.group(0)) for m in _LE_LE.finditer(text)]
    for m in _DOUBLED.finditer(text):
        word = m.group(1)
        if word[0] == word[1] or word[0] in _EMPHATIC or _DOUBLING_OK.match(word):
            continue  # 天天天天 is two 天天; 研究研究 is spoken doubling; 很多很多 is emphasis
        if _is_doubled_word(text, m.start(), word):
            hits.append((m.start(), m.end(), m.group(0)))
    for a, b, piece in sorted(hits):
        yield finding(doc, "Q102", f"garbled: “{piece}”", offset + a, offset + b)


def _is_doubled_word(text: str, at: int, word: str) -> bool:
    """Is word really said twice (落实落实), not two words meeting (产业创业创新 -> 业创业创)?
    jieba segments a few 字 around it (loaded only when a candidate turns up)."""
    import jieba  # slow to load: only here, for the rare candidate

    a = max(0, at - 4)
    tokens = list(jieba.cut(text[a : at + 2 * len(word) + 4], HMM=False))
    return any(tokens[i] == word and tokens[i + 1] == word for i in range(len(tokens) - 1))


__all__ = ["Q101", "Q102", "Q103", "Q104", "Q105", "check_textual"]
