//! Snippets: a piece of a text around its matching words, HTML-escaped, matches in `<b>`.
//!
//! tantivy's own snippet generator assumes that tokens come in order of position; jieba's
//! search mode emits a long word and then the words inside it ("北京烤鸭", then "北京" and
//! "烤鸭"), which makes that generator slice outside the text. This one merges overlapping
//! matches first.

use std::collections::HashSet;
use std::ops::Range;

use tantivy::tokenizer::TokenStream;

use crate::analyzer::analyzer;

/// Characters of context kept before the first match.
const LEAD: usize = 20;

/// Up to `max_chars` characters of `text` starting a little before its first matching word,
/// with every matching word in `<b>`; empty when no word of `words` (analysed forms) occurs.
pub fn snippet(text: &str, words: &HashSet<String>, max_chars: usize) -> String {
    let matches = matches(text, words);
    let Some(first) = matches.first() else {
        return String::new();
    };
    let window = window(text, first.start, max_chars);
    let mut html = String::new();
    if window.start > 0 {
        html.push('…');
    }
    let mut at = window.start;
    for found in matches.iter().filter(|m| m.start < window.end) {
        let end = found.end.min(window.end);
        escape_into(&mut html, &text[at..found.start.max(at)]);
        html.push_str("<b>");
        escape_into(&mut html, &text[found.start.max(at)..end]);
        html.push_str("</b>");
        at = end;
    }
    escape_into(&mut html, &text[at..window.end]);
    if window.end < text.len() {
        html.push('…');
    }
    html
}

/// Byte ranges of the matching words, sorted, overlaps merged.
fn matches(text: &str, words: &HashSet<String>) -> Vec<Range<usize>> {
    let mut analyzer = analyzer();
    let mut stream = analyzer.token_stream(text);
    let mut found = Vec::new();
    while stream.advance() {
        let token = stream.token();
        if words.contains(&token.text) {
            found.push(token.offset_from..token.offset_to);
        }
    }
    found.sort_by_key(|r| r.start);
    let mut merged: Vec<Range<usize>> = Vec::with_capacity(found.len());
    for range in found {
        match merged.last_mut() {
            Some(last) if range.start <= last.end => last.end = last.end.max(range.end),
            _ => merged.push(range),
        }
    }
    merged
}

/// The byte range of at most `max_chars` characters, starting up to [`LEAD`] characters
/// before `first_match`.
fn window(text: &str, first_match: usize, max_chars: usize) -> Range<usize> {
    let lead = text[..first_match].chars().count().min(LEAD);
    let start = text[..first_match]
        .char_indices()
        .rev()
        .nth(lead.saturating_sub(1))
        .map_or(first_match, |(i, _)| i);
    let end = text[start..]
        .char_indices()
        .nth(max_chars)
        .map_or(text.len(), |(i, _)| start + i);
    start..end
}

fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokens;

    fn words(query: &str) -> HashSet<String> {
        tokens(query).into_iter().collect()
    }

    #[test]
    fn overlapping_chinese_words_are_highlighted_once() {
        let html = snippet("今天吃了北京烤鸭，很好吃", &words("北京烤鸭"), 100);
        assert_eq!(html, "今天吃了<b>北京烤鸭</b>，很好吃");
    }

    #[test]
    fn english_matches_any_case_and_text_is_escaped() {
        let html = snippet("<i>Best</i> Sunscreens & more", &words("sunscreen"), 100);
        assert_eq!(html, "&lt;i&gt;Best&lt;/i&gt; <b>Sunscreens</b> &amp; more");
    }

    #[test]
    fn long_texts_are_cut_around_the_first_match() {
        let text = format!("{} lake {}", "far ".repeat(50), "away ".repeat(50));
        let html = snippet(&text, &words("lake"), 40);
        assert!(html.starts_with('…') && html.ends_with('…'), "{html}");
        assert!(html.contains("<b>lake</b>"));
        assert!(html.chars().count() < 60, "{html}");
        assert_eq!(snippet("nothing here", &words("lake"), 40), "");
    }
}
