"""speechsmith: Chinese official speeches with language models.

Flow (one direction): text in -> select -> render prompt -> call the model -> parse -> check -> render out.
The layout follows it; see README "How it works".
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
