"""Polarity: catch a typed answer that says the opposite of its reference.

A rule-based stand-in for an NLI model (no NLI weights can be installed offline here).
For a handful of concepts that flashcards about neural networks assert or deny (vanishing
and exploding gradients, non-linearity, overfitting, the loss, cycles, layers, direction,
long-term dependencies, the size of gradients), `polarities` reads each mention with the
words just before it (and a few after, for size words) and says whether the text affirms
(+1) or denies (-1) it; a negation flips the sign. `contradictions` compares two texts.

Leaves out: anything beyond these concepts; a statement the rules cannot read gives no
polarity, so unknown phrasing never counts as a contradiction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Concept", "CONCEPTS", "polarities", "contradictions"]


@dataclass(frozen=True)
class Concept:
    """A thing a card can assert or deny, found by `pattern`; `flip` names its antonym form."""

    name: str
    pattern: str  # regex over the lower-cased, clause-split text
    up: frozenset[str] = frozenset()  # words before/after that affirm or enlarge it
    down: frozenset[str] = frozenset()  # words that deny or shrink it
    bare: int = 0  # polarity of a mention with no marker (cycles: having them is +1)
    after: int = 0  # how many words after the mention are read too
    sign: int = 1  # -1: the mention names the concept's opposite ("linear" for non-linearity)


_CAUSE = frozenset(
    [
        "cause",
        "causes",
        "causing",
        "caused",
        "create",
        "creates",
        "lead",
        "leads",
        "leading",
        "get",
        "gets",
        "getting",
        "make",
        "makes",
        "making",
        "have",
        "has",
        "having",
        "with",
        "add",
        "adds",
        "adding",
        "introduce",
        "introduces",
        "introducing",
        "bring",
        "brings",
        "suffer",
        "suffers",
        "increase",
        "increases",
        "increasing",
        "raise",
        "raises",
        "maximize",
        "maximise",
        "maximizes",
        "maximises",
        "maximizing",
        "maximising",
        "more",
    ]
)
_REDUCE = frozenset(
    [
        "avoid",
        "avoids",
        "avoiding",
        "prevent",
        "prevents",
        "preventing",
        "without",
        "reduce",
        "reduces",
        "reducing",
        "decrease",
        "decreases",
        "decreasing",
        "lower",
        "lowers",
        "lowering",
        "minimize",
        "minimise",
        "minimizes",
        "minimises",
        "minimizing",
        "minimising",
        "remove",
        "removes",
        "removing",
        "eliminate",
        "eliminates",
        "eliminating",
        "fix",
        "fixes",
        "fixing",
        "solve",
        "solves",
        "solving",
        "mitigate",
        "mitigates",
        "mitigating",
        "less",
        "fewer",
        "smaller",
        "stop",
        "stops",
        "stopping",
        "fight",
        "fights",
        "combat",
        "combats",
        "counter",
        "away",
    ]
)
_BIG = frozenset(
    [
        "big",
        "bigger",
        "huge",
        "large",
        "larger",
        "grow",
        "grows",
        "growing",
        "explode",
        "explodes",
        "exploding",
        "blow",
        "blows",
        "blowing",
        "increase",
        "increases",
        "increasing",
        "massive",
        "enormous",
        "high",
        "higher",
    ]
)
_SMALL = frozenset(
    [
        "small",
        "smaller",
        "tiny",
        "zero",
        "vanish",
        "vanishes",
        "vanishing",
        "shrink",
        "shrinks",
        "shrinking",
        "diminish",
        "diminishes",
        "diminishing",
        "decrease",
        "decreases",
        "decreasing",
        "low",
        "lower",
    ]
)

_KEEP = frozenset(
    ["keep", "keeps", "keeping", "stay", "stays", "remain", "remains", "turn", "turns", "become",
     "becomes", "only"]
)  # fmt: skip

# "forward" as a direction, not a name ("feed forward network", "forward pass")
_FORWARD = r"(?<!feed )(?<!feed-)\bforwards?\b(?!\s*(?:pass|network|nn|net|propagation|layer))"

CONCEPTS: tuple[Concept, ...] = (
    Concept("vanishing gradients", r"\bvanish\w*", _CAUSE, _REDUCE),
    Concept("exploding gradients", r"\bexplod\w*", _CAUSE, _REDUCE),
    Concept("non-linearity", r"\bnon[- ]?linear\w*", _CAUSE | _KEEP, _REDUCE, bare=1),
    # "makes it linear", "stays linear": a stance on non-linearity, the other way round;
    # names that merely contain the word (rectified linear unit, linear combination) are not
    Concept(
        "non-linearity",
        r"(?<!non)(?<!non-)(?<!non )\blinear(?:ly|ity)?\b(?!\s*(?:unit|combination|"
        r"regression|model|layer|transformation|map|algebra|time|scal|rate))",
        _CAUSE | _KEEP | frozenset(["is", "are", "be", "becomes", "become", "purely", "just"]),
        _REDUCE,
        sign=-1,
        after=0,
    ),
    Concept("overfitting", r"\bover[- ]?fit\w*", _CAUSE, _REDUCE, after=2),
    Concept(
        "the loss",
        r"\b(?:loss|error|cost)(?:es)?\b",
        _CAUSE - {"with", "have", "has"},
        _REDUCE,
        after=2,
    ),
    Concept(
        "cycles",
        r"\b(?:cycl\w*|loops?|looping|feedback)\b",
        _CAUSE | {"form", "forms", "directed", "in"},
        _REDUCE,
        bare=1,
    ),
    Concept("size of gradients", r"\bgradients?\b", _BIG, _SMALL, after=6),
    Concept(
        "many layers",
        r"\blayers?\b",
        frozenset(["many", "multiple", "deep", "several", "hidden", "more", "stacked"]),
        frozenset(["single", "one", "1", "only"]),
    ),
    Concept("backward direction", r"\bbackwards?\b(?!\s+pass)", bare=1),
    Concept("backward direction", _FORWARD, bare=-1),
    Concept(
        "long-term dependencies",
        r"\blong[- ]?term\b",
        _CAUSE
        | frozenset(
            [
                "learn",
                "learns",
                "capture",
                "captures",
                "remember",
                "remembers",
                "store",
                "stores",
                "handle",
                "handles",
            ]
        ),
        _REDUCE | frozenset(["forget", "forgets"]),
    ),
)

_NEGATION = frozenset(
    [
        "not",
        "no",
        "never",
        "nor",
        "without",
        "cannot",
        "cant",
        "dont",
        "doesnt",
        "isnt",
        "arent",
        "wont",
        "didnt",
        "neither",
        "none",
    ]
)
_COUNTERFACTUAL = frozenset(["would", "otherwise"])
_CLAUSE = re.compile(r"[.;:!?,()\n]|\b(?:but|whereas|while|which|so|because|and then)\b")
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def _words(text: str) -> list[str]:
    return [w.replace("n't", "nt").replace("'", "") for w in _WORD.findall(text)]


def polarities(text: str) -> dict[str, set[int]]:
    """Each concept the text mentions with a readable stance: {name: {+1 and/or -1}}.

    >>> polarities("ReLU does not cause vanishing gradients")["vanishing gradients"]
    {-1}
    >>> polarities("an activation function removes non-linearity")
    {'non-linearity': {-1}}
    """
    found: dict[str, set[int]] = {}
    for clause in _CLAUSE.split(text.lower()):
        if not clause or not clause.strip():
            continue
        for concept in CONCEPTS:
            for m in re.finditer(concept.pattern, clause):
                before = _words(clause[: m.start()])[-4:]
                after = _words(clause[m.end() :])[: concept.after]
                if _COUNTERFACTUAL & set(_words(clause[: m.start()])):
                    continue  # "without it the network would be linear" asserts nothing
                near = before + after
                markers = set(near)
                if concept.down & markers:
                    sign, used = -1, concept.down & markers
                elif concept.up & markers:
                    sign, used = 1, concept.up & markers
                else:
                    sign, used = concept.bare, set()
                if sign and (_NEGATION - used) & set(before):
                    sign = -sign
                if sign:
                    found.setdefault(concept.name, set()).add(sign * concept.sign)
    return found


def contradictions(reference: str, typed: str) -> tuple[str, ...]:
    """Concepts the reference holds one way and the typed answer only the other way.

    >>> contradictions("minimizing the loss function", "gradient descent increases the loss")
    ('the loss',)
    """
    ref, ans = polarities(reference), polarities(typed)
    out = []
    for name, signs in ans.items():
        held = ref.get(name)
        if held and len(held) == 1 and len(signs) == 1 and signs == {-next(iter(held))}:
            out.append(name)
    return tuple(out)
