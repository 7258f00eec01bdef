"""Sub-commands of the ``capstone`` CLI, one module each."""
