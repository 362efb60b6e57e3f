"""Backends: the only modules that reach a model (the contract is `pipeline.model.types.Backend`).

    local.py           the embedded GGUF model through llama-cpp-python
    openai_backend.py  any OpenAI-compatible endpoint
    cassette.py        record / replay of another backend's replies (evals, CI)
    fake.py            scripted replies for tests
    metered.py         paces another backend's calls under a batch run's rate limits
    export.py          counts tokens but never calls (building OpenAI Batch request files)
    llama_vocab.py     token ids the embedded model's sampling controls need (numerals, line ends)
    cpu.py             how many threads the embedded model gets: the cores free now
"""

__all__: list[str] = []
