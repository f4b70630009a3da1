"""Evidence of copied work across a class, beyond byte-identical folders (docs/batch.md, "Similar work").

``prints`` fingerprints one submission while the batch holds it unpacked (code: MOSS-style winnowing of
normalised tokens, in ``code``; weights: per-tensor sketches read with ``torch.load(weights_only=True)``,
in ``weights``); ``compare`` pairs the class after grading and writes ``OUT/similarity.json``. Reads
files only: runs no student code, deducts no points.
"""
