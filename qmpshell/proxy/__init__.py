"""``--proxy LISTEN UPSTREAM``: many QMP clients through one upstream connection, their traffic watched.

The top of the layers below ``cli``: it may use the front-ends (the shell the
user types into while clients talk) and everything under them; nothing
imports it but ``cli``, and only for ``--proxy``.
"""
