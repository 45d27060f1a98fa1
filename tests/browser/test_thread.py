"""The widget on a publisher's page (another origin than the comment server): reading,
posting, replying, editing, deleting, voting, flagging, sorting, paging, live updates."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import (
    SITE_POLICY,
    THREAD,
    HostServer,
    Seeder,
    render_template,
    screenshot,
    widget_html,
)
from tests.browser.helpers import comment, focused_id, open_widget, post, reply
from tests.conftest import ORIGIN
from townhall.domain.sites import create_site
from townhall.types import CommentStatus

pytestmark = pytest.mark.browser


def test_demo_article_from_another_origin(
    new_page: Any, host: HostServer, api: str, seed: Seeder
) -> None:
    seed.comments(
        [
            {"text": "The bypass is **overdue**.", "name": "Margaret", "minutes_ago": 300},
            {
                "text": "It takes the meadow with it.",
                "name": "Tom",
                "parent": 0,
                "minutes_ago": 200,
                "website": "https://tom.example/blog",
            },
            {"text": "Rude", "name": "Troll", "minutes_ago": 150, "status": CommentStatus.REMOVED},
            {"text": "Still worth an answer", "name": "Uma", "parent": 2, "minutes_ago": 100},
        ]
    )
    html = render_template(
        "demo/article.html",
        server_url=api,
        site_key="news",
        thread_key=THREAD,
        asset_version="test",
    )
    page = new_page()
    page.goto(host.page("/2026/11/story", html))
    widget = page.locator("#townhall-thread")
    widget.scroll_into_view_if_needed()  # the thread starts loading when it comes near
    expect(widget.locator("h2")).to_have_text("3 Comments")
    margaret = widget.locator("article").first
    expect(margaret.locator(".who")).to_have_text("Margaret")
    expect(margaret.locator("strong")).to_have_text("overdue")  # server-rendered Markdown
    time = margaret.locator("time")
    expect(time).to_have_text("5 hours ago")
    assert re.match(r"\d{4}-\d\d-\d\dT", time.get_attribute("datetime") or "")
    assert time.get_attribute("title")  # absolute time on hover
    tom = widget.locator("li li article").first  # the reply is nested
    link = tom.get_by_role("link", name="Tom")
    expect(link).to_have_attribute("href", "https://tom.example/blog")
    expect(link).to_have_attribute("rel", "nofollow ugc noopener")
    removed = widget.locator(".list > li").nth(1)
    expect(removed.locator("> article")).to_have_text("Removed by a moderator.")
    expect(removed.locator("> article")).not_to_contain_text("Troll")
    expect(removed.locator("li article")).to_contain_text("Still worth an answer")
    assert page.evaluate("location.origin") != api  # really cross-origin
    screenshot(page, "demo-article", widget)
    assert page.errors == []


def test_post_reply_to_a_reply_and_reload(new_page: Any, host: HostServer, api: str) -> None:
    page, widget = open_widget(new_page, host, api)
    expect(widget.locator("h2")).to_have_text("0 Comments")
    expect(widget.get_by_text("No comments yet")).to_be_visible()

    first = post(widget, "First!", name="Ann")
    a = first["comment"]["id"]
    assert first["status"] == "published" and first["edit_token"]
    expect(comment(widget, a)).to_contain_text("First!")
    expect(widget.locator("h2")).to_have_text("1 Comment")
    assert focused_id(page) == a  # focus moves to the new comment
    expect(widget.locator("[role=status]")).to_have_text("Your comment was published.")
    assert page.evaluate("localStorage.getItem('townhall:name')") == "Ann"
    assert page.evaluate("localStorage.getItem('townhall:reader')")  # reader token kept

    b = reply(widget, a, "A reply", name="Bo")["comment"]["id"]
    c = reply(widget, b, "A reply to the reply", name="Cy")["comment"]["id"]
    assert focused_id(page) == c
    expect(widget.locator("h2")).to_have_text("3 Comments")

    page.reload()
    expect(widget.locator("h2")).to_have_text("3 Comments")
    nested = widget.locator(f'li[data-id="{a}"] li[data-id="{b}"] li[data-id="{c}"] > article')
    expect(nested).to_contain_text("A reply to the reply")
    # the name is remembered in the next reply box
    expect(widget.locator("form").first.get_by_label("Name", exact=True)).to_have_value("Cy")
    screenshot(page, "posted-tree", widget)
    assert page.errors == []


def test_deep_replies_are_flattened_with_replying_to(
    new_page: Any, host: HostServer, api: str, seed: Seeder
) -> None:
    names = ["Ann", "Bo", "Cy", "Di", "Ed", "Flo"]  # five replies: within the subtree cap
    ids = seed.comments(
        [
            {"text": f"Level {i}", "name": n, "parent": i - 1 if i else None, "minutes_ago": 60 - i}
            for i, n in enumerate(names)
        ]
    )
    page, widget = open_widget(new_page, host, api)
    expect(widget.locator("article")).to_have_count(6)
    depth = widget.locator("li[data-id]").evaluate_all(
        """els => els.map(li => {
          let n = 0;
          for (let e = li.parentElement; e; e = e.parentElement) n += e.matches('ol.replies');
          return n; })"""
    )
    assert depth == [0, 1, 2, 3, 3, 3]  # four visual levels, then flat
    expect(comment(widget, ids[3])).not_to_contain_text("replying to")
    expect(comment(widget, ids[4])).to_contain_text("replying to Di")
    expect(comment(widget, ids[5])).to_contain_text("replying to Ed")
    # a new reply to a flattened comment lands right after it, still flat
    new = reply(widget, ids[4], "Late answer to Ed")["comment"]["id"]
    order = widget.locator("li[data-id]").evaluate_all("els => els.map(e => e.dataset.id)")
    assert order.index(new) == order.index(str(ids[5])) + 1
    expect(comment(widget, new)).to_contain_text("replying to Ed")
    screenshot(page, "deep-thread", widget)


def test_edit_then_delete_into_tombstone(new_page: Any, host: HostServer, api: str) -> None:
    page, widget = open_widget(new_page, host, api)
    a = post(widget, "Origenal text")["comment"]["id"]
    b = reply(widget, a, "Reply that keeps the parent as a tombstone")["comment"]["id"]
    assert page.evaluate(f"JSON.parse(localStorage.getItem('townhall:edit:{a}')).token")

    comment(widget, a).get_by_role("button", name="Edit").click()
    box = widget.get_by_role("textbox", name="Edit")
    expect(box).to_have_value("Origenal text")  # the Markdown source, not the HTML
    box.fill("Original text, *fixed*")
    widget.get_by_role("button", name="Save").click()
    expect(comment(widget, a).locator(".body em")).to_have_text("fixed")
    expect(comment(widget, a)).to_contain_text("edited")
    assert focused_id(page) == a

    comment(widget, a).get_by_role("button", name="Delete").click()
    yes = widget.get_by_role("button", name="Yes, delete")
    expect(yes).to_be_focused()
    yes.click()
    expect(comment(widget, a)).to_have_text("This comment was deleted.")
    expect(comment(widget, b)).to_contain_text("Reply that keeps")
    expect(widget.locator("h2")).to_have_text("1 Comment")

    comment(widget, b).get_by_role("button", name="Delete").click()
    widget.get_by_role("button", name="Yes, delete").click()
    expect(widget.locator(f'li[data-id="{b}"]')).to_have_count(0)  # no replies: gone

    page.reload()
    expect(widget.locator("h2")).to_have_text("0 Comments")
    assert page.errors == []


def test_own_comment_out_of_edit_window_has_no_edit(
    new_page: Any, host: HostServer, api: str, seed: Seeder
) -> None:
    (old,) = seed.comments([{"text": "Old", "minutes_ago": 60 * 24}])
    page, widget = open_widget(new_page, host, api)
    token = '{"token": "x", "at": 0}'
    page.evaluate(f"localStorage.setItem('townhall:edit:{old}', '{token}')")
    page.reload()
    expect(comment(widget, old)).to_contain_text("Old")
    expect(comment(widget, old).get_by_role("button", name="Edit")).to_have_count(0)


def test_votes_toggle_and_persist(new_page: Any, host: HostServer, api: str, seed: Seeder) -> None:
    (cid,) = seed.comments([{"text": "Vote on me"}])
    page, widget = open_widget(new_page, host, api)
    art = comment(widget, cid)
    like = art.get_by_role("button", name=re.compile("^Like"))
    dislike = art.get_by_role("button", name=re.compile("^Dislike"))
    expect(like).to_have_attribute("aria-pressed", "false")
    expect(like).to_contain_text("0")
    like.click()
    expect(like).to_have_attribute("aria-pressed", "true")
    expect(like).to_contain_text("1")
    dislike.click()  # switches the vote
    expect(dislike).to_have_attribute("aria-pressed", "true")
    expect(like).to_have_attribute("aria-pressed", "false")
    expect(like).to_contain_text("0")
    expect(dislike).to_contain_text("1")
    page.reload()
    expect(dislike).to_have_attribute("aria-pressed", "true")
    expect(dislike).to_contain_text("1")
    dislike.click()  # withdraws
    expect(dislike).to_have_attribute("aria-pressed", "false")
    expect(dislike).to_contain_text("0")
    assert page.errors == []


def test_flag_with_reason(new_page: Any, host: HostServer, api: str, seed: Seeder) -> None:
    (cid,) = seed.comments([{"text": "Buy cheap watches at spam.example"}])
    page, widget = open_widget(new_page, host, api)
    comment(widget, cid).get_by_role("button", name="Report").click()
    group = widget.get_by_role("group", name="Why should a moderator look at this?")
    expect(group.get_by_role("radio")).to_have_count(4)
    widget.get_by_label("Spam or advertising").check()
    widget.get_by_label("Note for the moderators (optional)").fill("watch ads")
    with page.expect_request(lambda r: r.url.endswith(f"/comments/{cid}/flag")) as req:
        widget.get_by_role("button", name="Send report").click()
    assert req.value.post_data_json == {"reason": "spam", "note": "watch ads"}
    expect(widget.get_by_text("Thank you. A moderator will take a look.")).to_be_focused()
    page.reload()
    expect(comment(widget, cid).get_by_role("button", name="Reported")).to_be_visible()
    assert page.errors == []


def test_sort_switch(new_page: Any, host: HostServer, api: str, seed: Seeder) -> None:
    seed.comments(
        [
            {"text": "Oldest and liked", "minutes_ago": 300, "likes": 2},
            {"text": "Most liked", "minutes_ago": 200, "likes": 9},
            {"text": "Newest", "minutes_ago": 5, "likes": 0},
        ]
    )
    page, widget = open_widget(new_page, host, api)
    first = widget.locator(".list > li > article .body").first
    expect(first).to_have_text("Oldest and liked")
    widget.get_by_label("Sort by").focus()
    widget.get_by_label("Sort by").select_option("newest")
    expect(first).to_have_text("Newest")
    widget.get_by_label("Sort by").select_option("top")
    expect(first).to_have_text("Most liked")
    expect(widget.get_by_label("Sort by")).to_be_focused()
    assert page.errors == []


@pytest.mark.slow
def test_load_more_on_a_500_comment_thread(
    new_page: Any, host: HostServer, api: str, seed: Seeder
) -> None:
    seed.comments([{"text": f"Comment number {i}", "minutes_ago": 1000 - i} for i in range(500)])
    page, widget = open_widget(new_page, host, api)
    expect(widget.locator("h2")).to_have_text("500 Comments")
    top = widget.locator(".list > li")
    expect(top).to_have_count(20)
    more = widget.get_by_role("button", name="Load more comments")
    more.click()
    expect(top).to_have_count(40)
    expect(widget.locator("li[data-id] > article").nth(20)).to_be_focused()  # the first new one
    expect(widget.locator(".list > li > article .body").nth(20)).to_have_text("Comment number 20")
    for n in range(60, 501, 20):
        more.click()
        expect(top).to_have_count(n)
    expect(more).to_be_hidden()
    ids = top.evaluate_all("els => els.map(e => e.dataset.id)")
    assert len(set(ids)) == 500
    assert page.errors == []


def test_show_more_replies(new_page: Any, host: HostServer, api: str, seed: Seeder) -> None:
    # settings.replies_per_subtree is 5 in the browser tests: 12 replies leave 7 behind
    specs: list[dict[str, Any]] = [{"text": "Popular", "minutes_ago": 500}]
    specs += [{"text": f"Reply {i}", "parent": 0, "minutes_ago": 400 - i} for i in range(10)]
    specs += [
        {"text": "Nested A", "parent": 1, "minutes_ago": 100},
        {"text": "Nested B", "parent": 11, "minutes_ago": 90},
    ]
    ids = seed.comments(specs)
    page, widget = open_widget(new_page, host, api)
    expect(widget.locator("h2")).to_have_text("13 Comments")
    replies = widget.locator(f'li[data-id="{ids[0]}"] li[data-id]')
    shown = replies.count()
    assert 0 < shown < 12
    button = widget.get_by_role("button", name=re.compile(r"^Show \d+ more repl"))
    expect(button).to_have_text(f"Show {12 - shown} more replies")
    while button.count():
        before = replies.count()
        button.click()
        expect(replies).not_to_have_count(before)
    expect(replies).to_have_count(12)
    expect(widget.locator(f'li[data-id="{ids[11]}"] li[data-id="{ids[12]}"]')).to_have_count(1)
    texts = widget.locator(f'li[data-id="{ids[0]}"] > ol > li > article .body').all_inner_texts()
    assert texts == [f"Reply {i}" for i in range(10)]  # replies stay oldest first
    assert page.errors == []


def test_live_update_arrives_without_stealing_focus(
    new_page: Any, host: HostServer, api: str, seed: Seeder
) -> None:
    (cid,) = seed.comments([{"text": "Anyone there?"}])
    page, widget = open_widget(new_page, host, api)
    box = widget.get_by_label("Your comment")
    box.focus()
    box.type("I am typing")
    page.wait_for_timeout(300)  # the EventSource connects after the first page
    body = {
        "site": "news",
        "thread": THREAD,
        "text": "Live reply from another reader",
        "parent_id": str(cid),
        "author": {"name": "Other"},
        "thread_url": ORIGIN + THREAD,
    }
    r = httpx.post(api + "/api/v1/comments", json=body, headers={"Origin": ORIGIN})
    assert r.status_code == 201, r.text
    expect(widget.get_by_text("Live reply from another reader")).to_be_visible()
    expect(widget.locator("h2")).to_have_text("2 Comments")
    expect(widget.locator("[role=status]")).to_have_text("1 new comment")
    expect(box).to_be_focused()
    expect(box).to_have_value("I am typing")
    # an edit elsewhere replaces the comment in place
    posted = r.json()
    edit = httpx.patch(
        f"{api}/api/v1/comments/{posted['comment']['id']}",
        json={"text": "Live reply, *edited*"},
        headers={"Origin": ORIGIN, "X-Townhall-Edit-Token": posted["edit_token"]},
    )
    assert edit.status_code == 200, edit.text
    expect(widget.locator("em", has_text="edited")).to_be_visible()
    expect(widget.get_by_text("Live reply from another reader")).to_have_count(0)
    expect(widget.locator("article")).to_have_count(2)
    expect(box).to_be_focused()
    assert page.errors == []


def test_held_comment_is_shown_to_its_author_only(
    new_page: Any, host: HostServer, api: str, services: Any
) -> None:

    create_site(
        services.db,
        key="held",
        name="Held",
        origins=[host.origin],
        policy={**SITE_POLICY, "premoderation": True},
    )
    page, widget = open_widget(new_page, host, api, site="held")
    expect(widget.get_by_text("Comments are reviewed before they appear.")).to_be_visible()
    answer = post(widget, "Please approve me")
    assert answer["status"] == "pending"
    cid = answer["comment"]["id"]
    expect(comment(widget, cid)).to_contain_text("Awaiting moderation")
    expect(widget.locator("[role=status]")).not_to_be_empty()
    expect(widget.locator("h2")).to_have_text("0 Comments")
    page.reload()
    expect(comment(widget, cid)).to_contain_text("Awaiting moderation")  # via X-Townhall-Reader
    stranger = new_page()
    stranger.goto(page.url)
    expect(stranger.locator("#townhall-thread h2")).to_have_text("0 Comments")
    expect(stranger.locator("#townhall-thread").get_by_text("Please approve me")).to_have_count(0)


def test_server_errors_show_next_to_the_field(new_page: Any, host: HostServer, api: str) -> None:
    page, widget = open_widget(new_page, host, api)
    form = widget.locator("form").first
    form.get_by_role("button", name="Post comment").click()  # empty: checked before sending
    expect(form.get_by_text("Please write a comment first.")).to_be_visible()
    expect(form.get_by_label("Your comment")).to_be_focused()
    form.get_by_label("Your comment").fill("Fine words")
    form.get_by_label("Name", exact=True).fill("N" * 120)
    form.get_by_role("button", name="Post comment").click()
    name = form.get_by_label("Name", exact=True)
    expect(name).to_have_attribute("aria-invalid", "true")
    expect(name).to_be_focused()
    error = widget.locator("#" + name.get_attribute("id") + "-err")
    expect(error).to_be_visible()
    assert error.get_attribute("id") in (name.get_attribute("aria-describedby") or "")
    screenshot(page, "field-error", form)


def test_reader_text_is_never_html(new_page: Any, host: HostServer, api: str) -> None:
    page, widget = open_widget(new_page, host, api)
    evil = '<img src=x onerror="window.pwned=1">'
    cid = post(widget, f"Hi {evil} <script>window.pwned=2</script>", name=evil)["comment"]["id"]
    art = comment(widget, cid)
    expect(art.locator(".who")).to_have_text(evil)  # shown as text
    page.reload()
    expect(art.locator(".who")).to_have_text(evil)
    assert art.locator("img, script").count() == 0
    assert page.evaluate("window.pwned") is None


def test_closed_thread(new_page: Any, host: HostServer, api: str, seed: Seeder) -> None:
    seed.comments([{"text": "Last word"}])
    seed.thread(closed=True)
    page, widget = open_widget(new_page, host, api)
    expect(widget.get_by_text("Comments are closed.")).to_be_visible()
    expect(widget.locator("textarea")).to_have_count(0)
    expect(widget.get_by_role("button", name="Reply")).to_have_count(0)
    assert page.errors == []


@pytest.mark.parametrize(
    ("lang", "heading", "reply"),
    [
        ("de", "2 Kommentare", "Antworten"),
        ("fr", "2 commentaires", "Répondre"),
    ],
)
def test_languages(
    new_page: Any, host: HostServer, api: str, seed: Seeder, lang: str, heading: str, reply: str
) -> None:
    seed.comments([{"text": "Eins"}, {"text": "Zwei", "parent": 0}])
    url = host.page("/attr", widget_html(api, attrs=f'data-townhall-lang="{lang}"'))
    page = new_page()
    page.goto(url)
    widget = page.locator("#townhall-thread")
    expect(widget.locator("h2")).to_have_text(heading)
    expect(widget.get_by_role("button", name=reply, exact=True).first).to_be_visible()
    # without the attribute, the browser's language decides
    page2 = new_page(locale=f"{lang}-{lang.upper()}")
    page2.goto(host.page("/nav", widget_html(api)))
    expect(page2.locator("#townhall-thread h2")).to_have_text(heading)


def test_lazy_start_when_scrolled_into_view(new_page: Any, host: HostServer, api: str) -> None:
    tall = '<div style="height: 4000px">Long article</div>'
    page = new_page()
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url) if "/api/v1/" in r.url else None)
    page.goto(host.page("/tall", widget_html(api, before=tall)))
    page.wait_for_timeout(800)
    assert requests == []  # nothing fetched while the thread is far below
    page.mouse.wheel(0, 3500)
    expect(page.locator("#townhall-thread h2")).to_have_text("0 Comments")
    assert any("/api/v1/comments?" in u for u in requests)


def test_no_layout_shift_while_reading_down(
    new_page: Any, host: HostServer, api: str, seed: Seeder
) -> None:
    seed.comments([{"text": f"Comment {i}", "minutes_ago": 100 - i} for i in range(8)])
    html = render_template(
        "demo/article.html",
        server_url=api,
        site_key="news",
        thread_key=THREAD,
        asset_version="test",
    )
    page = new_page(viewport={"width": 1100, "height": 800})
    page.add_init_script("""window.__cls = 0; new PerformanceObserver(l => { for (const e of
        l.getEntries()) if (!e.hadRecentInput) window.__cls += e.value }).observe({type:
        'layout-shift', buffered: true});""")
    page.goto(host.page("/2026/11/story", html))
    for _ in range(30):  # a reader scrolling down the article at a normal pace
        page.mouse.wheel(0, 250)
        page.wait_for_timeout(60)
    expect(page.locator("#townhall-thread h2")).to_have_text("8 Comments")
    page.wait_for_timeout(300)
    assert page.evaluate("window.__cls") < 0.01


def test_live_updates_catch_up_after_an_outage(
    new_page: Any, host: HostServer, api: str, seed: Seeder
) -> None:
    seed.comments([{"text": "Before the outage"}])
    page = new_page()
    down = {"on": True}  # the event stream is unreachable: the EventSource keeps retrying
    page.route(
        "**/api/v1/events?**", lambda route: route.abort() if down["on"] else route.fallback()
    )
    page.goto(host.page("/article", widget_html(api)))
    widget = page.locator("#townhall-thread")
    expect(widget.locator("h2")).to_have_text("1 Comment")
    body = {
        "site": "news",
        "thread": THREAD,
        "text": "Posted while the stream was down",
        "author": {"name": "Other"},
        "thread_url": ORIGIN + THREAD,
    }
    assert httpx.post(api + "/api/v1/comments", json=body, headers={"Origin": ORIGIN}).is_success
    page.wait_for_timeout(500)
    expect(widget.get_by_text("Posted while the stream was down")).to_have_count(0)
    down["on"] = False  # the next retry connects, and the widget re-reads the first page
    expect(widget.get_by_text("Posted while the stream was down")).to_be_visible(timeout=15_000)
    expect(widget.locator("h2")).to_have_text("2 Comments")
    expect(widget.locator("[role=status]")).to_have_text("1 new comment")


@pytest.mark.parametrize(
    ("head", "path", "expected"),
    [
        ('<link rel="canonical" href="https://news.example/2026/11/story?utm=x">', "/a?b", THREAD),
        ("", "/2026/11/story", THREAD),
    ],
)
def test_thread_key_and_title_default_to_the_page(
    new_page: Any, host: HostServer, api: str, seed: Seeder, head: str, path: str, expected: str
) -> None:
    seed.comments([{"text": "Found by the page's own address"}])
    page = new_page()
    requests: list[Any] = []
    page.on("request", lambda r: requests.append(r) if "/api/v1/comments" in r.url else None)
    html = widget_html(api, thread=None, head=head, title="Page title")
    page.goto(host.page(path.split("?")[0], html).replace(path.split("?")[0], path))
    widget = page.locator("#townhall-thread")
    expect(widget.get_by_text("Found by the page's own address")).to_be_visible()
    answer = post(widget, "And posted to it")
    assert answer["status"] == "published"
    sent = requests[-1].post_data_json
    assert sent["thread"] == expected
    assert sent["thread_title"] == "Page title"
    assert sent["thread_url"] == host.origin + path  # the page itself, without the #hash
