"""The annual assessment (考核): facts, snapshots, frameworks as data, the engine and its results.

``engine/`` is pure (no Django); the rest of the app feeds it from the database and writes its
results back (DESIGN.md D15).
"""
