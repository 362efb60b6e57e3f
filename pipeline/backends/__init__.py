"""Backends: the only modules that reach a model. See base.Backend for the contract."""

from pipeline.backends.base import Backend, ChatRequest, ChatResponse, Message, Usage

__all__ = ["Backend", "ChatRequest", "ChatResponse", "Message", "Usage"]
