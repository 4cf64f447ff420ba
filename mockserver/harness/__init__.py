"""Contract testing: the same suites against the mock or any deployment."""
