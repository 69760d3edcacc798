"""The web app in a real headless Chromium: what a learner sees and clicks.

Drives Debian's Chromium (`/usr/bin/chromium`) through Playwright; never downloads a
browser. Screenshots go to artifacts/ (gitignored) for a person to look at.
"""

import re
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's Chromium: apt-get install chromium"
    ),
]


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"],
        )  # fmt: skip
        yield b
        b.close()


@pytest.fixture
def page(browser, app_server):
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(app_server.url)
    page.wait_for_selector("#question textarea")
    yield page
    assert page.evaluate("window.__pwned") is None, "a card's script ran"
    assert not errors, errors
    page.close()


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"browser-{name}.png", full_page=True)


def _first_card(page, learner: str) -> None:
    """Open the Quiz tab as `learner` and wait for the first card's question."""
    page.get_by_role("tab", name="Quiz").click()
    page.fill("#learner textarea, #learner input", learner)
    page.get_by_role("button", name="Next card").click()
    page.locator("#quiz-front h3").wait_for(timeout=30_000)


def _ask(page, question: str) -> None:
    page.fill("#question textarea", question)
    page.keyboard.press("Enter")


def test_chat_quotes_the_card_and_runs_its_demo(page):
    _ask(page, "what causes vanishing gradients")
    chat = page.locator("#chat")
    chat.get_by_text("Sigmoid and hyperbolic tangent (tanH) squash").wait_for(timeout=30_000)
    assert chat.get_by_role("heading", name="Vanishing Gradient").is_visible()
    assert chat.get_by_text("knowledge/neural_networks.txt:4").is_visible()
    _shot(page, "ask")

    page.get_by_text("Run the demo: vanishing gradients").click()
    chat.locator("img").first.wait_for(timeout=60_000)  # the figure, inline
    chat.get_by_text(re.compile(r"Ran on cpu in [\d.]+ s")).wait_for()
    _shot(page, "ask-demo")


def test_chat_follows_the_conversation_and_quizzes(page, app_server):
    chat = page.locator("#chat")
    _ask(page, "what is the vanishing gradient problem?")
    chat.get_by_text("almost approaching zero").wait_for(timeout=30_000)
    _ask(page, "what causes it?")  # a follow-up: no topic of its own
    chat.get_by_text("Sigmoid and hyperbolic tangent (tanH) squash").wait_for(timeout=30_000)
    _ask(page, "quiz me on that")
    chat.get_by_text("Type your answer, or say").wait_for(timeout=30_000)
    assert "Quiz: Vanishing Gradient" in chat.inner_text()
    _ask(page, "gradients get tiny going back through many layers so learning stalls")
    chat.get_by_text(re.compile(r"Due again .*\(rated (Again|Hard|Good|Easy)\)")).wait_for(
        timeout=30_000
    )
    assert re.search(r"(Correct|Partly right|Not yet) · score", chat.inner_text())
    _ask(page, "show me")  # the card's demo, queued apart from questions, figure inline
    chat.locator("img").first.wait_for(timeout=60_000)
    chat.get_by_text(re.compile(r"Ran on cpu in [\d.]+ s")).wait_for(timeout=60_000)
    _shot(page, "chat-conversation")
    from nnqa.study.store import Store

    vg = app_server.tutor.card("Vanishing Gradient").id
    reviews = Store(app_server.dir / "data" / "progress.sqlite3").reviews()
    assert any(r.learner.startswith("guest-") and r.card_id == vg for r in reviews)


def test_abstains_and_offers_the_closest_cards(page):
    _ask(page, "what is the capital of France")
    page.get_by_text("No card on that").wait_for(timeout=30_000)
    assert page.get_by_text(re.compile("^Ask: ")).count() >= 1


def test_quiz_grades_an_answer_and_takes_an_override(page):
    _first_card(page, "bea")
    page.fill("#answer textarea", "no idea")
    page.get_by_role("button", name="Check my answer").click()
    verdict = page.locator("#verdict")
    verdict.get_by_text("The card's answer").wait_for(timeout=30_000)
    assert re.search(r"(Correct|Partly right|Not yet) · score", verdict.inner_text())
    page.locator("#rate-1").click()
    verdict.get_by_text("Due again").wait_for(timeout=30_000)
    page.get_by_role("button", name="I was right").click()
    verdict.get_by_text("You overruled the grader").wait_for(timeout=30_000)
    page.locator("#progress").get_by_text("100%").wait_for()
    _shot(page, "quiz")


