"""Helpers several test folders share: data builders, servers, the kill -9 trial machinery.

Plain functions and classes only; the fixtures built on them are in the conftest.py files.
"""
