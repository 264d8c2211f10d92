"""Browser test: search answers with a grid of note cards that loads more without moving a card,
and its Products tab shows products with their price and store."""

import secrets
import time
import unittest

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from support import Visitor, api, api_member, api_post_note, api_upload, png_file

NOTES = 26
CARD_POSITIONS = "return Object.fromEntries([...document.querySelectorAll('#results [data-note]')]" \
    ".map(c => { const r = c.getBoundingClientRect(); return [c.dataset.note, [r.left, r.top + scrollY]]; }))"


class SearchGrid(unittest.TestCase):
    def test_notes_come_as_a_growing_grid_and_products_with_price_and_store(self):
        word = f"quokka{secrets.token_hex(3)}"
        token = api_member(f"finder_{word[-6:]}")
        picture = png_file(120, 160, (150, 200, 230))
        for n in range(NOTES):
            api_post_note(token, f"Trip {n}", f"Seen a {word} today, number {n}", picture)
        api("POST", "/api/v1/orgs", token, {"slug": f"{word}_co", "name": "Quokka Co"})
        store = api("POST", f"/api/v1/orgs/{word}_co/store", token,
                    {"name": f"{word} outfitters", "shipping": {"fee": 800, "free_over": 9900}})
        media = api_upload(token, picture)
        api("POST", f"/api/v1/stores/{store['id']}/products", token, {
            "title": "Island sun hat", "category": "fashion", "state": "on_sale",
            "media_ids": [media], "skus": [{"code": "H", "name": "One size", "price": 5900, "stock": 9}]})

        # The index takes a moment to see new notes.
        for _ in range(50):
            if len(api("GET", f"/api/v1/search?q={word}&limit=50")["items"]) == NOTES:
                break
            time.sleep(0.1)

        visitor = Visitor()
        try:
            visitor.open("/explore")
            box = visitor.browser.find_element(By.CSS_SELECTOR, "header input[type=search]")
            box.send_keys(word, Keys.ENTER)
            visitor.wait.until(lambda b: "/search?q=" in b.current_url)

            def cards():
                return visitor.browser.find_elements(By.CSS_SELECTOR, "#results [data-note]")

            self.assertEqual(len(cards()), 20, "the first page")
            first_page = visitor.browser.execute_script(CARD_POSITIONS)
            columns = {left for left, _ in first_page.values()}
            self.assertGreater(len(columns), 1, "cards side by side, not a list")
            visitor.browser.execute_script("window.scrollTo(0, document.body.scrollHeight)")
            visitor.wait.until(lambda b: len(cards()) == NOTES)
            shown = [card.get_attribute("data-note") for card in cards()]
            self.assertEqual(len(set(shown)), NOTES, "no card twice")
            now = visitor.browser.execute_script(CARD_POSITIONS)
            self.assertEqual({note: now[note] for note in first_page}, first_page,
                             "loading more moved no card already shown")

            visitor.browser.execute_script("window.scrollTo(0, 0)")
            visitor.browser.find_element(By.LINK_TEXT, "Products").click()
            visitor.wait.until(lambda b: "type=products" in b.current_url)
            product = visitor.browser.find_element(By.CSS_SELECTOR, "#results .product-card")
            self.assertIn("Island sun hat", product.text)
            self.assertIn("¥59.00", product.text)
            self.assertIn(f"{word} outfitters", product.text)
            product.click()
            visitor.wait.until(lambda b: "/products/" in b.current_url)
        finally:
            visitor.quit()
