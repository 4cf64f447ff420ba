"""The contract suites: this folder is the package `mockserver.bundled.contract_tests` (see setup.py)."""
