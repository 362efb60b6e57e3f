"""Errors that reach the user as one line on stderr, each with its exit code.

Exit codes (shared by every command):
0 ok, 1 a check failed (with --strict) or an eval assertion failed,
2 usage or input error (bad file, bad YAML, dead endpoint, replay miss, bad suite),
3 an eval regression against the baseline.
"""

from __future__ import annotations


class SpeechsmithError(Exception):
    """An expected failure: the message is shown as is, without a traceback."""

    exit_code = 2

    def __init__(self, message: str, *, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class InputError(SpeechsmithError):
    """A file, brief, suite or flag the user gave cannot be used."""


class ConfigError(SpeechsmithError):
    """The configuration file or environment is invalid."""


class BackendError(SpeechsmithError):
    """The model could not be reached or refused the request (after retries)."""


class BudgetExceeded(SpeechsmithError):
    """A --max-cost / --max-tokens cap or the context window would be passed."""


class ValidationFailed(SpeechsmithError):
    """The model's output never matched the schema; carries the last raw output."""

    def __init__(self, message: str, *, raw: str = "", errors: list[str] | None = None) -> None:
        super().__init__(message)
        self.raw = raw
        self.errors = errors or []


class CheckFailed(SpeechsmithError):
    """A check found an error-level problem and --strict was given."""

    exit_code = 1


def yaml_error_where(exc: Exception) -> str:
    """' line N' (1-based) where a YAML parser gave up, or '' when it gave no position."""
    mark = getattr(exc, "problem_mark", None)
    return f" line {mark.line + 1}" if mark else ""
