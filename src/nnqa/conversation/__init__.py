"""Conversation: one chat with the tutor: questions, follow-ups, "quiz me", "show me", "more".

Owns a conversation's state and replies (`chat`) and recognising what a message asks for
(`intents`). Leaves out: answering (it calls the tutor), grading and scheduling (it calls
the quiz), rendering (see `nnqa.render`) and any UI (see `nnqa.faces`).
"""
