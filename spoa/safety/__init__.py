"""The clinical safety case (DCB0129): the hazard log as data, its risk matrix, the tie between
each control and the tests that verify it, and the safety case report.

Modules: `hazard_log` (load and check docs/safety/hazards.yml, the DCB0129 matrix),
`coverage` (which tests carry which `@pytest.mark.hazard` marker, read from the test files),
`report` (the report in Markdown and HTML from the log and a JUnit XML test run).
"""