def test_demos_tab_runs_a_demo_and_shows_its_figure(page):
    page.get_by_role("tab", name="Demos").click()
    page.get_by_role("button", name="Run", exact=True).first.click()
    page.locator("#demo-figure img").wait_for(timeout=60_000)
    assert re.search(r"Ran on cpu in [\d.]+ s", page.locator("#demo-run").inner_text())
    assert "measured" in page.locator("#demo-metrics").inner_text()
    _shot(page, "demos")


def test_hostile_card_renders_as_text_and_runs_nothing(page):
    _ask(page, "what is a hostile flashcard")
    chat = page.locator("#chat")
    chat.get_by_text('<script>window.__pwned = "front"</script>What is a hostile').wait_for(
        timeout=30_000
    )
    assert chat.get_by_text("<img src=x onerror=", exact=False).count() >= 1
    page.get_by_role("tab", name="Deck").click()
    page.fill("#deck-search input, #deck-search textarea", "hostile")
    page.locator("#deck-list").get_by_text(re.compile(r"^1 of \d+ cards$")).wait_for(timeout=10_000)
    _shot(page, "hostile")
    injected = page.evaluate(
        """() => [...document.querySelectorAll('script, img[onerror], svg[onload], a[href^="javascript"]')]
                 .filter(e => (e.outerHTML || '').includes('__pwned')).length"""
    )
    assert injected == 0


# ---------------------------------------------------------------- the learner's loop (issue 15)


def _messages(page) -> list[str]:
    """The text of every message in the chat, in order."""
    return page.locator("#chat .message-row").all_inner_texts()


def _reviews(app_server, learner: str | None = None):
    from nnqa.study.store import Store

    return Store(app_server.dir / "data" / "progress.sqlite3").reviews(learner)


def test_a_question_asked_while_a_demo_runs_keeps_every_message(page):
    chat = page.locator("#chat")
    _ask(page, "/demo rnn_vs_lstm")  # seconds of training, in the demo queue
    chat.get_by_text("Running RNN against LSTM").wait_for(timeout=30_000)
    _ask(page, "what is dropout?")
    chat.get_by_text("random neurons are ignored", exact=False).first.wait_for(timeout=30_000)
    assert chat.locator("img").count() == 0, "the demo finished before the question: no test"
    chat.locator("img").first.wait_for(timeout=90_000)  # the figure
    chat.get_by_text(re.compile(r"Ran on cpu in [\d.]+ s")).wait_for()
    texts = _messages(page)
    asked = next(i for i, t in enumerate(texts) if "what is dropout?" in t)
    assert "random neurons are ignored" in texts[asked + 1]  # the answer is still there...
    assert re.search(r"Ran on cpu in [\d.]+ s", texts[-1])  # ...and the figure came after it
    assert "the result is below" in " ".join(texts[:asked])  # the ⏳ note says where it went
    _shot(page, "demo-then-question")
    # What the chat holds follows the page: its topic is dropout, the last card on screen.
    _ask(page, "quiz me on that")
    chat.get_by_text("Quiz: What is dropout").wait_for(timeout=30_000)


def test_new_chat_starts_fresh_topic_included(page):
    chat = page.locator("#chat")
    _ask(page, "what is dropout?")
    chat.get_by_text("random neurons are ignored").wait_for(timeout=30_000)
    page.locator("#new-chat").click()
    chat.get_by_text("random neurons are ignored").wait_for(state="detached", timeout=10_000)
    _ask(page, "why does that help?")  # with dropout as the topic this would quote dropout
    page.wait_for_function(
        "document.querySelectorAll('#chat .message-row').length >= 2", timeout=30_000
    )
    assert "random neurons are ignored" not in chat.inner_text()
    assert "What is dropout" not in chat.inner_text()


