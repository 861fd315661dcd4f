"""The schema layer: what ``query-qmp-schema`` says, and everything built on it.

The index, its on-disk cache, type-directed values, help text, completion suggestions and live
values. It may import ``protocol``, ``language`` and the base; never output or a front-end.
"""
