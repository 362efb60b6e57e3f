"""Label a speech from its content: genre (体裁), occasion (场合), speaker, audience, title.

Rules over cue words, not the page's title: the seed page calls all seven speeches
"创建文明城市领导讲话", but one is a graduate's talk to pupils and one a flood-relief appeal.
Every label is a guess a user may correct in the corpus file; `corpus add --update` keeps those
corrections (see ingest.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.corpus.structure import Front
from pipeline.text.placeholders import mask_placeholders

# (genre, [(cue, weight)]). The highest total wins; ties go to the earlier genre.
_GENRE_CUES: tuple[tuple[str, tuple[tuple[str, int], ...]], ...] = (
    ("政府工作报告", (
        (r"向(?:本次)?大会(?:报告|作|提出).{0,30}(?:工作|报告)|作政府工作报告|报告政府工作", 12),
        (r"代表(?:中华人民共和国)?国务院|受.{0,12}国务院的?委托|代表中央人民政府|代表中央人民政府", 6),
        (r"政府工作报告|政府工作報告", 3),
    )),
    ("工作报告", (
        (r"代表.{1,12}(?:委员会|人民政府|常委会).{0,12}(?:向大会|作).{0,8}报告", 8),
        (r"请予审议|請予審議", 4),
    )),
    ("表态发言", (
        (r"表示坚决拥护|坚决拥护和支持|坚决拥护", 6), (r"我谨代(?:表)?", 3),
        (r"表态", 2), (r"我们将(?:努力)?(?:做好以下|从以下|着重)", 4), (r"我们将", 1),
        (r"请(?:各位领导)?放心", 3), (r"确保(?:圆满)?完成", 1),
        (r"感谢组织的?信任|组织的信任和培养|走上新的(?:工作)?岗位|新的工作岗位", 3),
    )),
    ("述职报告", ((r"述职", 6), (r"现将.{0,20}(?:履职|工作)情况.{0,6}汇报", 4))),
    ("募捐动员讲话", (
        (r"募捐", 5), (r"捐款|捐助|捐赠", 2), (r"献爱心|伸出援助之手|奉献爱心|爱心", 2),
        (r"灾区|灾民|受灾", 2),
    )),
    ("经验交流发言", (
        (r"交流.{0,4}经验|经验交流|分享.{0,6}经验", 6), (r"学弟学妹|学弟|学妹", 3),
        (r"毕业生", 2), (r"我的(?:一点)?体会|几点体会|心得", 2),
    )),
    ("论坛致辞", (
        (r"论坛|峰会|研讨会|博览会|年会", 4), (r"相聚|共话|共商", 2),
        (r"表示热烈(?:的)?欢迎|热烈欢迎", 1),
    )),
    ("欢迎致辞", (
        (r"莅临", 4), (r"表示热烈(?:的)?欢迎|热烈欢迎", 3), (r"致以.{0,4}敬意", 2),
        (r"欢迎.{0,10}(?:到来|光临)", 3),
    )),
    ("开幕致辞", ((r"开幕式|隆重开幕|宣布.{0,10}开幕", 6),)),
    ("表彰大会讲话", ((r"表彰大会|受到表彰|先进集体和先进个人|颁奖", 4),)),
    ("会议总结讲话", ((r"圆满完成了?(?:各项)?(?:预定)?议程|会议即将结束|这次会议开得", 5),)),
    ("座谈会讲话", ((r"召开.{0,30}座谈会|这次座谈会|今天的座谈会", 6),)),
    ("工作会议讲话", (
        (r"召开.{0,30}工作(?:会议|推进会|部署会)|这次(?:工作)?会议的(?:主要)?任务", 5),
        (r"讲几点意见|讲(?:几|三|四|五)点(?:意见)?", 2),
    )),
    ("动员大会讲话", (
        (r"动员大会|动员会|誓师大会", 5), (r"动员报告", 4), (r"动员(?:全|广大|各级)", 2),
        (r"讲几点意见|讲(?:几|三|四|五)点|再做些强调|强调几点", 3), (r"目标责任书", 2),
        (r"召开.{0,30}(?:动员|部署)", 2),
    )),
)
_FALLBACK_GENRE = "讲话"
# A speech says what it is near its start ("今天召开…动员大会", "向大会作政府工作报告"); cues deep
# inside a 20,000-字 report (a 募捐 mentioned in passing) must not outvote the opening.
_OPENING = 1500

_ROLE = r"(?:县长|市长|省长|区长|乡长|镇长|局长|书记|主任|主席|部长|厅长|校长|院长|总经理|董事长|所长|处长|科长)"
_MEETING = (
    r"(?:动员大会|动员会|誓师大会|表彰大会|推进会|部署会|座谈会|现场会|交流会|总结会|"
    r"工作会议|大会|会议|论坛|峰会|研讨会|培训班|开班式|开幕式)"
)


@dataclass
class Labels:
    genre: str
    occasion: str | None
    speaker: str | None
    audience: str | None
    title: str


def classify(text: str, *, salutation: str | None = None, front: Front | None = None,
             fallback_title: str | None = None) -> Labels:
    """Labels for one speech. Placeholders never end up inside a label."""
    front = front or Front()
    plain = mask_placeholders(text[:_OPENING], mask="")
    genre = guess_genre(plain, printed_title=front.title, file_title=fallback_title)
    occasion = front.occasion or guess_occasion(plain, genre)
    speaker = front.speaker or guess_speaker(plain, genre)
    audience = guess_audience(plain, salutation, genre)
    title = _title(front, genre, occasion, fallback_title)
    return Labels(genre=genre, occasion=occasion, speaker=speaker, audience=audience, title=title)


def genre_scores(text: str) -> dict[str, int]:
    scores: dict[str, int] = {}
    for genre, cues in _GENRE_CUES:
        score = 0
        for cue, weight in cues:
            hits = len(re.findall(cue, text))
            score += weight * min(hits, 3)  # a cue repeated ten times is still one cue
        scores[genre] = score
    return scores


def guess_genre(text: str, *, printed_title: str | None = None, file_title: str | None = None) -> str:
    """The best-scoring genre. A title printed above the speech ("政府工作报告") names its genre;
    a file name is weaker evidence, used only when the content says little."""
    scores = genre_scores(text)
    best = max(scores.values())
    printed = next((g for g, _ in _GENRE_CUES if printed_title and g in printed_title), None)
    if printed:
        return printed
    named = next((g for g, _ in _GENRE_CUES if file_title and g in file_title), None)
    if named and (best < 4 or scores[named] == best):
        return named
    if best < 4:
        return _FALLBACK_GENRE
    return next(g for g, _ in _GENRE_CUES if scores[g] == best)


def guess_occasion(text: str, genre: str) -> str | None:
    if genre in ("政府工作报告", "工作报告"):
        # The session the report is made to, not one it looks back on ("…会议以来的五年").
        m = re.search(
            r"(?:向|在|这次|本次)(第[^，。、]{1,6}届全[国國]人民代表大[会會]第[^，。、]{1,4}次[会會][议議])"
            r"(?:上|作|報告|报告|提出)?", text,
        )
        return m.group(1) if m else "全国人民代表大会会议"
    m = re.search(r"(?:本次|这次|此次|本届)?(论坛|峰会|研讨会|年会)以“([^”]{2,30})”为主题", text)
    if m:
        return f"“{m.group(2)}”{m.group(1)}"
    m = re.search(rf"召开(?:了|的)?(?:这次|本次)?([^，。；：！？“”]{{2,30}}?{_MEETING})", text)
    if m:
        return m.group(1)
    m = re.search(r"作了?([^，。；！？]{2,20}?)的?动员报告", text)
    if m:
        return re.sub(r"的$", "", m.group(1)) + "动员大会"
    m = re.search(r"举办(?:这个|这次|本次|此次)?([^，。；！？]{2,30}?(?:活动|论坛|峰会|研讨会))", text)
    if m:
        return m.group(1)
    m = re.search(r"([^，。；！？、\n]{2,24}?)(?:隆重|胜利|正式)?开幕", text)
    if m and genre == "开幕致辞":
        return re.sub(r"^(?:在|今天|值此|在这)[^，。]{0,8}?时节，?", "", m.group(1)).rstrip("了") + "开幕式"
    m = re.search(r"([^，。；！？：:\n]{2,16}?)莅临[^，。；\n]{0,6}?(?:进行|开展|检查|指导|考察|调研)([^，。；！？\n]{2,20})", text)
    if m:
        visitor = re.sub(r"^(?:今天|今日|近日)", "", m.group(1)).replace("各位领导", "")
        return f"{visitor}{m.group(2)}".replace("进行", "")
    if genre == "经验交流发言":
        school = re.search(r"是([\u4e00-\u9fff]{2,10}?(?:中学|小学|学校|大学|学院))", text)
        return f"{school.group(1) if school else ''}学习经验交流会"
    m = re.search(rf"在(?:这次|本次)?([^，。；！？]{{2,30}}?{_MEETING})上", text)
    if m:
        return m.group(1)
    return None


def guess_speaker(text: str, genre: str) -> str | None:
    m = re.search(rf"作为([^，。；]{{2,20}}?){_ROLE}", text)
    if m:
        role = re.search(_ROLE, text[m.end() - 4: m.end()])
        return m.group(1).replace("现任", "") + (role.group(0) if role else "")
    m = re.search(r"是([\u4e00-\u9fff]{2,10}?(?:中学|小学|学校|大学|学院))[^，。]{0,8}?毕业生", text)
    if m:
        return f"{m.group(1)}毕业生"
    m = re.search(r"我谨?代(?:表)?([^，。；]{2,12}?)(?:表示|向|对)", text)
    if m and genre == "表态发言":
        return f"{m.group(1)}代表"
    if re.search(r"代表中央人民政府", text) and genre == "政府工作报告":
        return "政务院总理"
    if re.search(r"我(?:现在)?代表(?:中华人民共和国)?国务院", text) or genre == "政府工作报告":
        return "国务院总理"
    m = re.search(rf"刚才[^，。；]{{0,10}}?副({_ROLE})", text)
    if m:
        return f"{m.group(1)[0]}主要领导" if m.group(1)[0] in "局县市省区乡镇" else f"{m.group(1)}"
    m = re.search(r"听取了[^，。；]{0,10}?代表(市|县|区|省)(?:人民)?政府", text)
    if m:
        return f"{m.group(1)}领导"
    m = re.search(r"我谨?代表([^，。；、]{2,12}?)(?:和(?!国)|、|对|向|，)", text)
    if m:
        return f"{m.group(1)}领导"
    m = re.search(r"([乡镇县市区])党委(?:、)?政府举办", text)
    if m:
        return f"{m.group(1)}党委政府领导"
    return None


def guess_audience(text: str, salutation: str | None, genre: str) -> str | None:
    m = re.search(r"([市县省区]审计组)", text)
    if m and genre == "欢迎致辞":
        return m.group(1)
    if "学弟学妹" in text or (salutation and "同学" in salutation):
        return "中学生（学弟学妹）和老师" if "老师" in (salutation or "") else "学生"
    if genre == "政府工作报告" or (salutation and "代表" in salutation and "全国人民代表大会" in text):
        return "全国人民代表大会代表"
    m = re.search(r"(全[局处系厂校院县市区乡镇](?:干部职工|干部群众|党员干部))", text)
    if m:
        return m.group(1)
    m = re.search(r"出席(论坛|会议|大会)的各位领导、各位来宾", text)
    if m:
        return f"出席{m.group(1)}的领导和来宾"
    if not salutation:
        return None
    s = re.sub(r"^(?:尊敬的|亲爱的)", "", salutation.rstrip("：:！!，,"))
    parts = [re.sub(r"^(?:尊敬的|亲爱的|各位)", "", p) for p in re.split(r"[、，,]", s) if p]
    parts = [re.sub(r"们$", "", p) for p in parts if p]
    if parts == ["同志"]:
        return "与会同志"
    return "、".join(dict.fromkeys(parts)) or None


def _title(front: Front, genre: str, occasion: str | None, fallback: str | None) -> str:
    if front.title:
        year = (front.date or "")[:4]
        return f"{year}年{front.title}" if year and not front.title.startswith(year) else front.title
    if fallback:
        return fallback
    if not occasion:
        return genre
    # "在…动员大会上的讲话", "在…论坛上的致辞": the occasion already says what kind of meeting.
    kind = genre
    ending = next((e for e in ("讲话", "致辞", "发言", "报告") if genre.endswith(e)), None)
    if ending and (genre[: -len(ending)] in occasion or "大会" in genre or "会议" in genre):
        kind = ending
    return f"在{occasion}上的{kind}"
