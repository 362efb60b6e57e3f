"""Strip what a web page adds around a speech: intros addressed to readers, collection titles,
licence footers, zero-width characters and stray spaces inside Chinese text.

Every rule removes whole paragraphs (or a footer from its first line to the end), never words
inside a sentence, so a rule that misfires drops a paragraph a reviewer can see in `--verbose`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_SPACES = " \t\u3000\xa0\u2002\u2003\u2009\u202f"

# An intro or outro addressed to the page's readers. One strong cue is enough.
_STRONG = re.compile(
    r"小编|范文网|下面是.{0,12}(?:为大家|给大家|为您)(?:收集|整理|带来|分享|精心)"
    r"|希望(?:可以|能够|能)?(?:帮助到|对)(?:有需要的朋友|大家|您|你)(?:有所帮助|有帮助)?"
    r"|以上(?:就是|是).{0,20}(?:范文|全部内容|相关内容)|仅供参考|欢迎阅读|欢迎借鉴|欢迎大家阅读"
    r"|(?:点击|扫码|立即)下载|下载(?:本文|文档|全文)|免责声明|版权(?:归|属于)原作者|如有侵权"
)
# Weak cues: common in reader intros, but a speech may also say one of them.
_WEAK = re.compile(
    r"范文|参考借鉴|供大家参考|写作|作文|文章|每个人都曾|怎么写|格式|模板|"
    r"有需要的朋友|一起来看看|一起来学习|相信很多人"
)
# "2023年创建文明城市领导讲话(大全7篇)", "…范文（通用5篇）", "…精选范文3篇"
_COLLECTION_TITLE = re.compile(
    r"[（(【\[]\s*(?:大全|通用|精选|优秀|热门|推荐|最新|合集|汇编|集锦|范文)?\s*[0-9一二三四五六七八九十]+\s*篇\s*[)）】\]]"
    r"|(?:范文|例文|讲话稿|发言稿|致辞)(?:大全|精选|汇编|合集|集锦)|[0-9一二三四五六七八九十]+篇(?:范文|合集|大全)"
)
# Wikisource licence boxes under the government work reports, and their template debris.
_FOOTER_START = re.compile(
    r"^(?:本作品(?:是|来自|在|属于|不适用)|注：中文维基文库|"
    r"Public domain$|本模板所指|此作品(?:在|属于).{0,20}公有领域|字库未存字注释)"
)
_EDGE = 3  # reader intros and outros sit in the first or last few paragraphs
_MAX_BOILERPLATE = 300  # characters; a longer paragraph is speech even if it says 仅供参考
_FOOTER_JUNK = re.compile(r"^(?:Public domain|false|true|PD-\S+)$", re.I)
_HAN = r"\u3400-\u4dbf\u4e00-\u9fff"
_CJK_GAP = re.compile(rf"(?<=[{_HAN}0-9０-９，。、；：！？“”（）《》])[ \u3000\xa0]+(?=[{_HAN}0-9０-９，。、；：！？“”（）《》])")


@dataclass
class Cleaned:
    text: str
    dropped: list[str] = field(default_factory=list)  # what went, for review


def normalize_chars(text: str) -> str:
    """Drop zero-width characters; newlines to '\\n'; strip the end of every line."""
    text = text.translate(_ZERO_WIDTH).replace("\r\n", "\n").replace("\r", "\n")
    return "\n".join(line.rstrip(_SPACES) for line in text.split("\n"))


def is_reader_boilerplate(paragraph: str) -> bool:
    """True for a paragraph written to the site's readers rather than to the audience."""
    p = paragraph.strip(_SPACES)
    if not p or len(p) > _MAX_BOILERPLATE:
        return False
    if _STRONG.search(p):
        return True
    return len(set(_WEAK.findall(p))) >= 3


def is_collection_title(paragraph: str) -> bool:
    p = paragraph.strip(_SPACES)
    return len(p) <= 60 and "。" not in p and bool(_COLLECTION_TITLE.search(p))


def strip_footer(text: str) -> tuple[str, str]:
    """Cut a licence footer (first footer line to the end); return (text, footer)."""
    lines = text.split("\n")
    seen = 0  # characters before this line: a footer needs a text above it
    for i, raw in enumerate(lines):
        line = raw.strip(_SPACES)
        if _FOOTER_START.match(line) and seen >= 50:
            return "\n".join(lines[:i]).rstrip(), "\n".join(lines[i:]).strip()
        seen += len(line)
    # Template debris alone ("Public domain", "false") at the very end.
    end = len(lines)
    while end > 0 and (not lines[end - 1].strip() or _FOOTER_JUNK.match(lines[end - 1].strip())):
        end -= 1
    return "\n".join(lines[:end]).rstrip(), "\n".join(lines[end:]).strip()


def close_cjk_gaps(line: str) -> str:
    """'文明创建人 是关键' -> '文明创建人是关键'; '1 9 9 3 年' -> '1993年'. Latin words keep spaces."""
    return _CJK_GAP.sub("", line)


def clean_page(text: str) -> Cleaned:
    """Page-level cleaning: characters, licence footer, collection titles, reader intros."""
    dropped: list[str] = []
    text, footer = strip_footer(normalize_chars(text))
    if footer:
        dropped.append(footer)
    # A line of indentation only is a blank line: it separates paragraphs. An indent before
    # text is kept (as 　　): repair reads it as the start of a typeset paragraph.
    lines = []
    for raw in text.split("\n"):
        line = close_cjk_gaps(raw.strip(_SPACES))
        lines.append("\u3000\u3000" + line if line and raw[:1] in _SPACES else line)
    filled = [i for i, line in enumerate(lines) if line]
    edges = set(filled[:_EDGE]) | set(filled[-_EDGE:])
    kept: list[str] = []
    for i, line in enumerate(lines):
        bare = line.lstrip(_SPACES)
        if bare and (
            is_collection_title(bare)
            or (i in edges and is_reader_boilerplate(bare))
            or ("小编" in bare and len(bare) <= _MAX_BOILERPLATE)
        ):
            dropped.append(bare)
            continue
        kept.append(line)
    return Cleaned(text="\n".join(kept).strip("\n"), dropped=dropped)


_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")
_MD_EMPHASIS = re.compile(r"(\*\*|__)(.+?)\1")
_MD_QUOTE = re.compile(r"^\s{0,3}>\s?")


def strip_markdown(text: str) -> str:
    """Plain text of a Markdown speech: no front matter, '#' marks, bold or quote marks.
    Lists and numbering stay: '一、' and '1.' are the speech's own words."""
    lines = text.split("\n")
    if lines and lines[0].strip() == "---":
        end = next((i for i in range(1, len(lines)) if lines[i].strip() in ("---", "...")), None)
        if end is not None:
            lines = lines[end + 1:]
    out = []
    for line in lines:
        m = _MD_HEADING.match(line)
        if m:
            line = m.group(1)
        line = _MD_QUOTE.sub("", line)
        out.append(_MD_EMPHASIS.sub(r"\2", line))
    return "\n".join(out)
