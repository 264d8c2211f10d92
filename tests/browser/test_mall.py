"""Browser test: a buyer finds a product through a creator's note, checks out, pays in the
sandbox; the merchant ships; the buyer confirms receipt and reviews with a photo; the creator's
earnings show the commission."""

import secrets
import unittest

from selenium.webdriver.common.by import By

from support import Visitor, api, api_member, api_upload, png_file


def open_store(handle):
    """A merchant with a store and one product of two variants; returns (product id, title)."""
    token = api_member(handle)
    api("POST", "/api/v1/orgs", token, {"slug": f"{handle}_co", "name": f"{handle} Co"})
    store = api("POST", f"/api/v1/orgs/{handle}_co/store", token,
                {"name": f"{handle} store", "shipping": {"fee": 800, "free_over": 9900}})
    media = api_upload(token, png_file(120, 160, (230, 180, 190)))
    title = f"Rose serum {handle[-4:]}"
    product = api("POST", f"/api/v1/stores/{store['id']}/products", token, {
        "title": title, "category": "beauty", "state": "on_sale", "media_ids": [media],
        "commission_percent": 10,
        "skus": [{"code": "S", "name": "30ml", "price": 12900, "stock": 5},
                 {"code": "L", "name": "50ml", "price": 19900, "stock": 5}]})
    return product["id"], title


class BuyingFromTheShop(unittest.TestCase):
    def test_a_buyer_finds_a_product_through_a_note_and_the_creator_earns(self):
        suffix = secrets.token_hex(3)
        merchant = f"merchant_{suffix}"
        product, title = open_store(merchant)
        creator = f"creator_{suffix}"
        creator_token = api_member(creator)
        picture = api_upload(creator_token, png_file(120, 160, (240, 200, 210)))
        note = api("POST", "/api/v1/notes", creator_token, {
            "title": "My night routine", "body": "Love this #skincare", "media_ids": [picture],
            "product_ids": [product]})

        buyer = Visitor()
        seller = Visitor()
        writer = Visitor()
        try:
            buyer.sign_up(f"buyer_{suffix}", "Buyer")
            buyer.open(f"/notes/{note['id']}")
            buyer.find(f"buy-{product}").click()
            buyer.wait.until(lambda b: b.find_element(By.ID, "product-title").text == title)
            buyer.browser.find_elements(By.CSS_SELECTOR, "input[name=sku_id]")[1].click()
            buyer.find("buy-now").click()
            buyer.wait.until(lambda b: b.current_url.endswith("/cart"))
            form = buyer.find("address-form")
            for name, value in (("name", "Li Na"), ("phone", "13800138000"), ("region", "上海"),
                                ("detail", "1 Nanjing Road")):
                form.find_element(By.NAME, name).send_keys(value)
            buyer.find("save-address").click()
            buyer.wait.until(lambda b: b.find_element(By.ID, "place-order"))
            self.assertIn("199.00", buyer.find("cart-total").text)
            buyer.find("place-order").click()
            buyer.wait.until(lambda b: "/orders/" in b.current_url)
            order_url = buyer.browser.current_url
            self.assertEqual(buyer.find("order").get_attribute("data-status"), "pending_payment")
            self.assertIn("199.00", buyer.find("order-total").text, "free shipping from ¥99")

            buyer.find("pay").click()
            buyer.wait.until(lambda b: "/pay/sandbox/" in b.current_url)
            self.assertIn("199.00", buyer.find("pay-amount").text)
            buyer.press("pay-succeed")
            # Back on the order, which turns to paid by itself when the provider's word lands;
            # until then it says so and offers no second payment.
            buyer.wait.until(lambda b: "paying=" in b.current_url)
            if buyer.find("order").get_attribute("data-status") == "pending_payment":
                self.assertTrue(buyer.browser.find_elements(By.ID, "confirming"))
                self.assertFalse(buyer.browser.find_elements(By.ID, "pay"))
            buyer.wait.until(lambda b: b.find_element(By.ID, "order").get_attribute("data-status") == "paid")

            def status_becomes(visitor, status):
                def reloaded(browser):
                    browser.get(order_url)
                    return browser.find_element(By.ID, "order").get_attribute("data-status") == status
                visitor.wait.until(reloaded)

            seller.sign_in(merchant)
            seller.browser.get(order_url)
            form = seller.find("ship-form")
            form.find_element(By.NAME, "carrier").send_keys("SF Express")
            form.find_element(By.NAME, "tracking_number").send_keys("SF1234567890")
            seller.press("ship")
            status_becomes(seller, "shipped")
            self.assertEqual(seller.find("tracking").text, "SF1234567890")

            buyer.browser.get(order_url)
            buyer.press("confirm")
            status_becomes(buyer, "completed")
            steps = buyer.browser.find_elements(By.CSS_SELECTOR, "#timeline li")
            self.assertEqual(len(steps), 4, "placed, paid, shipped, completed")
            review = buyer.find("review-0")
            review.find_element(By.NAME, "body").send_keys("Lovely texture")
            photo = png_file(320, 320, (200, 170, 150))
            review.find_element(By.CSS_SELECTOR, "input[type=file]").send_keys(photo)
            buyer.wait.until(lambda b: len(review.find_elements(By.CSS_SELECTOR, ".previews li")) == 1)
            review.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
            buyer.wait.until(lambda b: b.find_element(By.ID, "product-title").text == title)
            self.assertIn("Lovely texture", buyer.find("reviews").text)
            self.assertIn("Verified purchase", buyer.find("reviews").text)
            pictures = buyer.browser.find_elements(By.CSS_SELECTOR, "#reviews .review img")
            self.assertEqual(len(pictures), 1, "the review's photo is shown")

            # The Me tab leads to one's orders.
            buyer.find("nav-me").click()
            buyer.wait.until(lambda b: b.current_url.endswith(f"/@buyer_{suffix}"))
            buyer.find("me-orders").click()
            buyer.wait.until(lambda b: b.current_url.endswith("/orders"))
            self.assertIn(title, buyer.browser.find_element(By.TAG_NAME, "main").text)

            writer.sign_in(creator)
            writer.open("/earnings")
            self.assertIn("19.90", writer.find("earnings-balance").text, "10 % of ¥199.00")
        finally:
            buyer.quit()
            seller.quit()
            writer.quit()


if __name__ == "__main__":
    unittest.main()
