"""Evaluation: measure nnqa against labelled data; never imported by the runtime.

Owns reading labelled JSON-lines files and scoring retrieval (`retrieval`), grading
(`grading`), conversations (`conversations`) and intents (`intents`). `python -m nnqa.eval`
runs every report (`nnqa eval` too). Leaves out: everything it measures (it only calls
the public API).
"""
