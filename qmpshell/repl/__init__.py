"""The interactive full-screen front-end (the only user of prompt_toolkit)."""
