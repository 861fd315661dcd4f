"""HMP over QMP: QEMU's human monitor commands run through QMP alone.

``table`` holds the HMP command table (names, ``args_type`` specs and usage
lines, written from QEMU's ``hmp-commands.hx`` and ``hmp-commands-info.hx``),
``args`` parses an HMP line by those specs, ``commands`` and ``info`` translate
a parsed line into QMP calls, ``replies`` turns the replies into text, and
``engine`` runs a line for the shell (or passes it to ``human-monitor-command``).
``coverage`` prints which HMP commands a server can run over QMP.

Layer: beside the shell (it may import the output views, the schema and the
language; the shell imports it lazily, only when an HMP line runs, so a QMP
one-shot never loads these tables).
"""
