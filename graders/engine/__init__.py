"""The grading engine: lab metadata, the pytest plugin, the result model, batches and mutants."""
