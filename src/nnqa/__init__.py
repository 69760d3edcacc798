"""nnqa: a study companion for neural networks."""
