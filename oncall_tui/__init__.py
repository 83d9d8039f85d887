"""mlcall-tui: a terminal UI for on-call engineers of production ML systems."""

__version__ = "0.1.0"
