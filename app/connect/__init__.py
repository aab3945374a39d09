"""Atlassian Connect: the query string hash, the inbound token verifiers, lifecycle and the descriptor."""
