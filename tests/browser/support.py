"""What the browser tests share: the browser, the site's address, and form helpers."""

import os
import tempfile

from selenium import webdriver
from selenium.common.exceptions import (
    NoSuchElementException,
    SessionNotCreatedException,
    StaleElementReferenceException,
)
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.file_detector import UselessFileDetector
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

BASE = os.environ["HONGSHU_URL"]
DRIVER = os.environ["WEBDRIVER_URL"]
PASSWORD = "red potato 42"


def new_browser(language="en-US"):
    """A headless Chromium with a profile of its own. Its start is tried twice: Chromium now and
    then exits while starting on a busy machine, which says nothing about Hongshu."""
    def options():
        opts = webdriver.ChromeOptions()
        opts.binary_location = "/usr/bin/chromium"
        profile = tempfile.mkdtemp(prefix="hongshu-chromium-")
        for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--no-first-run", f"--user-data-dir={profile}", f"--lang={language}"):
            opts.add_argument(flag)
        opts.add_experimental_option("prefs", {"intl.accept_languages": language})
        return opts
    try:
        browser = webdriver.Remote(command_executor=DRIVER, options=options())
    except SessionNotCreatedException:
        browser = webdriver.Remote(command_executor=DRIVER, options=options())
    # chromedriver runs on this machine and reads files itself; there is no grid to upload to.
    browser.file_detector = UselessFileDetector()
    return browser




def patient_wait(browser):
    """Waits up to 10 s; an element looked up while a page reloads after a form is sent is
    simply looked up again."""
    return WebDriverWait(browser, 10, ignored_exceptions=(StaleElementReferenceException, NoSuchElementException))


class Visitor:
    """One person at one browser."""

    def __init__(self, language="en-US"):
        self.browser = new_browser(language)
        self.wait = patient_wait(self.browser)

    def quit(self):
        self.browser.quit()

    def open(self, path):
        self.browser.get(BASE + path)

    def find(self, element_id):
        return self.browser.find_element(By.ID, element_id)

    def fill(self, field_id, text):
        field = self.find(field_id)
        field.clear()
        field.send_keys(text)

    def sign_up(self, handle, name):
        self.open("/signup")
        self.fill("handle", handle)
        self.fill("display_name", name)
        self.fill("password", PASSWORD)
        self.browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
        self.wait.until(ec.url_to_be(f"{BASE}/@{handle}"))
