"""One module per external system. Each returns models, never JSON."""
