"""Build the shipped material bank from the government work reports.

    python -m pipeline.material.build [REPORTS.jsonl] [-o pipeline/material/data/reports.jsonl.xz]

The input is one JSON object a line with `title`, `content` and `year` (the 52 reports of the
State Council, 1954–2025; their NPC resolutions without a year are left out). State-organ
documents are in the public domain (Article 5 of the PRC Copyright Law), so the units ship with
the package: users have no copy of the source data.
"""

from __future__ import annotations

import argparse
import json
import lzma
import sys
import time
from pathlib import Path

from pipeline.material.units import Unit, units_from_text

_ROOT = Path(__file__).resolve().parents[2]
# ../shared/ beside the checkout (a worktree sits one level deeper).
_CANDIDATES = [up / "shared" / "data" / "government_work_reports.jsonl" for up in (_ROOT.parent, _ROOT.parent.parent)]
DEFAULT_SOURCE = next((c for c in _CANDIDATES if c.is_file()), _CANDIDATES[0])
BANK_FILE = Path(__file__).resolve().parent / "data" / "reports.jsonl.xz"


def report_text(content: str) -> str:
    """The report with page-layout breaks mended (经\n​\n济金融 → 经济金融), one paragraph a line."""
    from pipeline.corpus.clean import normalize_chars
    from pipeline.corpus.repair import repair_text

    return "\n".join(repair_text(normalize_chars(content)).paragraphs)


def report_units(path: Path) -> list[Unit]:
    """Units of every report with a year in the file."""
    units: list[Unit] = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            row = json.loads(line)
            year = row.get("year")
            if not year or not str(year).isdigit():
                continue
            units += units_from_text(
                report_text(row["content"]), source=f"{year}年政府工作报告", origin="bank", year=int(year),
                prefix=f"gwr-{year}",
            )
    return units


def write_bank(units: list[Unit], out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    with lzma.open(tmp, "wt", encoding="utf-8", preset=6) as fh:
        for u in units:
            row = {k: v for k, v in u.to_dict().items() if v not in ([], "", None)}
            fh.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n")
    tmp.replace(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", nargs="?", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("-o", "--output", type=Path, default=BANK_FILE)
    args = parser.parse_args(argv)
    if not args.source.is_file():
        print(f"build: {args.source}: no such file", file=sys.stderr)
        return 2
    start = time.perf_counter()
    units = report_units(args.source)
    write_bank(units, args.output)
    paragraphs = sum(1 for u in units if u.kind == "paragraph")
    years = sorted({u.year for u in units if u.year})
    print(f"{len(units)} units ({paragraphs} paragraphs, {len(units) - paragraphs} sentences) from "
          f"{len(years)} reports → {args.output} ({args.output.stat().st_size // 1024} KiB) in "
          f"{time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
