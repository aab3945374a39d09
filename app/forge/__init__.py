"""Atlassian Forge Remote: the second front of the app (manifest, invocation tokens, tenants, tokens for Jira)."""
