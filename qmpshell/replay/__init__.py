"""Record, replay, convert: logs of QMP traffic read back, replayed against a server, written as scripts.

Sits beside ``dryrun`` and ``targets``: it may use the shell, the batch
printer, the schema and the protocol; nothing below imports it, and the
one-shot path never loads it.
"""
