"""Which packages the wheel holds; everything else is in pyproject.toml.

`specs/`, `fixtures/` and `contract_tests/` stay top-level folders of the
repository, and installed they are subpackages of `mockserver.bundled`.
pyproject.toml cannot list found packages and mapped ones together, so both
are listed here: a new subpackage of `mockserver` is found without an edit.
"""

from setuptools import find_packages, setup

BUNDLED = {f"mockserver.bundled.{folder}": folder for folder in ("specs", "fixtures", "contract_tests")}

setup(packages=[*find_packages(include=["mockserver", "mockserver.*"]), *BUNDLED], package_dir=BUNDLED)
