"""Near-synonyms of official phrasing: one way of saying a thing finds the others.

A writer searching 压实安全生产责任 wants 落实安全生产责任制 too, and 摸排 finds 排查. Each
group is a set of words an official text uses interchangeably in the same slot; a query word of
a group adds the others at a lower weight (SYNONYM_WEIGHT), so the exact phrasing still ranks
first.
"""

from __future__ import annotations

SYNONYM_WEIGHT = 0.4

GROUPS: tuple[tuple[str, ...], ...] = (
    ("压实", "落实", "夯实", "压紧", "抓实", "靠实"),
    ("排查", "摸排", "排摸", "检查", "巡查"),
    ("整治", "治理", "整改", "整顿"),
    ("隐患", "风险"),
    ("推进", "推动", "促进"),
    ("加强", "强化", "加大"),
    ("优化", "改善", "提升", "完善"),
    ("营商环境", "市场环境", "投资环境", "发展环境"),
    ("防汛", "防洪", "抗洪", "汛期", "洪涝"),
    ("抗旱", "旱情", "干旱"),
    ("乡村振兴", "三农", "农业农村", "新农村"),
    ("人居环境", "村容村貌", "农村环境"),
    ("作风", "四风", "形式主义", "官僚主义"),
    ("廉政", "廉洁", "反腐败", "党风廉政"),
    ("纪律", "规矩", "纪法"),
    ("群众", "人民", "百姓", "老百姓"),
    ("企业", "市场主体", "经营主体"),
    ("生态", "环保", "环境保护", "绿色"),
    ("污染", "排放", "蓝天", "碧水", "净土"),
    ("退役军人", "军人", "优抚", "拥军", "军属"),
    ("招商引资", "吸引外资", "引进外资", "利用外资", "招商"),
    ("就业", "稳岗", "创业"),
    ("科技创新", "自主创新", "创新驱动", "研发"),
    ("食品", "药品", "食品药品"),
    ("基层", "社区", "村级", "乡镇"),
    ("安全生产", "生产安全", "安全事故", "重特大事故"),
)


def expansions(query: str) -> list[tuple[list[str], list[str]]]:
    """For every group a query word belongs to: (the group's words in the query, the others)."""
    out = []
    for group in GROUPS:
        present = [w for w in group if w in query]
        if present:
            out.append((present, [w for w in group if w not in query]))
    return out
