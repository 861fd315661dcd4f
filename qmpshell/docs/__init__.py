"""QEMU's own documentation of its QMP commands, read from the user's machine when first asked for.

Sources: the QMP reference manual installed with QEMU (troff, two layouts: QEMU
7.x-9.x and 10.x), or a QEMU source tree's ``qapi/*.json`` doc comments
(``--qapi-dir``).  Every reader produces the same ``Manual`` (``model``); the
``render`` module joins it to the live schema for ``/help``.  This layer sits
beside the schema, above it (it imports the schema index and the language) and
below the shell; nothing here is imported at start-up.
"""
