"""Faces: the ways a person reaches nnqa: the command line and the web app.

Owns argument parsing and printing (`cli`), the web handlers (`web`) and the web layout
(`webapp`); the only modules that import gradio are `web` and `webapp`. Each handler is a
few lines over the Python API. Leaves out: every decision about cards, answers, grades
and schedules (the layers below).
"""
