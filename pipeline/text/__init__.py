"""Text primitives shared by every task: reading files, 字 counting, facts, placeholders.

    hanzi.py    字 counting, paragraphs and sentences of Chinese text, speaking time
    textio.py   reading .txt .md .docx .html files and stdin
    facts.py    figures, dates, quotes and names in a text, and which of them a source supports
    numbers.py  Chinese numerals and the comparison keys of figures, dates and percentages
    numbering.py  numbered headings (一、 （一） 1. 第一部分) and leading list numbers, defined once
    placeholders.py  what a placeholder is (xx, 20xx, □, 某某, 【单位名称】…): the one detector
    audience.py   the kind of audience a 称呼 or an audience addresses; the kind of occasion
"""

__all__: list[str] = []
