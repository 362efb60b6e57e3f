"""Real input as a user pastes it: news-site furniture kept out of the body, what the text
states about itself (title, speaker, occasion, date, genre) taken from it, and a block without
paragraph breaks split into passages by sentence and topic."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pipeline.text.hanzi import count_zi, han_bigrams, split_paragraphs, split_sentences

# 新华社北京12月31日电 / 人民网北京3月5日电（记者 王某）/ 本报讯
_DATELINE_RE = re.compile(
    r"(?:新华社|中新社|中新网|人民网|央视网|新华网|光明网|[\u4e00-\u9fff]{2,6}(?:日报|晚报|网|社|电视台))"
    r"(?:[\u4e00-\u9fff]{2,5})?(\d{1,2}月\d{1,2}日)电(?:[（(](?:记者|通讯员)[^）)]{1,30}[）)])?\s*"
    r"|本报讯(?:[（(][^）)]{1,30}[）)])?\s*"
)
_FULLTEXT_RE = re.compile(r"(?:讲话|贺词|致辞|报告|发言|讲话稿)?全文如下[：:]?\s*")
_PHOTO_RE = re.compile(r"[（(][^（）()\n]{0,40}?摄[）)]|(?:新华社)?记者[ \t\u3000]?[\u4e00-\u9fff]{2,4}[ \t\u3000]?摄")
_EDITOR_RE = re.compile(
    r"[【\[（(]?[ \t\u3000]*(?:责任编辑|责编|编辑|校对|审核|监制|作者|记者|来源)[ \t\u3000]*[：:][ \t\u3000]*[^ \t\u3000\n】\]）)。]{1,20}[ \t\u3000]*[】\]）)]?"
)
_SITE_RE = re.compile(r"[（(]完[）)]|【纠错】|分享到[：:]?|字号[：:]?[ \t\u3000]*大[ \t\u3000]*中[ \t\u3000]*小|打印本页|关闭窗口"
                      r"|发布时间[：:][ \t\u3000]*[\d\-: 年月日]{8,20}")
# ——在第十四届全国人民代表大会第三次会议上 / （2025年3月5日）/ 国务院总理 李强
_SUBTITLE_RE = re.compile(r"^\s*[—－-]{1,2}\s*(.{0,12}?)在(.{2,40}?)上(?:的(?:讲话|致辞|发言|报告))?\s*$")
_DATE_LINE_RE = re.compile(r"^\s*[（(]?((?:\d{4}|[〇零一二三四五六七八九]{4})年\d{1,2}月\d{1,2}日)[）)]?\s*$")
_TITLES = (
    "国家主席|中共中央总书记|总书记|国务院总理|国务院副总理|总理|副总理|委员长|省委书记|市委书记|县委书记"
    "|区委书记|党委书记|省长|副省长|市长|副市长|县长|副县长|区长|主席|书记|局长|校长|院长|部长|董事长|主任"
)
_SPEAKER_LINE_RE = re.compile(rf"^\s*((?:{_TITLES})\s*[\u4e00-\u9fff]{{2,3}})\s*$")
_SPEAKER_RE = re.compile(
    rf"((?:[\u4e00-\u9fff]{{0,8}}?)(?:{_TITLES}))([\u4e00-\u9fff]{{2,3}}?)"
    r"(?=通过|在|发表|出席|主持|作|代表|致辞|讲话|表示)"
)
_AS_SPEAKER_RE = re.compile(rf"作为([\u4e00-\u9fff]{{2,16}}?)(?:现任|新任)?({_TITLES})[，,]?我")
_GENRES = (
    ("贺词", r"贺词|新春贺辞|新年献词"),
    ("报告", r"工作报告|报告政府工作|述职报告"),
    ("表态发言", r"表态发言"),
    ("发言", r"发言"),
    ("致辞", r"致辞|欢迎辞|贺辞|祝酒辞"),
    ("座谈会讲话", r"座谈会上的讲话"),
    ("讲话", r"讲话"),
)
_MEETING_RE = re.compile(
    r"(?:会议|大会|座谈会|动员会|推进会|部署会|常委会|办公会|表彰会|交流会|培训会|报告会|全会|例会|见面会|恳谈会)$"
)
_SALUTATION_WORDS = ("同志", "领导", "来宾", "朋友", "乡亲", "代表", "老师", "同学", "先生", "女士", "员工", "嘉宾")


@dataclass
class Intake:
    """The body to restyle and what the text says about itself."""

    body: str
    title: str = ""
    speaker: str = ""
    occasion: str = ""
    date: str = ""
    genre: str = "讲话"
    lead: str = ""  # the news lead before 全文如下 (already third person)
    furniture: list[str] = field(default_factory=list)  # what was kept out of the body
    header: list[str] = field(default_factory=list)  # ——在…上 / （date） / speaker lines: the 题注
    split_blocks: int = 0  # blocks without paragraph breaks that were split into passages

    @property
    def is_meeting(self) -> bool:
        return is_meeting(self.occasion)

    def to_dict(self) -> dict[str, object]:
        return {
            "title": self.title, "speaker": self.speaker, "occasion": self.occasion, "date": self.date,
            "genre": self.genre, "meeting": self.is_meeting, "lead": self.lead,
            "furniture": self.furniture, "header": self.header, "split_blocks": self.split_blocks,
        }


def _take(pattern: re.Pattern[str], text: str, kept: list[str]) -> str:
    def drop(m: re.Match[str]) -> str:
        kept.append(m.group(0).strip())
        return ""
    return pattern.sub(drop, text)


def read_input(text: str, title: str = "") -> Intake:
    """Separate furniture from the body and read the text's own title, speaker, date, genre."""
    furniture: list[str] = []
    text = _take(_SITE_RE, text, furniture)
    text = _take(_PHOTO_RE, text, furniture)
    text = _take(_EDITOR_RE, text, furniture)
    info = Intake(body="", title=title)
    m = _DATELINE_RE.search(text)
    if m and m.start() < 200:
        furniture.append(m.group(0).strip())
        before = text[: m.start()].strip()
        if before and not info.title and count_zi(before) <= 40 and not re.search(r"[。！？]", before):
            info.title = before  # a headline pasted in front of the dateline
            before = ""
        info.date = m.group(1) or ""
        text = (before + "\n" if before else "") + text[m.end():]
    m = _FULLTEXT_RE.search(text)
    if m and m.start() < 400:
        lead = text[: m.start()].strip()
        furniture.append(m.group(0).strip())
        lines = split_paragraphs(lead)
        if lines and not info.title and len(lines) > 1 and count_zi(lines[0]) <= 40 and not re.search(r"[。！？]", lines[0]):
            info.title, lines = lines[0], lines[1:]
        info.lead = "".join(lines)
        text = text[m.end():]
    lines = split_paragraphs(text)
    lines = _header_lines(lines, info)
    info.furniture = furniture
    for source in (info.lead, info.title):
        if not info.speaker:
            found = _SPEAKER_RE.search(source or "")
            if found:
                info.speaker = found.group(1) + found.group(2)
    if not info.speaker:  # 作为彬县人民政府现任县长，我…
        found = _AS_SPEAKER_RE.search("\n".join(lines[:12]))
        if found:
            info.speaker = found.group(1) + found.group(2)
    # the genre is what the title or the news lead calls the text; the body only by its own
    # formulas (向大会报告政府工作), never by what it mentions (……又作了表态发言)
    info.genre = (find_genre(info.title) if _genre_named(info.title) else
                  find_genre(info.lead) if _genre_named(info.lead) else
                  "报告" if re.search(r"向大会报告|报告政府工作", "".join(lines[:3])) else "讲话")
    if not info.occasion:
        m = re.search(r"在(.{2,30}?)上的[^，。]{0,6}?(?:讲话|发言|致辞|报告)", info.title + info.lead)
        if m:
            info.occasion = m.group(1)
        elif info.genre == "贺词":
            m = re.search(r"((?:[〇零一二三四五六七八九]{4}|\d{4})年)?新(?:年|春)", info.title + info.lead)
            info.occasion = (m.group(1) or "") + "新年" if m else "新年"
    body_lines: list[str] = []
    for line in lines:
        if count_zi(line) > 240 and len(split_sentences(line)) > 4:
            info.split_blocks += 1
            body_lines += split_block(line)
        else:
            body_lines.append(line)
    info.body = "\n".join(body_lines)
    return info


