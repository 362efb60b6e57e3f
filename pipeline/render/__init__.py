"""Rendering results for people: text, Markdown, JSON and .docx, and tables of findings.

    speech.py    a Speech as text / md / json / docx (公文 layout)
    findings.py  check findings as a table and their counts
"""

__all__: list[str] = []
