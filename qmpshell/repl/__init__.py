"""The interactive front-end: a full-screen prompt_toolkit application over one ``Shell``.

The only package that imports prompt_toolkit. It may import ``shell`` and every layer below it
(output, schema, protocol, language, base), never ``batch`` or ``cli``.
"""
