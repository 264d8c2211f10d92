//! One analyzer for Chinese and English text: jieba segments Chinese into words and passes
//! Latin words through; then everything is lower-cased and English words are stemmed, so
//! "Sunscreens" and "sunscreen" meet, and 防晒霜 is found inside a sentence.

use tantivy::tokenizer::{
    Language, LowerCaser, RemoveLongFilter, Stemmer, TextAnalyzer, TokenStream,
};

/// The name the analyzer is registered under in the index.
pub const ANALYZER: &str = "zh_en";

pub fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(tantivy_jieba::JiebaTokenizer::new())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(Stemmer::new(Language::English))
        .build()
}

/// The searchable words of a text, as the index sees them (spaces and punctuation dropped).
pub fn tokens(text: &str) -> Vec<String> {
    let mut analyzer = analyzer();
    let mut stream = analyzer.token_stream(text);
    let mut out = Vec::new();
    while stream.advance() {
        let token = stream.token().text.trim();
        if !token.is_empty() && token.chars().any(char::is_alphanumeric) {
            out.push(token.to_owned());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_is_segmented_into_words() {
        let words = tokens("这款防晒霜真的很好用");
        assert!(
            words.contains(&"防晒霜".to_owned()) || words.contains(&"防晒".to_owned()),
            "{words:?}"
        );
        assert!(!words.contains(&"这款防晒霜真的很好用".to_owned()));
    }

    #[test]
    fn english_is_case_folded_and_stemmed() {
        assert_eq!(tokens("Sunscreens"), tokens("sunscreen"));
        assert_eq!(tokens("HIKING trails"), ["hike", "trail"]);
    }

    #[test]
    fn punctuation_and_query_syntax_are_not_words() {
        assert_eq!(tokens("title:( \"abc AND OR"), ["titl", "abc", "and", "or"]);
        assert!(tokens("!!! ??? ：（）").is_empty());
    }
}
