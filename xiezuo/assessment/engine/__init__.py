"""The pure assessment engine: fact schemas, frameworks, the indicator library, scoring.

Nothing here imports Django (a test asserts it): the engine reads Arrow tables (from the database
or from a snapshot) and returns plain data, so that it runs the same on a laptop, in a test
without a database, and on a Spark cluster over the snapshots (docs/adr/0013).
"""
