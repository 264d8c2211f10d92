"""Browser tests: a person signs up, signs in, edits the profile and signs out through the real
pages, in headless Chromium driven over WebDriver (chromedriver started by scripts/test)."""

import secrets
import unittest

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec

from support import BASE, PASSWORD, new_browser, patient_wait


class AccountJourney(unittest.TestCase):
    def setUp(self):
        self.browser = new_browser()
        self.wait = patient_wait(self.browser)
        self.handle = "web_" + secrets.token_hex(4)

    def tearDown(self):
        self.browser.quit()

    def open(self, path):
        self.browser.get(BASE + path)

    def fill(self, field_id, text):
        field = self.browser.find_element(By.ID, field_id)
        field.clear()
        field.send_keys(text)

    def submit(self):
        self.browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()

    def sign_up(self):
        self.open("/signup")
        self.fill("handle", self.handle)
        self.fill("display_name", "Web Tester")
        self.fill("password", PASSWORD)
        self.submit()
        self.wait.until(ec.url_to_be(f"{BASE}/@{self.handle}"))

    def sign_out(self):
        self.browser.find_element(By.ID, "sign-out").click()
        self.wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "a[href='/signup']")))

    def test_sign_up_edit_profile_sign_out_and_sign_in_again(self):
        self.sign_up()
        self.assertEqual(self.browser.find_element(By.ID, "display-name").text, "Web Tester")

        self.browser.find_element(By.ID, "edit-profile").click()
        self.wait.until(ec.url_to_be(f"{BASE}/settings/profile"))
        self.fill("display_name", "Web Tester 测试")
        self.fill("bio", "Trying <b>Hongshu</b> in a real browser")
        counter = self.browser.find_element(By.ID, "bio-count").text
        self.assertTrue(counter.endswith("/ 300"), counter)
        self.submit()
        self.wait.until(ec.presence_of_element_located((By.ID, "saved")))

        self.browser.find_element(By.ID, "view-profile").click()
        self.wait.until(ec.url_to_be(f"{BASE}/@{self.handle}"))
        self.assertEqual(self.browser.find_element(By.ID, "display-name").text, "Web Tester 测试")
        self.assertEqual(self.browser.find_element(By.ID, "bio").text, "Trying <b>Hongshu</b> in a real browser")

        self.sign_out()
        self.open("/settings/profile")
        self.wait.until(ec.url_contains("/login"))

        self.fill("handle", self.handle)
        self.fill("password", "not my password")
        self.submit()
        message = self.wait.until(ec.presence_of_element_located((By.ID, "form-message")))
        self.assertIn("wrong", message.text)

        self.fill("handle", self.handle)
        self.fill("password", PASSWORD)
        self.submit()
        self.wait.until(ec.url_to_be(f"{BASE}/settings/profile"))
        self.assertEqual(self.browser.find_element(By.ID, "display_name").get_attribute("value"), "Web Tester 测试")

    def test_sign_up_errors_are_shown_beside_the_fields(self):
        self.open("/signup")
        self.fill("handle", "x")
        self.fill("display_name", "Short Handle")
        self.fill("password", "123")
        self.submit()
        self.assertIn("3 to 24", self.wait.until(ec.presence_of_element_located((By.ID, "handle-error"))).text)
        self.assertIn("8 characters", self.browser.find_element(By.ID, "password-error").text)
        self.assertEqual(self.browser.find_element(By.ID, "display_name").get_attribute("value"), "Short Handle")


class Languages(unittest.TestCase):
    def test_chinese_readers_get_chinese_pages_and_can_switch(self):
        browser = new_browser("zh-CN")
        try:
            browser.get(BASE + "/login")
            self.assertEqual(browser.find_element(By.TAG_NAME, "html").get_attribute("lang"), "zh-CN")
            self.assertEqual(browser.find_element(By.TAG_NAME, "h1").text, "登录")
            browser.find_element(By.CSS_SELECTOR, "a[hreflang='en']").click()
            patient_wait(browser).until(
                lambda b: b.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en")
            self.assertEqual(browser.find_element(By.TAG_NAME, "h1").text, "Sign in")
        finally:
            browser.quit()


if __name__ == "__main__":
    unittest.main()
