"""Follow-ups: answer a message in the light of the conversation it belongs to.

Owns deciding whether a message leans on the conversation ("what causes it?", "why does
that help?", "and how is an LSTM different?") and turning it into a standalone query
about the conversation's topic, keeping the message's aspect (cause, fix, effect, steps).
No generation: the topic is the card the conversation was last answered from, and a
message that leans on it is re-read with the topic's name in place of "it"/"that".

The decision, in order (text only, see `resolve`):

1. A message with no subject words of its own ("what causes it?", "why?", "effects?",
   "how do I fix that") is about the topic card: the card is kept, the section follows
   the message's aspect (or, for "why does that help?", the section last quoted).
2. A message with its own subject and a pronoun ("does it happen in RNNs too?") is ranked
   with the topic's name in place of the pronoun; the ranking picks the card.
3. A message with its own subject and no pronoun ("ok, what is dropout?") is a new
   question, answered on its own; an elliptical one ("and for exploding gradients?")
   carries over the aspect of the turn before.

Leaves out: ranking (see `nnqa.search.retrieval`, passed in as `retriever`), intents such as "quiz me" (see `intents`), and
the conversation's state (see `chat`, which keeps the topic between messages).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from ..decks.cards import Card
from ..decks.cardtext import subject_of
from ..search.query import ASPECTS, aspect_of, is_small_talk
from ..search.retrieval import CardScore
from ..text import prefix
from .policy import ABSTAIN_BELOW

__all__ = ["Topic", "Resolution", "resolve", "own_words", "follow", "topic_of"]

HISTORY_TURNS = 8  # earlier messages read to find the topic (one ranking each)

# Pronouns and deixis that point back at the topic. "that" is handled apart (it is also a
# conjunction: "the function that computes the loss").
_POINTERS = {"it", "its", "it's", "itself", "they", "them", "their", "these", "those", "this"}
# After these words "that" points back ("why does that help", "how to fix that").
_BEFORE_DEICTIC_THAT = {
    "does", "do", "did", "is", "was", "are", "fix", "fixes", "cause", "causes", "causing",
    "solve", "prevent", "avoid", "about", "explain", "with", "for", "of", "on", "to", "why",
    "how", "and", "help", "helps", "mean", "means", "use", "using", "like", "handle", "show",
    "demo", "quiz", "test", "after", "beyond", "what", "what's", "whats", "in", "from",
}  # fmt: skip
_ELLIPTIC = re.compile(
    r"^(?:ok(?:ay)?,?\s+|so,?\s+|right,?\s+)?(?:and|also|but|then|what about|how about"
    r"|same for|and what about|and how about|plus)\b",
    re.IGNORECASE,
)
# Words that do not name a subject: function words, question words, and the generic
# vocabulary of asking ("explain", "difference", "example", "problem", "work").
_GENERIC = frozenset(
    """a an the that those and or but so then also plus too either neither nor not no yes ok okay
    right well just really very much more most less least some any all each every other
    another same such own i me my mine we us our you your yours he she him her his
    is am are was were be been being do does did done doing have has had having can
    could would should will shall may might must let lets let's it's that's what's whats
    what which who whom whose why how when where whether if than as at by for from in into
    of off on onto out over to up down with without about above below under again once
    there here now only both few many much what's how's why's tell say said show explain
    describe define definition mean means meaning meant give given get gets got go goes
    going make makes made know knows think work works working worked happen happens
    happening happened help helps helped helping useful use used uses using need needs
    needed different difference differ differs compare compared comparison versus vs
    similar better worse best worst good bad important matter matters problem problems
    issue issues thing things stuff concept idea topic part parts way ways kind sort type
    example examples instance detail details please thanks thank quick quickly simply
    simple again something anything everything one ones please pls ok cool great nice
    sure yeah yep hmm um uh wait actually basically exactly still even though although
    because since while during before after til until like look looks see seen try tried
    quiz test exam demo run running show shown more further elaborate clarify expand
    overview summary summarize summarise recap brief briefly short longer deeper
    question questions answer answers main key real
    called call name named means purpose point goal role job
    training train trained trains model models
    involved involve involves happening going
    """.split()  # noqa: SIM905 (a word list reads better as text)
)
_ASPECT_WORDS = re.compile("|".join(ASPECTS.values()), re.IGNORECASE)
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*|\d+")
# "why does that help?" asks about the quote just given, not about the topic's causes.
# "how is that different from L2?", "compared to batch norm", "X vs Y": the other side of a
# comparison with the topic is what the learner has not seen yet.
_COMPARED = re.compile(
    r"\b(?:differ(?:ent|s|ence)?\s+(?:from|to|than)|compared?\s+(?:to|with)|compares\s+(?:to|with)"
    r"|versus|vs\.?|as opposed to|unlike|rather than|instead of)\s+(?P<other>[^?!.,;]+)",
    re.IGNORECASE,
)

_COMPARING = re.compile(r"\b(contrast|differ|compar|versus|vs\b)\w*", re.IGNORECASE)

_WHY_IT_HELPS = re.compile(
    r"\bwhy\b.*\b(help\w*|work\w*|better|useful|good|matter\w*|important|needed|necessary)\b",
    re.IGNORECASE,
)
# An aspect carried to the next card in "and for exploding gradients?".
_ASPECT_CUE = {"fix": "how to fix", "cause": "what causes", "effect": "effects", "steps": "steps"}


@dataclass(frozen=True)
class Topic:
    """What the conversation is on: the card last answered from and the section quoted."""

    card: Card
    section: str = ""  # heading of the section last quoted ('' = the main part)

    @property
    def subject(self) -> str:
        return subject_of(self.card.front)

    def __str__(self) -> str:
        return self.card.front + (f" — {self.section}" if self.section else "")

    def to_dict(self) -> dict:
        return {"card_id": self.card.id, "front": self.card.front, "section": self.section}


@dataclass(frozen=True)
class Resolution:
    """How one message is read in context: the query to rank and whether to keep the topic."""

    message: str  # as typed (cleaned)
    query: str  # the standalone query to rank
    leans: bool  # the message leans on the conversation
    keep_topic: bool  # answer on the topic card whatever ranks first
    section: str | None = None  # section of the topic card to quote (None: by aspect/rank)
    aspect: str | None = None  # what part of a topic the message asks about ('fix', ...)
    reason: str = ""  # why, in a few words (for the eval's misses and debugging)

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def _words(text: str) -> list[str]:
    return [w.lower().strip("'") for w in _WORD.findall(text)]


def own_words(text: str) -> list[str]:
    """The message's words that could name a subject (not generic, not an aspect word).

    >>> own_words("what causes it?"), own_words("ok, what is dropout?")
    ([], ['dropout'])
    """
    text = _ASPECT_WORDS.sub(" ", text)
    return [w for w in _words(text) if w not in _GENERIC and w not in _POINTERS and len(w) > 1]


def points_back(text: str) -> bool:
    """Whether the message uses a pronoun or deixis for something said before.

    >>> points_back("why does that help?"), points_back("the function that computes loss")
    (True, False)
    """
    ws = _words(text)
    for i, w in enumerate(ws):
        if w in _POINTERS or w == "here":
            return True
        if w in ("that", "those") and (i == 0 or ws[i - 1] in _BEFORE_DEICTIC_THAT):
            return True
    return False


def _replace_pointer(text: str, subject: str) -> str:
    """Put the subject in place of the first pronoun; else append it."""
    ws = _WORD.findall(text)
    for i, w in enumerate(ws):
        low = w.lower()
        prev = ws[i - 1].lower() if i else ""
        if low == "here":
            return re.sub(r"\bhere\b", f"in {subject}", text, count=1, flags=re.IGNORECASE)
        if low in _POINTERS or (low == "that" and (not i or prev in _BEFORE_DEICTIC_THAT)):
            noun = subject + ("'s" if low in ("its", "their") else "")
            return re.sub(rf"\b{re.escape(w)}\b", noun, text, count=1)
    return f"{text.rstrip(' ?!.')} {subject}"


def is_chatter(message: str) -> bool:
    """Greetings and thanks, but not "how does it work?" said about a topic."""
    return is_small_talk(message) and not points_back(message)


def resolve(message: str, topic: Topic | None) -> Resolution:
    """Read a message against the conversation's topic; pure text, no model.

    Args:
        message: the learner's message, cleaned.
        topic: what the conversation is on, or None at its start.
    Returns:
        A `Resolution`: the query to rank, and whether the topic card is kept.

    >>> from nnqa.decks.cards import Card
    >>> t = Topic(Card("Vanishing Gradient", "...", "deck", "deck.txt", 1, ()))
    >>> r = resolve("what causes it?", t)
    >>> r.query, r.keep_topic
    ('what causes Vanishing Gradient?', True)
    >>> resolve("ok, what is dropout?", t).leans
    False
    """
    aspect = aspect_of(message)
    if topic is None or not message or is_chatter(message):
        why = "no topic" if message else ""
        return Resolution(message, message, False, False, aspect=aspect, reason=why)
    own = own_words(message)
    subject = topic.subject
    if not own:
        query = _replace_pointer(message, subject)
        section = None
        if aspect == "cause" and _WHY_IT_HELPS.search(message):
            section, aspect = topic.section, aspect_of(topic.section)  # about the last quote
        return Resolution(message, query, True, True, section, aspect, "no subject of its own")
    if points_back(message):
        query = _replace_pointer(message, subject)
        return Resolution(message, query, True, False, aspect=aspect, reason="pronoun + subject")
    last_aspect = aspect_of(topic.section) if topic.section else None
    if _ELLIPTIC.match(message) and aspect is None and last_aspect:
        query = f"{message.rstrip(' ?!.')} ({_ASPECT_CUE[last_aspect]})"
        why = "elliptical, aspect carried"
        return Resolution(message, query, True, False, aspect=last_aspect, reason=why)
    return Resolution(message, message, False, False, aspect=aspect, reason="own subject")


def _aspect_section(card: Card, aspect: str | None) -> int | None:
    """Index of the card's section on an aspect ("Solutions" for 'fix'), or None."""
    if aspect is None:
        return None
    found = [i for i, s in enumerate(card.sections) if i and aspect_of(s.heading) == aspect]
    return found[0] if found else None


