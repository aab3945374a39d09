"""Pure types and rules of the product; imports nothing else from the app."""
