"""Atlassian Document Format shared by the app and the sandbox: HTML rendering, Markdown conversion, size."""

from app.adf.size import MAX_DESCRIPTION, description_size

__all__ = ["MAX_DESCRIPTION", "description_size"]