def _same_subject(topic: Card, other: Card) -> bool:
    """Whether another card's front names the topic's subject ("backpropagation")."""
    want = set(own_words(subject_of(topic.front)))
    return bool(want) and want <= set(own_words(other.front))


def _mentions(card: Card, words: list[str]) -> bool:
    """Whether a card's text uses every one of the words (compared by their first letters)."""
    have = {prefix(w) for w in _words(card.front + " " + card.plain_back)}
    return bool(words) and all(prefix(w) in have for w in words)


def _unknown(vocab, words: list[str]) -> bool:
    """Whether no card uses any of the words (they cannot name a subject of the decks)."""
    known = vocab.words | set(vocab.acronyms)
    return bool(words) and not any(w in known for w in words)


def follow(retriever, text: str, topic: Topic | None, card_pos=None):
    """Rank the cards for a message in context: `(resolution, ranked CardScores)`.

    When the resolution keeps the topic, the topic card comes first, quoting the section
    the message asks about; if the topic card has no such section but another card on
    the same subject does ("what are the steps?" after "what is backpropagation?"), that
    card answers. `retriever` is what ranks (a `nnqa.search.retrieval.Retriever`: its
    `rank`, `cards` and `vocab`). One `rank` call: one encode.
    """
    res = resolve(text, topic)
    compared = _COMPARED.search(text) if topic is not None and points_back(text) else None
    if compared:  # the topic's card is on screen: answer with the card on the other side
        other = compared.group("other").strip()
        ranked = retriever.rank(other, card_pos=card_pos)
        answered = bool(ranked) and ranked[0].score >= ABSTAIN_BELOW
        if answered and ranked[0].card != _pos(retriever, topic):
            return replace(res, query=other, reason="comparison: the other side"), ranked
        # the topic's own card is a comparison ("... how does it contrast with other
        # machine learning algorithms?"): read on, it answers
        if not (answered and _COMPARING.search(topic.card.front)):
            # no card on the other side: none compares them (never the same quote again)
            below = [replace(cs, score=min(cs.score, ABSTAIN_BELOW / 2)) for cs in ranked]
            return replace(res, query=other, reason="comparison: no card on the other side"), below
    ranked = retriever.rank(res.query, card_pos=card_pos)
    # the query's aspect words may have been rewritten ("stop them"): apply the message's
    ranked = [
        replace(cs, section=sec)
        if (sec := _aspect_section(retriever.cards[cs.card], res.aspect)) is not None
        else cs
        for cs in ranked
    ]
    if not res.keep_topic:
        if topic is None or (ranked and ranked[0].score >= ABSTAIN_BELOW):
            return res, ranked
        # nothing answers it alone: is it still about the topic? Only when the topic card
        # itself uses its words ("what does batch normalization do here?"), or when it asks
        # for an aspect in words no card uses ("what are the steps involved?")
        own = own_words(res.message)
        if not (_mentions(topic.card, own) or (res.aspect and _unknown(retriever.vocab, own))):
            return res, ranked
        res = replace(res, leans=True, keep_topic=True, reason=res.reason + ", topic card uses it")
        if res.query == res.message:
            res = replace(res, query=_replace_pointer(res.message, topic.subject))
        ranked = retriever.rank(res.query, card_pos=card_pos)
    pos = _pos(retriever, topic)
    if pos is None or (card_pos is not None and topic.card.id not in card_pos):
        return res, ranked  # the topic card is not in this deck selection
    if res.aspect and _aspect_section(topic.card, res.aspect) is None:
        for cs in ranked[:3]:
            other = retriever.cards[cs.card]
            if _aspect_section(other, res.aspect) is not None and _same_subject(topic.card, other):
                pos = cs.card
                break
    mine = next((cs for cs in ranked if cs.card == pos), CardScore(pos, 0.0, 0))
    if res.section is not None:
        heads = [s.heading for s in retriever.cards[pos].sections]
        mine = replace(mine, section=heads.index(res.section) if res.section in heads else 0)
    # the learner is still on this card: answer from it even if the reworded query scores
    # low (it is "it" they asked about), never abstain
    mine = replace(mine, score=max(mine.score, ABSTAIN_BELOW))
    return res, [mine] + [cs for cs in ranked if cs.card != pos]


def _pos(retriever, topic: Topic) -> int | None:
    """The topic card's position in the retriever's cards (None once it is gone)."""
    return next((i for i, c in enumerate(retriever.cards) if c.id == topic.card.id), None)


def topic_after(cards, ranked, res: Resolution, topic: Topic | None) -> Topic | None:
    """The topic once a message is answered: the quoted card, or the old topic on abstaining."""
    if ranked and ranked[0].score >= ABSTAIN_BELOW:
        card = cards[ranked[0].card]
        return Topic(card, card.sections[ranked[0].section].heading)
    return topic if res.leans else None


def topic_of(retriever, history: list[str] | None, card_pos=None) -> Topic | None:
    """Replay earlier messages (oldest first) to find what the conversation is on."""
    topic = None
    for msg in (history or [])[-HISTORY_TURNS:]:
        if not isinstance(msg, str):
            raise TypeError(f"history holds the earlier messages as strings, got {msg!r}")
        text = " ".join(msg.split())
        if not text or is_chatter(text):
            continue
        res, ranked = follow(retriever, text, topic, card_pos)
        topic = topic_after(retriever.cards, ranked, res, topic)
    return topic
