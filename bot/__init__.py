"""Nudge: messenger chatbot and sales-funnel engine."""

__version__ = "0.1.0"
