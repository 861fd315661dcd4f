"""The output layer: replies, events and errors turned into text for scripts and people.

It may import ``schema``, ``protocol``, ``language`` and the base; never ``shell`` or a
front-end, and nothing here imports prompt_toolkit.
"""
