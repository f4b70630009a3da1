"""Heavy networks of our own for ``heavy`` and ``compute``: each module defines ``Net`` and imports only
torch, so it is copied as is into a generated submission as ``student/models.py``.

- ``naimish``: NaimishNet-sized, ~44 M parameters, almost all in its first Linear layer.
- ``fullres``: ~5 M parameters, three unstrided 3x3 convolutions at the full 224x224 resolution.
"""
