"""The output layer: replies, events and errors turned into text for scripts and people.

For scripts: ``render`` (JSON lines, indented JSON) and ``safe`` (control characters).
For people: ``views`` picks the first view that fits a reply (``machine``, ``block``,
``pci``, then the ``generic`` ones), falling back to indented JSON; views are pure
functions producing ``rows`` of ``(style, text)`` laid out by ``table`` and ``tree``;
``events`` makes the compact event lines; ``text`` writes rows for a terminal or a pipe.

It may import ``schema``, ``protocol``, ``language`` and the base; never ``shell`` or a
front-end, and nothing here imports prompt_toolkit.
"""
