"""The repository's top-level `specs/`, `fixtures/` and `contract_tests/`, as the wheel carries them.

setup.py maps each folder to a subpackage of this one, so an installed
mockserver (editable or from its wheel) finds them with importlib.resources
and never through a source checkout.
"""
