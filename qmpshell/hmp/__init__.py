"""HMP over QMP: QEMU's human monitor commands run through QMP alone.

- ``table``: the HMP command table (names, ``args_type`` specs, usage lines),
  written from QEMU's ``hmp-commands.hx`` and ``hmp-commands-info.hx``;
- ``args``: an HMP line parsed by those specs (flags, sizes, on/off, QemuOpts);
- ``plan``, ``commands``, ``info``, ``chardev``, ``snapshots``: the translations
  into QMP calls, and ``replies``: the replies as the text people read;
- ``engine``: one line routed (over QMP, answered by qmpshell, or passed to
  ``human-monitor-command``) and run; ``session``: what the shell keeps for it;
- ``helptext``, ``complete``, ``coverage``: ``help``, Tab completion and the
  ``--hmp-coverage`` report.

Layer: between the shell and the output views; it may import the views, the
protocol and the language.  The shell imports it only when an HMP line runs,
so a QMP one-shot never loads these tables.
"""
