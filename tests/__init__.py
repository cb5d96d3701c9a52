"""WindowWatch's tests: one folder per package (tests/ingest/ tests ingest/, and so on).

Every folder is a package, so a test module is `tests.<folder>.test_<what>` and helpers are
imported from `tests.support` the same way everywhere. Fixtures live in the conftest.py of the
folder whose tests use them (tests/conftest.py for those several folders share).
"""
