"""nnqa."""
