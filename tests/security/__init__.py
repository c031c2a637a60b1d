"""Regression tests for attacks and hostile inputs (issue 16), one file per threat."""
