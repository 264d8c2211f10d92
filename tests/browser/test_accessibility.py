"""Browser test: axe-core checks the main pages, signed in and out, on a phone and a desktop, in
both languages; no serious or critical violation may remain."""

import json
import os
import secrets
import unittest

from selenium.webdriver.common.by import By

from support import Visitor, api, api_member, api_upload, png_file
from test_mall import open_store

AXE = os.environ.get("HONGSHU_AXE", "target/axe/node_modules/axe-core/axe.min.js")
RUN_AXE = """
const done = arguments[arguments.length - 1];
axe.run(document, { resultTypes: ["violations"] }).then((result) => done(result.violations
  .filter((v) => v.impact === "serious" || v.impact === "critical")
  .map((v) => ({ rule: v.id, impact: v.impact, help: v.help,
                 where: v.nodes.slice(0, 3).map((n) => n.target.join(" ")) }))));
"""


class AccessiblePages(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(AXE, encoding="utf-8") as source:
            cls.axe = source.read()
        suffix = secrets.token_hex(3)
        product, _ = open_store(f"a11y_shop_{suffix}")
        creator = api_member(f"a11y_maker_{suffix}")
        picture = api_upload(creator, png_file(120, 160, (200, 220, 240)))
        note = api("POST", "/api/v1/notes", creator, {
            "title": "Morning light", "body": "Golden hour #photo @nobody", "media_ids": [picture],
            "product_ids": [product]})
        cls.reader = f"a11y_reader_{suffix}"
        cls.pages = ["/", "/shop", f"/products/{product}", f"/notes/{note['id']}", "/cart",
                     "/orders", "/notifications", f"/@{cls.reader}", "/search?q=light",
                     "/settings/profile", "/notes/new"]

    def violations(self, visitor, path):
        visitor.open(path)
        visitor.wait.until(lambda b: b.find_element(By.TAG_NAME, "main"))
        visitor.browser.execute_script(self.axe)
        visitor.browser.set_script_timeout(60)
        return visitor.browser.execute_async_script(RUN_AXE)

    def test_the_main_pages_have_no_serious_accessibility_violation(self):
        found = {}
        for language in ("zh-CN", "en-US"):
            visitor = Visitor(language)
            try:
                for path in ("/login", "/signup"):
                    found[(language, "signed out", path)] = self.violations(visitor, path)
                if language == "zh-CN":
                    visitor.sign_up(self.reader, "Reader")
                else:
                    visitor.sign_in(self.reader)
                for width, height in ((390, 844), (1440, 900)):
                    visitor.browser.set_window_size(width, height)
                    for path in self.pages:
                        found[(language, width, path)] = self.violations(visitor, path)
            finally:
                visitor.quit()
        serious = {str(k): v for k, v in found.items() if v}
        self.assertEqual(serious, {}, json.dumps(serious, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    unittest.main()