def test_the_chat_and_the_name_survive_a_reload(page, app_server):
    chat = page.locator("#chat")
    page.get_by_role("tab", name="Quiz").click()
    page.fill("#learner textarea, #learner input", "cleo")
    page.locator("#learner textarea, #learner input").press("Tab")
    page.get_by_role("tab", name="Ask").click()
    _ask(page, "what is the vanishing gradient problem?")
    chat.get_by_text("almost approaching zero").wait_for(timeout=30_000)
    _ask(page, "quiz me on that")
    chat.get_by_text("Type your answer, or say").wait_for(timeout=30_000)
    page.wait_for_timeout(500)  # the browser's storage is written after the reply
    page.reload()
    page.wait_for_selector("#question textarea")
    chat.get_by_text("almost approaching zero").wait_for(timeout=30_000)
    assert "Quiz: Vanishing Gradient" in chat.inner_text()
    page.get_by_role("tab", name="Quiz").click()
    name = page.locator("#learner textarea, #learner input")
    page.wait_for_function(
        "document.querySelector('#learner textarea, #learner input').value === 'cleo'",
        timeout=10_000,
    )
    # The quiz question survived too: the answer is graded, and credited to cleo.
    page.get_by_role("tab", name="Ask").click()
    _ask(page, "gradients get tiny going back through many layers so learning stalls")
    chat.get_by_text(re.compile(r"Due again .*\(rated")).wait_for(timeout=30_000)
    vg = app_server.tutor.card("Vanishing Gradient").id
    assert [r.card_id for r in _reviews(app_server, "cleo")] == [vg]
    assert name.count() == 1
    _shot(page, "after-reload")


def test_quiz_tab_takes_one_review_per_showing_and_undoes_it(page, app_server):
    _first_card(page, "dora")
    check = page.locator("#check")
    check.click()  # nothing typed: a prompt, no review
    page.locator("#verdict").get_by_text("Type your answer first").wait_for(timeout=30_000)
    assert _reviews(app_server, "dora") == []
    page.fill("#answer textarea", "no idea at all")
    check.click()
    page.wait_for_selector("#check[disabled]", timeout=30_000)  # locked with the grade
    assert page.locator("#answer textarea").is_disabled()
    page.locator("#rate-1").click()
    page.locator("#verdict").get_by_text("Due again").wait_for(timeout=30_000)
    check.click(force=True)  # a locked button: nothing happens
    page.keyboard.press("3")  # nor does a rating key once the showing is rated
    page.wait_for_timeout(1_000)
    assert [r.rating for r in _reviews(app_server, "dora")] == [1]
    _shot(page, "quiz-locked")
    page.locator("#undo").click()
    page.locator("#verdict").get_by_text("Review undone").wait_for(timeout=30_000)
    assert _reviews(app_server, "dora") == [] and not check.is_disabled()
    page.locator("#dont-know").click()  # giving up is a choice: Again is suggested
    page.locator("#rate-1.primary, #rate-1[class*='primary']").wait_for(timeout=30_000)
    page.keyboard.press("1")
    page.locator("#verdict").get_by_text("Due again").wait_for(timeout=30_000)
    [r] = _reviews(app_server, "dora")
    assert r.typed == "I don't know" and r.rating == 1


def test_review_screen_rates_with_the_keyboard_at_the_previewed_interval(page, app_server):
    from datetime import datetime, timedelta

    _first_card(page, "gus")
    counts = page.locator("#quiz-counts")
    n = len(app_server.tutor.cards)
    assert re.sub(r"\s+", " ", counts.inner_text()).strip() == f"{n} new · 0 learning · 0 due"
    page.fill("#answer textarea", "units are dropped at random while training")
    page.locator("#answer textarea").press("Enter")  # Enter checks
    page.locator("#ratings").wait_for(timeout=30_000)
    labels = [page.locator(f"#rate-{r}").inner_text() for r in (1, 2, 3, 4)]
    pattern = r"(\d) · (Again|Hard|Good|Easy) · (<1m|\d+(?:\.\d)?(?:m|h|d|mo|y))"
    parsed = [re.fullmatch(pattern, x.strip()).groups() for x in labels]
    assert [p[:2] for p in parsed] == [("1", "Again"), ("2", "Hard"), ("3", "Good"), ("4", "Easy")]
    suggested = page.locator("#ratings button.primary")
    assert suggested.count() == 1  # the grader's choice, highlighted
    assert _reviews(app_server, "gus") == []  # checking records nothing
    _shot(page, "review-screen")
    checked_at = datetime.now().astimezone()
    page.keyboard.press("3")  # Good
    page.locator("#verdict").get_by_text("(rated Good)").wait_for(timeout=30_000)
    [r] = _reviews(app_server, "gus")
    assert r.rating == 3
    good = parsed[2][2]  # "10m" for a new card: due 10 minutes after the check
    minutes = {"m": 1, "h": 60, "d": 1440}[good[-1]] * float(good[:-1])
    due = datetime.fromisoformat(r.due) - datetime.fromisoformat(r.reviewed_at)
    assert abs(due - timedelta(minutes=minutes)) < timedelta(minutes=1), (good, due)
    assert abs(datetime.fromisoformat(r.reviewed_at) - checked_at) < timedelta(minutes=1)
    counts.get_by_text(f"{n - 1}").wait_for(timeout=10_000)  # one card fewer is new
    assert not page.locator("#ratings").is_visible()
    page.get_by_text("Progress in pictures").click()
    page.locator("#show-progress").click()
    page.locator("#progress-plot img").wait_for(timeout=30_000)
    _shot(page, "review-progress")


