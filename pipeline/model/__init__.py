"""The model layer: the one door to a language model.

    types.py     ChatRequest / ChatResponse / Message / Usage and the Backend contract
    client.py    Client: prompts in, validated replies out (re-asks, budgets, cache, run log)
    cache.py     the on-disk response cache
    runlog.py    the JSONL run log of every call
    connect.py   a Client from the settings and the command line
    tokens.py    token counting for OpenAI-style models
    backends/    the backends themselves
"""

__all__: list[str] = []