def _header_lines(lines: list[str], info: Intake) -> list[str]:
    """Title, ——在…上 subtitle, （date） and speaker lines at the top of a published text."""
    out: list[str] = []
    for i, line in enumerate(lines):
        if i >= 5 or out:
            out.append(line)
            continue
        sub = _SUBTITLE_RE.match(line)
        date = _DATE_LINE_RE.match(line)
        who = _SPEAKER_LINE_RE.match(line)
        if sub:
            info.occasion = sub.group(2)
            d = re.search(r"(?:\d{4}|[〇零一二三四五六七八九]{4})年\d{1,2}月\d{1,2}日", sub.group(1) + line)
            info.date = info.date or (d.group(0) if d else "")
        elif date:
            info.date = info.date or date.group(1)
        elif who:
            info.speaker = re.sub(r"\s+", "", who.group(1))
        elif i == 0 and not info.title and count_zi(line) <= 40 and not re.search(r"[。！？，：:]", line):
            info.title = line
            continue
        else:
            out.append(line)
            continue
        info.header.append(line)
    return out


def is_meeting(occasion: str) -> bool:
    """Whether an occasion is a meeting (会议、大会、座谈会、动员会…): minutes need one."""
    return bool(occasion and _MEETING_RE.search(occasion))


def _genre_named(text: str) -> bool:
    return any(re.search(pattern, text or "") for _, pattern in _GENRES)


