"""Rendering results for people: text, Markdown, JSON and .docx, and tables of findings.

    speech.py    a Speech as text / md / json / docx (公文 layout)
    summary.py   a Summary as text / md (with ¶ sources) / json
    findings.py  check findings as a table and their counts
    dry_run.py   the requests a task would send, with token counts
"""

__all__: list[str] = []
