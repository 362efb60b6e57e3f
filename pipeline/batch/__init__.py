"""Many jobs in one resumable run (`speechsmith batch`), locally or through the OpenAI Batch format.

    jobs.py          read JOBS.jsonl into Job records (bad lines become error jobs, never a crash)
    results.py       the append-only, crash-safe OUT.jsonl (one atomic line per job; resume)
    limits.py        requests/tokens per minute and adaptive concurrency on 429
    runner.py        run jobs through pipeline.tasks with a pool of worker threads
    progress.py      the progress line on stderr
    openai_batch.py  export request lines / import result lines (OpenAI Batch API, vllm run-batch)
"""

__all__: list[str] = []  # import the modules themselves (see above)