def test_mistakes_get_one_plain_message_not_red_errors(page):
    page.locator("#question textarea").press("Enter")  # an empty message: nothing happens
    page.wait_for_timeout(1_500)
    assert page.locator(".toast-body").count() == 0 and _messages(page) == []
    assert page.locator("#question textarea").is_editable()
    page.get_by_role("tab", name="Quiz").click()
    page.get_by_role("button", name="Next card").click()  # no name yet
    page.locator("#quiz-front").get_by_text("Type your name first").wait_for(timeout=30_000)
    page.wait_for_timeout(500)
    assert page.locator(".toast-body").count() == 0
    assert page.locator(".error").count() == 0, "red error badges on the page"
    _shot(page, "no-name")


def test_switching_demos_clears_the_previous_figure(page):
    page.get_by_role("tab", name="Demos").click()
    page.get_by_role("button", name="Run", exact=True).first.click()
    page.locator("#demo-figure img").wait_for(timeout=60_000)
    page.get_by_label("Demo").click()
    page.get_by_role("option", name=re.compile("^Exploding gradients")).click()
    page.locator("#demo-figure img").wait_for(state="detached", timeout=10_000)
    assert page.locator("#demo-run").inner_text().strip() == ""


def test_on_a_phone_the_header_is_small_and_the_question_box_fits(browser, app_server):
    page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
    page.goto(app_server.url)
    box = page.locator("#question textarea")
    box.wait_for()
    intro = page.locator("#intro").bounding_box()
    assert intro["height"] < 0.1 * 844, intro  # was ~40% of the screen with its paragraph
    q = box.bounding_box()
    assert q["x"] >= 0 and q["x"] + q["width"] <= 390, q
    _ask(page, "what is dropout?")
    page.locator("#chat").get_by_text("random neurons are ignored").wait_for(timeout=30_000)
    follow = page.locator("#chat button", has_text="Quiz me").last
    follow.wait_for()
    b = follow.bounding_box()  # the follow-ups are on screen, not below the fold
    assert b["y"] >= 0 and b["y"] + b["height"] <= 844 and b["x"] + b["width"] <= 390, b
    _ask(page, "/demo loss_functions")  # three panels side by side on a desktop
    page.locator("#chat .matplotlib img").first.wait_for(timeout=90_000)
    img = page.evaluate(
        """() => { const i = document.querySelector('#chat .matplotlib img');
                   return [i.naturalWidth, i.naturalHeight, i.getBoundingClientRect().width]; }"""
    )
    # stacked for the phone: taller than wide, at most 460 px drawn (4.6 in at 100 dpi), and
    # shown at least 200 px wide: a 10 pt label stays over 6 px (side by side it was ~4 px)
    assert img[1] > 2 * img[0] and img[0] <= 460 and img[2] >= 200, img
    _ask(page, "/demo exploding_gradients")  # big numbers in a narrow table
    page.locator("#chat table").nth(1).wait_for(timeout=90_000)
    lines = page.evaluate(
        """() => [...document.querySelectorAll('#chat td:last-child')].map(td => {
               const r = document.createRange(); r.selectNodeContents(td);
               return new Set([...r.getClientRects()].map(b => Math.round(b.top))).size; })"""
    )
    assert lines and max(lines) == 1, lines  # "1.531e+07" is never split over two lines
    _shot(page, "phone")
    page.close()
