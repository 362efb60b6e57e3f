"""speechsmith: Chinese official speeches with language models.

Flow (one direction): text in -> select -> render prompt -> call backend -> parse -> check -> render out.
"""

__version__ = "0.1.0"
