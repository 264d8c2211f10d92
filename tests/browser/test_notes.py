"""Browser tests: posting a note with photos, then another member likes it, follows its author
and comments, all through the real pages and their scripts."""

import secrets
import unittest

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec

from support import BASE, Visitor, png_file


class NoteJourney(unittest.TestCase):
    def test_post_with_photos_then_like_follow_and_comment(self):
        suffix = secrets.token_hex(3)
        author, reader = Visitor(), Visitor()
        try:
            author.sign_up(f"poster_{suffix}", "Poster")
            author.open("/notes/new")
            pictures = [png_file(300, 400, (255, 120, 120)), png_file(400, 300, (120, 160, 255))]
            author.browser.find_element(By.CSS_SELECTOR, "#composer input[type=file]").send_keys("\n".join(pictures))
            author.wait.until(lambda b: len(b.find_elements(By.CSS_SELECTOR, "#composer .previews li")) == 2)
            first, second = author.browser.find_elements(By.CSS_SELECTOR, "#composer .previews li")
            second_id = second.get_attribute("data-id")
            second.find_element(By.CSS_SELECTOR, ".tools button").click()  # move the second up
            media_ids = author.browser.find_element(By.CSS_SELECTOR, "#composer input[name=media_ids]")
            self.assertEqual(media_ids.get_attribute("value").split(",")[0], second_id)
            author.fill("title", "Weekend in Dali")
            author.fill("body", "Cycling around the lake #travel")
            self.assertEqual(author.find("title-count").text, "15 / 20")
            author.find("publish").click()
            # The composer itself lives under /notes/, so wait for the note's own address.
            author.wait.until(ec.url_matches(r"/notes/[0-9]+$"))
            note_url = author.browser.current_url
            self.assertEqual(author.find("note-title").text, "Weekend in Dali")
            images = author.browser.find_elements(By.CSS_SELECTOR, ".carousel img")
            self.assertEqual(len(images), 2)
            # A mouse reaches the second photo with the arrow; the dots follow.
            carousel = author.browser.find_element(By.CSS_SELECTOR, ".carousel")
            dots = author.browser.find_elements(By.CSS_SELECTOR, ".dots a")
            self.assertEqual(dots[0].get_attribute("aria-current"), "true")
            author.browser.find_element(By.CSS_SELECTOR, ".carousel-arrow.next").click()
            author.wait.until(lambda b: dots[1].get_attribute("aria-current") == "true")
            self.assertGreater(int(carousel.get_property("scrollLeft")), 0)
            self.assertIsNone(dots[0].get_attribute("aria-current"))
            author.browser.find_element(By.CSS_SELECTOR, ".carousel-arrow.previous").click()
            author.wait.until(lambda b: dots[0].get_attribute("aria-current") == "true")
            self.assertTrue(author.browser.find_element(By.CSS_SELECTOR, "a.topic").text == "#travel")

            reader.sign_up(f"reader_{suffix}", "Reader")
            reader.browser.get(note_url)
            reader.find("like-button").click()
            reader.wait.until(lambda b: b.find_element(By.ID, "like-count").text == "1")
            reader.find("follow-button").click()
            reader.wait.until(lambda b: b.find_element(By.ID, "follow-button").text == "Following")
            reader.fill("comment-body", "Looks wonderful!")
            reader.find("comment-send").click()
            reader.wait.until(lambda b: "Looks wonderful!" in b.find_element(By.ID, "comments").text)
            reader.browser.refresh()
            self.assertEqual(reader.find("like-count").text, "1", "the like was saved")
            self.assertEqual(reader.find("comment-count").text, "1")

            author.open(f"/@poster_{suffix}")
            self.assertEqual(author.find("follower-count").text, "1")
            author.open("/notifications")
            text = author.find("notifications").text
            self.assertIn("liked your note", text)
            self.assertIn("commented on your note", text)
            self.assertIn("started following you", text)
        finally:
            author.quit()
            reader.quit()


if __name__ == "__main__":
    unittest.main()
