"""Browser tests: the Explore pages scroll on without end and without repeats, and the topic
channel tabs lead to their channels."""

import secrets
import unittest

from selenium.webdriver.common.by import By

from support import Visitor, api_member, api_post_note, png_file

NOTES = 45


class EndlessExplore(unittest.TestCase):
    def test_a_topic_channel_scrolls_to_its_end_without_repeats(self):
        suffix = secrets.token_hex(3)
        topic = f"scroll{suffix}"
        token = api_member(f"scroller_{suffix}")
        picture = png_file(120, 160, (200, 220, 120))
        for n in range(NOTES):
            api_post_note(token, f"Scroll {n}", f"Number {n} #{topic}", picture)

        visitor = Visitor()
        try:
            visitor.open("/explore")
            tab = visitor.browser.find_element(By.LINK_TEXT, f"#{topic}")
            tab.click()
            visitor.wait.until(lambda b: b.current_url.endswith(f"/explore/{topic}"))
            current = visitor.browser.find_element(By.CSS_SELECTOR, ".channel-tabs a.current")
            self.assertEqual(current.text, f"#{topic}")

            def cards():
                found = visitor.browser.find_elements(By.CSS_SELECTOR, "[data-feed] [data-note]")
                return [card.get_attribute("data-note") for card in found]

            self.assertEqual(len(cards()), 20, "the first page")
            where = "return Object.fromEntries([...document.querySelectorAll('[data-feed] [data-note]')]" \
                ".map(c => { const r = c.getBoundingClientRect(); return [c.dataset.note, [r.left, r.top + scrollY]]; }))"
            first_page = visitor.browser.execute_script(where)
            for expected in (40, NOTES):
                visitor.browser.execute_script("window.scrollTo(0, document.body.scrollHeight)")
                visitor.wait.until(lambda b: len(cards()) >= expected)
            shown = cards()
            now = visitor.browser.execute_script(where)
            self.assertEqual({note: now[note] for note in first_page}, first_page,
                             "loading more moved no card already shown")
            self.assertEqual(len(shown), NOTES)
            self.assertEqual(len(set(shown)), NOTES, "no card twice")
            visitor.wait.until(lambda b: not b.find_elements(By.CSS_SELECTOR, "[data-more]"))
        finally:
            visitor.quit()
