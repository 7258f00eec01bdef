"""Manufacturing Copilot capstone kit: the grading engine, the lab grader suites and instructor tooling."""

__version__ = "0.1.0"
