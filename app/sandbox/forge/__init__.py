"""The sandbox's Forge mode: Forge's side of Forge Remote (invocation tokens, OAuth tokens, their keys)."""
