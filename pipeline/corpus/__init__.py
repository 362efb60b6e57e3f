"""The corpus of example speeches: ingest collection pages into one Markdown file per speech.

Flow: read (pipeline.text.textio) → split collection pages (split) → strip site boilerplate (clean) →
join paragraphs broken by page layout (repair) → find salutation, closing, headings (structure)
→ record placeholders (pipeline.text.placeholders) → label genre/occasion/speaker/audience (classify) →
refuse duplicates (dedup) → write corpus/<id>.md (store). `ingest` composes the steps.

Other engineers use:
    from pipeline.corpus.store import load_corpus        # -> list[SpeechRecord]
    from pipeline.corpus.models import SpeechRecord
    from pipeline.text.placeholders import find_placeholders, mask_placeholders
"""

__all__: list[str] = []  # import the modules themselves (see above)
