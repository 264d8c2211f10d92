"""What the browser tests share: the browser, the site's address, form helpers, pictures, and
the JSON API for setting the scene."""

import json
import os
import shutil
import struct
import tempfile
import urllib.request
import uuid
import zlib

from selenium import webdriver
from selenium.common.exceptions import (
    NoSuchElementException,
    SessionNotCreatedException,
    StaleElementReferenceException,
    WebDriverException,
)
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.file_detector import UselessFileDetector
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

BASE = os.environ["HONGSHU_URL"]
DRIVER = os.environ["WEBDRIVER_URL"]
PASSWORD = "red potato 42"


def new_browser(language="en-US"):
    """A headless Chromium with a profile of its own, removed when the browser quits. Its start
    is tried twice: Chromium now and then exits while starting on a busy machine, which says
    nothing about Hongshu."""
    profiles = []

    def options():
        opts = webdriver.ChromeOptions()
        opts.binary_location = "/usr/bin/chromium"
        profiles.append(tempfile.mkdtemp(prefix="hongshu-chromium-"))
        for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--no-first-run", f"--user-data-dir={profiles[-1]}", f"--lang={language}"):
            opts.add_argument(flag)
        opts.add_experimental_option("prefs", {"intl.accept_languages": language})
        return opts
    try:
        browser = webdriver.Remote(command_executor=DRIVER, options=options())
    except SessionNotCreatedException:
        browser = webdriver.Remote(command_executor=DRIVER, options=options())
    # chromedriver runs on this machine and reads files itself; there is no grid to upload to.
    browser.file_detector = UselessFileDetector()
    quit_browser = browser.quit

    def quit_and_remove_profiles():
        try:
            quit_browser()
        finally:
            for profile in profiles:
                shutil.rmtree(profile, ignore_errors=True)
    browser.quit = quit_and_remove_profiles
    return browser




def png_file(width, height, colour):
    """Writes a plain RGB PNG and returns its path."""
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)
    row = b"\x00" + bytes(colour) * width
    raw = zlib.compress(row * height)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
    png += chunk(b"IDAT", raw) + chunk(b"IEND", b"")
    handle, path = tempfile.mkstemp(suffix=".png")
    with os.fdopen(handle, "wb") as out:
        out.write(png)
    return path


def api(method, path, token=None, body=None, content_type="application/json"):
    """Calls the JSON API; returns the decoded answer."""
    data = json.dumps(body).encode() if content_type == "application/json" and body is not None else body
    request = urllib.request.Request(BASE + path, data=data, method=method)
    if data is not None:
        request.add_header("content-type", content_type)
    if token:
        request.add_header("authorization", f"Bearer {token}")
    with urllib.request.urlopen(request) as answer:
        return json.loads(answer.read() or b"null")


def api_member(handle):
    """Signs a member up through the API; returns their bearer token."""
    api("POST", "/api/v1/auth/signup", body={"handle": handle, "display_name": handle, "password": PASSWORD})
    return api("POST", "/api/v1/auth/login", body={"handle": handle, "password": PASSWORD})["token"]


def api_upload(token, picture):
    """Uploads a picture through the API; returns its media id."""
    boundary = uuid.uuid4().hex
    with open(picture, "rb") as image:
        form = (f"--{boundary}\r\ncontent-disposition: form-data; name=\"file\"; filename=\"photo.png\"\r\n"
                f"content-type: image/png\r\n\r\n").encode() + image.read() + f"\r\n--{boundary}--\r\n".encode()
    return api("POST", "/api/v1/media", token, form, f"multipart/form-data; boundary={boundary}")["id"]


def api_post_note(token, title, body, picture):
    """Uploads the picture and posts a public note with it through the API."""
    media = api_upload(token, picture)
    return api("POST", "/api/v1/notes", token, {"title": title, "body": body, "media_ids": [media]})


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

    def press(self, element_id):
        """Presses a form's button and waits for the page it leads to: loading another page
        before then would abandon the form's post."""
        button = self.find(element_id)
        button.click()

        def left_behind(_):
            # While the next page replaces it, Chromium may report the old button as a node
            # "not in the document" rather than as stale: either way it is gone.
            try:
                button.is_enabled()
                return False
            except WebDriverException:
                return True

        self.wait.until(left_behind)

    def fill(self, field_id, text):
        field = self.find(field_id)
        field.clear()
        field.send_keys(text)

    def sign_in(self, handle):
        self.open("/login")
        self.fill("handle", handle)
        self.fill("password", PASSWORD)
        self.browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
        self.wait.until(lambda b: "/login" not in b.current_url)

    def sign_up(self, handle, name):
        self.open("/signup")
        self.fill("handle", handle)
        self.fill("display_name", name)
        self.fill("password", PASSWORD)
        self.browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
        self.wait.until(ec.url_to_be(f"{BASE}/@{handle}"))
