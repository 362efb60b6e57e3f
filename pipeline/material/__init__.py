"""The material bank (素材库): how edited texts already say a thing, to look up and adapt.

    units (paragraphs and sentences, labelled) → index (BM25, cached) → search

The bank ships with the package (pipeline/material/data/reports.jsonl.xz, units of the 52
government work reports 1954–2025, public domain; rebuild with `python -m
pipeline.material.build`); the user's own speeches come in through `corpus add` and are
indexed on first use after every change.

Other engineers use:
    from pipeline.material import open_library
    hits = open_library(corpus_dir).search("压实安全生产责任", function="要求", n=8)
    hits[0].unit.text, hits[0].unit.source, hits[0].unit.year
"""

from pipeline.material.label import FUNCTIONS, function_of, label_sentence
from pipeline.material.library import Hit, Library, load_bank, normalize_function, open_library
from pipeline.material.units import Unit, units_from_record, units_from_text

__all__ = [
    "FUNCTIONS",
    "Hit",
    "Library",
    "Unit",
    "function_of",
    "label_sentence",
    "load_bank",
    "normalize_function",
    "open_library",
    "units_from_record",
    "units_from_text",
]
