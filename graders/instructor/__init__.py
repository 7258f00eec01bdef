"""Instructor tooling: build the student template from the reference solution, render it, verify the graders."""