def find_genre(text: str) -> str:
    for genre, pattern in _GENRES:
        if re.search(pattern, text):
            return genre
    return "讲话"


# a new topic often starts with one of these (过去一年…, 新的一年…, 一是…, 同时…)
_TOPIC_START = re.compile(
    r"^(?:过去一年|这一年|一年来|今年|明年|新的一年|当前|下一步|回顾|展望|首先|其次|再次|最后|同时|此外|另外|"
    r"第[一二三四五六七八九十]|[一二三四五六七八九十]是|[一二三四五六七八九十]、|[（(][一二三四五六七八九十][）)]|"
    r"\d{4}年是|我们要|希望|让我们|各位|同志们|朋友们|在此|借此|此时此刻)"
)
_ENUMERATED = re.compile(r"^(?:第[一二三四五六七八九十][，、]|[一二三四五六七八九十]是|[一二三四五六七八九十]、|[（(][一二三四五六七八九十][）)])")
_GREETING_RE = re.compile(r"^(?:大家|各位)?(?:上午|下午|晚上)?好[！!。]$")


def split_block(block: str, low: int = 80, high: int = 260) -> list[str]:
    """A block without paragraph breaks as paragraphs: salutation and greeting on their own,
    then passages of ~80–260 字 broken where a new topic starts (else where adjacent
    sentences share the fewest bigrams), and the closing thanks / wishes on their own."""
    sents = split_sentences(block)
    head: list[str] = []
    if sents:
        first = sents[0]
        sal = re.match(r"^([^。！？：:]{2,40}[：:！!])", first)
        if sal and any(w in sal.group(1) for w in _SALUTATION_WORDS) and count_zi(sal.group(1)) < count_zi(first):
            # 同志们、朋友们！大家好！ → salutation line, greeting line
            head.append(sal.group(1)[:-1] + "：")
            sents[0] = first[sal.end():].strip()
        elif sal and any(w in first for w in _SALUTATION_WORDS) and first.endswith(("：", ":", "！", "!")):
            head.append(first[:-1] + "：")
            sents = sents[1:]
    while sents and _GREETING_RE.match(sents[0]):
        head.append(sents.pop(0))
    tail: list[str] = []
    while sents and (re.match(r"^(?:谢谢(?:大家|各位)?|再见)[！!。]$", sents[-1])
                     or (count_zi(sents[-1]) <= 40 and re.match(r"^(?:最后，?)?(?:衷心|真诚)?(?:祝|祝愿|恭祝)", sents[-1]))):
        tail.insert(0, sents.pop())
    paras: list[list[str]] = []
    size = 0
    for i, sent in enumerate(sents):
        n = count_zi(sent)
        boundary = (not paras or (size >= low and _TOPIC_START.match(sent)) or size + n > high
                    or (size >= 30 and _ENUMERATED.match(sent)))
        if paras and not boundary and size >= low and i + 1 < len(sents):
            boundary = _cohesion(paras[-1][-1], sent) < 0.05 and _cohesion(sent, sents[i + 1]) >= 0.05
        if boundary:
            paras.append([sent])
            size = n
        else:
            paras[-1].append(sent)
            size += n
    return [p for p in head if p] + ["".join(p) for p in paras if p] + ["".join(tail)] * bool(tail)


def _cohesion(a: str, b: str) -> float:
    x, y = han_bigrams(a), han_bigrams(b)
    return len(x & y) / max(1, min(len(x), len(y)))
