"""Answering: the judgement over a ranking: quote a card, add related ones, or abstain.

Owns the `Answer` and `Hit` a learner reads (`answer`), the policy that turns ranked cards
into an answer (`policy`), and reading a message in the light of the conversation it
belongs to (`followup`). Leaves out: ranking (see `nnqa.search`), grading typed answers
(see `nnqa.grading`), a conversation's state and intents (see `nnqa.conversation`).
"""
