"""Study: spaced-repetition review of the cards, one learner at a time.

Owns the quiz session (`quiz`: pick the next card, grade, rate, schedule with FSRS) and the
learner's progress file (`store`: SQLite, versioned). Leaves out: grading itself (see
`nnqa.grading`) and any user interface (see `nnqa.faces`, `nnqa.conversation`).
"""
