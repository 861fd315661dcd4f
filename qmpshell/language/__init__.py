"""The language layer: the shorthand's one tokenizer, statement assembly, parsing into requests.

Also HMP line helpers and secret redaction. Pure text in, requests out: it imports only the
base (``errors``, ``config``), never sockets, the schema, output or a front-end.
"""
