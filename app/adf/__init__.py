"""Atlassian Document Format shared by the app and the sandbox: HTML rendering and Markdown conversion."""
