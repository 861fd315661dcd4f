"""The protocol layer: where the server is, bytes to QMP messages, the synchronous client.

Also ``--launch``, the message log and the events kept for ``/wait``; a new transport
lives here beside the socket one. It may import ``language`` (to redact secrets) and the base
(``errors``, ``config``), never the schema, output or a front-end.
"""
