//! The index: documents in, ranked hits out.

use std::borrow::Cow;
use std::collections::hash_map::Entry as Slot;
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Mutex;

use tantivy::collector::TopDocs;
use tantivy::directory::MmapDirectory;
use tantivy::query::{BooleanQuery, Occur, Query as TantivyQuery, TermQuery};
use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, Value, FAST, INDEXED, STORED,
    STRING,
};
use tantivy::{
    DocAddress, Index, IndexReader, IndexWriter, Order, ReloadPolicy, Score, Searcher,
    TantivyDocument, Term,
};

use crate::analyzer::{analyzer, tokens, ANALYZER};
use crate::snippet::snippet as snippet_of;

/// What a hit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Note,
    User,
    Topic,
    Product,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Note => "note",
            Kind::User => "user",
            Kind::Topic => "topic",
            Kind::Product => "product",
        }
    }
}

/// A published, public note as search sees it.
#[derive(Debug, Clone)]
pub struct NoteDoc {
    pub id: i64,
    pub title: String,
    pub body: String,
    pub author_id: i64,
    /// Likes plus collects.
    pub engagement: u64,
    pub created_at_ms: i64,
}

#[derive(Debug, Clone)]
pub struct UserDoc {
    pub id: i64,
    pub handle: String,
    pub display_name: String,
    pub bio: String,
    pub followers: u64,
    pub created_at_ms: i64,
}

#[derive(Debug, Clone)]
pub struct TopicDoc {
    pub id: i64,
    pub name: String,
    pub notes: u64,
    pub created_at_ms: i64,
}

/// A product on sale as search sees it: found by its title, its description and its store's name.
#[derive(Debug, Clone)]
pub struct ProductDoc {
    pub id: i64,
    pub title: String,
    pub description: String,
    pub store_name: String,
    /// Units sold.
    pub sold: u64,
    pub created_at_ms: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    /// Text score blended with engagement and freshness.
    Relevance,
    Latest,
    Popular,
}

/// How relevance blends the text score with engagement and freshness.
#[derive(Debug, Clone, Copy)]
pub struct Weights {
    /// Multiplies `ln(1 + engagement)`; 0 ignores engagement.
    pub engagement: f32,
    /// After this many days a document's score is halved; 0 ignores age.
    pub half_life_days: f32,
}

pub struct Query<'a> {
    pub text: &'a str,
    pub kind: Kind,
    pub sort: Sort,
    pub offset: usize,
    pub limit: usize,
    /// Authors whose documents must not be returned (blocks).
    pub excluded_authors: &'a [i64],
    pub now_ms: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub id: i64,
    pub score: f32,
    /// A piece of the text around the matches, HTML-escaped, matches in `<b>`.
    pub snippet: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("search index: {0}")]
    Index(#[from] tantivy::TantivyError),
    #[error("search index folder: {0}")]
    Folder(#[from] tantivy::directory::error::OpenDirectoryError),
    #[error("a query may read at most {MAX_DEPTH} results deep")]
    TooDeep,
}

struct Fields {
    key: Field,
    kind: Field,
    id: Field,
    /// Title and body, tokenised, for matching; not stored.
    text: Field,
    /// Title and body as written, for snippets; not indexed.
    title: Field,
    body: Field,
    author: Field,
    popularity: Field,
    created: Field,
}

impl Fields {
    fn add_texts(&self, doc: &mut TantivyDocument, title: &str, body: &str) {
        doc.add_text(self.text, title);
        doc.add_text(self.text, title);
        doc.add_text(self.text, body);
        doc.add_text(self.title, title);
        doc.add_text(self.body, body);
    }
}

/// What every kind of document holds in the index.
struct Entry<'a> {
    kind: Kind,
    id: i64,
    title: Cow<'a, str>,
    body: Cow<'a, str>,
    /// Whose it is, for excluding blocked people.
    author: Option<i64>,
    popularity: u64,
    created_ms: i64,
}

/// The index, its one writer and a reader that sees each commit.
pub struct SearchIndex {
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    fields: Fields,
    /// How far the application's change log has been applied, in the application's own
    /// notation (empty for a new index); saved with every commit.
    position: Mutex<String>,
}

/// "Best match" takes this many notes with the best text scores, then orders them by text
/// score blended with engagement and freshness. Blending every match instead made broad
/// queries (hundreds of thousands of matches) half again as slow.
const RERANK_WINDOW: usize = 1_000;

/// The deepest result a query reads (offset plus limit).
pub const MAX_DEPTH: usize = 10_000;

/// The longest snippet, in characters.
const SNIPPET_CHARS: usize = 150;

/// Memory the writer may fill before it writes a segment.
const WRITER_MEMORY: usize = 128 * 1024 * 1024;

impl SearchIndex {
    /// A new, empty index held in memory.
    pub fn in_memory() -> Result<SearchIndex, SearchError> {
        let (schema, fields) = Self::schema();
        Self::from_index(Index::create_in_ram(schema), fields)
    }

    /// The index kept in `folder`, created empty when the folder holds none. Fails when the
    /// folder holds an index of another schema, or another process is writing to it.
    pub fn open_or_create(folder: &Path) -> Result<SearchIndex, SearchError> {
        let (schema, fields) = Self::schema();
        let index = Index::open_or_create(MmapDirectory::open(folder)?, schema)?;
        Self::from_index(index, fields)
    }

    fn from_index(index: Index, fields: Fields) -> Result<SearchIndex, SearchError> {
        index.tokenizers().register(ANALYZER, analyzer());
        let writer = index.writer(WRITER_MEMORY)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let position = index.load_metas()?.payload.unwrap_or_default();
        Ok(SearchIndex {
            reader,
            writer: Mutex::new(writer),
            fields,
            position: Mutex::new(position),
        })
    }

    fn schema() -> (Schema, Fields) {
        let mut schema = Schema::builder();
        // Matching and scoring use one field holding the title twice and the body once (a title
        // word counts double), so each query word is one posting list to intersect.
        let searchable = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(ANALYZER)
                .set_index_option(IndexRecordOption::WithFreqs),
        );
        let fields = Fields {
            key: schema.add_text_field("key", STRING),
            kind: schema.add_text_field("kind", STRING),
            id: schema.add_i64_field("id", STORED | FAST),
            text: schema.add_text_field("text", searchable),
            title: schema.add_text_field("title", STORED),
            body: schema.add_text_field("body", STORED),
            author: schema.add_i64_field("author", INDEXED),
            popularity: schema.add_u64_field("popularity", FAST),
            created: schema.add_i64_field("created", FAST),
        };
        (schema.build(), fields)
    }

    /// The position in the application's change log up to which this index is current, as
    /// of the last commit (empty for a new index).
    pub fn position(&self) -> String {
        self.position
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Records how far the change log has been applied; saved by the next commit.
    pub fn set_position(&self, position: &str) {
        *self.position.lock().unwrap_or_else(|e| e.into_inner()) = position.to_owned();
    }

    fn key(kind: Kind, id: i64) -> String {
        format!("{}:{id}", kind.as_str())
    }

    fn writer(&self) -> std::sync::MutexGuard<'_, IndexWriter> {
        self.writer.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds documents or replaces earlier versions of them. Visible after the next commit.
    pub fn upsert_notes(&self, notes: &[NoteDoc]) -> Result<(), SearchError> {
        self.upsert(notes.iter().map(|note| Entry {
            kind: Kind::Note,
            id: note.id,
            title: note.title.as_str().into(),
            body: note.body.as_str().into(),
            author: Some(note.author_id),
            popularity: note.engagement,
            created_ms: note.created_at_ms,
        }))
    }

    pub fn upsert_users(&self, users: &[UserDoc]) -> Result<(), SearchError> {
        self.upsert(users.iter().map(|user| Entry {
            kind: Kind::User,
            id: user.id,
            title: format!("{} {}", user.display_name, user.handle).into(),
            body: user.bio.as_str().into(),
            author: Some(user.id),
            popularity: user.followers,
            created_ms: user.created_at_ms,
        }))
    }

    pub fn upsert_topics(&self, topics: &[TopicDoc]) -> Result<(), SearchError> {
        self.upsert(topics.iter().map(|topic| Entry {
            kind: Kind::Topic,
            id: topic.id,
            title: topic.name.as_str().into(),
            body: "".into(),
            author: None,
            popularity: topic.notes,
            created_ms: topic.created_at_ms,
        }))
    }

    pub fn upsert_products(&self, products: &[ProductDoc]) -> Result<(), SearchError> {
        self.upsert(products.iter().map(|product| Entry {
            kind: Kind::Product,
            id: product.id,
            title: product.title.as_str().into(),
            body: format!("{}\n{}", product.description, product.store_name).into(),
            author: None,
            popularity: product.sold,
            created_ms: product.created_at_ms,
        }))
    }

    /// Adds documents, replacing earlier versions of them.
    fn upsert<'a>(&self, entries: impl Iterator<Item = Entry<'a>>) -> Result<(), SearchError> {
        let writer = self.writer();
        let f = &self.fields;
        for entry in entries {
            let key = Self::key(entry.kind, entry.id);
            writer.delete_term(Term::from_field_text(f.key, &key));
            let mut doc = TantivyDocument::default();
            doc.add_text(f.key, &key);
            doc.add_text(f.kind, entry.kind.as_str());
            doc.add_i64(f.id, entry.id);
            f.add_texts(&mut doc, &entry.title, &entry.body);
            if let Some(author) = entry.author {
                doc.add_i64(f.author, author);
            }
            doc.add_u64(f.popularity, entry.popularity);
            doc.add_i64(f.created, entry.created_ms);
            writer.add_document(doc)?;
        }
        Ok(())
    }

    /// Removes a document. Gone after the next commit.
    pub fn delete(&self, kind: Kind, id: i64) {
        self.writer()
            .delete_term(Term::from_field_text(self.fields.key, &Self::key(kind, id)));
    }

    /// Makes everything written so far searchable and durable, with the position.
    pub fn commit(&self) -> Result<(), SearchError> {
        let mut writer = self.writer();
        let mut prepared = writer.prepare_commit()?;
        prepared.set_payload(&self.position());
        prepared.commit()?;
        self.reader.reload()?;
        Ok(())
    }

    /// Waits for the background merges to finish, so that a finished index is compact.
    pub fn wait_merging_threads(self) -> Result<(), SearchError> {
        let writer = self.writer.into_inner().unwrap_or_else(|e| e.into_inner());
        writer.wait_merging_threads()?;
        Ok(())
    }

    /// How many documents are searchable.
    pub fn len(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The text query: every word of the query must appear in the title or the body. Query
    /// syntax means nothing here: `title:(` is just words.
    fn text_query(&self, text: &str) -> Option<Box<dyn TantivyQuery>> {
        let words = tokens(text);
        if words.is_empty() {
            return None;
        }
        let clauses: Vec<(Occur, Box<dyn TantivyQuery>)> = words
            .iter()
            .map(|word| {
                let term = Term::from_field_text(self.fields.text, word);
                let query = TermQuery::new(term, IndexRecordOption::WithFreqs);
                (Occur::Must, Box::new(query) as Box<dyn TantivyQuery>)
            })
            .collect();
        Some(Box::new(BooleanQuery::new(clauses)))
    }

    /// Ranked hits for a query; an empty list when the query has no searchable words.
    pub fn search(&self, query: &Query<'_>, weights: Weights) -> Result<Vec<Hit>, SearchError> {
        // A query's depth sizes the collectors' heaps: nothing deeper than MAX_DEPTH is read,
        // whatever a caller asks for.
        if query.offset.saturating_add(query.limit) > MAX_DEPTH {
            return Err(SearchError::TooDeep);
        }
        let Some(text) = self.text_query(query.text) else {
            return Ok(Vec::new());
        };
        let f = &self.fields;
        let mut clauses: Vec<(Occur, Box<dyn TantivyQuery>)> = vec![
            (Occur::Must, text),
            (
                Occur::Must,
                Box::new(TermQuery::new(
                    Term::from_field_text(f.kind, query.kind.as_str()),
                    IndexRecordOption::Basic,
                )),
            ),
        ];
        for author in query.excluded_authors {
            clauses.push((
                Occur::MustNot,
                Box::new(TermQuery::new(
                    Term::from_field_i64(f.author, *author),
                    IndexRecordOption::Basic,
                )),
            ));
        }
        let full = BooleanQuery::new(clauses);
        let searcher = self.reader.searcher();
        let top = TopDocs::with_limit(query.limit.max(1)).and_offset(query.offset);
        let addresses: Vec<(f32, DocAddress)> = match query.sort {
            Sort::Relevance => {
                let window = RERANK_WINDOW.max(query.offset + query.limit);
                let candidates =
                    searcher.search(&full, &TopDocs::with_limit(window).order_by_score())?;
                let mut blended = blend_all(&searcher, candidates, query.now_ms, weights)?;
                // Equal blends keep one order from page to page.
                blended.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
                blended
                    .into_iter()
                    .skip(query.offset)
                    .take(query.limit)
                    .map(|(blend, address)| (blend as f32, address))
                    .collect()
            }
            Sort::Latest => searcher
                .search(
                    &full,
                    &top.order_by_fast_field::<i64>("created", Order::Desc),
                )?
                .into_iter()
                .map(|(created, address)| (created.unwrap_or(0) as f32, address))
                .collect(),
            Sort::Popular => searcher
                .search(
                    &full,
                    &top.order_by_fast_field::<u64>("popularity", Order::Desc),
                )?
                .into_iter()
                .map(|(popularity, address)| (popularity.unwrap_or(0) as f32, address))
                .collect(),
        };
        let words: HashSet<String> = tokens(query.text).into_iter().collect();
        addresses
            .into_iter()
            .map(|(score, address)| {
                let doc: TantivyDocument = searcher.doc(address)?;
                let text = |field| doc.get_first(field).and_then(|v| v.as_str()).unwrap_or("");
                let mut snippet = snippet_of(text(f.body), &words, SNIPPET_CHARS);
                if snippet.is_empty() {
                    snippet = snippet_of(text(f.title), &words, SNIPPET_CHARS);
                }
                Ok(Hit {
                    id: doc
                        .get_first(f.id)
                        .and_then(|v| v.as_i64())
                        .unwrap_or_default(),
                    score,
                    snippet,
                })
            })
            .collect()
    }
}

/// Blends the text scores of candidates with their engagement and age.
fn blend_all(
    searcher: &Searcher,
    candidates: Vec<(Score, DocAddress)>,
    now_ms: i64,
    weights: Weights,
) -> Result<Vec<(f64, DocAddress)>, SearchError> {
    let mut columns = HashMap::new();
    candidates
        .into_iter()
        .map(|(score, address)| {
            let (popularity, created) = match columns.entry(address.segment_ord) {
                Slot::Occupied(known) => known.into_mut(),
                Slot::Vacant(slot) => {
                    let fast = searcher.segment_reader(address.segment_ord).fast_fields();
                    slot.insert((
                        fast.u64("popularity")?.first_or_default_col(0),
                        fast.i64("created")?.first_or_default_col(0),
                    ))
                }
            };
            let doc = address.doc_id;
            let blended = blend(
                score,
                popularity.get_val(doc),
                created.get_val(doc),
                now_ms,
                weights,
            );
            Ok((blended, address))
        })
        .collect()
}

/// Text score × engagement boost × freshness decay, in double precision: notes of equal text
/// a millisecond apart in age must still differ (in single precision they tied, and ties fell
/// differently from one page to the next).
fn blend(score: Score, engagement: u64, created_ms: i64, now_ms: i64, weights: Weights) -> f64 {
    let boost = 1.0 + f64::from(weights.engagement) * (1.0 + engagement as f64).ln();
    let age_days = ((now_ms - created_ms).max(0) as f64) / 86_400_000.0;
    let decay = if weights.half_life_days > 0.0 {
        0.5f64.powf(age_days / f64::from(weights.half_life_days))
    } else {
        1.0
    };
    f64::from(score) * boost * decay
}

#[cfg(test)]
mod tests {
    use super::*;

    const WEIGHTS: Weights = Weights {
        engagement: 0.3,
        half_life_days: 30.0,
    };
    const DAY: i64 = 86_400_000;

    fn note(id: i64, title: &str, body: &str, engagement: u64, created_at_ms: i64) -> NoteDoc {
        NoteDoc {
            id,
            title: title.into(),
            body: body.into(),
            author_id: id * 10,
            engagement,
            created_at_ms,
        }
    }

    fn ask<'a>(text: &'a str, sort: Sort) -> Query<'a> {
        Query {
            text,
            kind: Kind::Note,
            sort,
            offset: 0,
            limit: 10,
            excluded_authors: &[],
            now_ms: 100 * DAY,
        }
    }

    fn ids(index: &SearchIndex, query: &Query<'_>) -> Vec<i64> {
        index
            .search(query, WEIGHTS)
            .unwrap()
            .into_iter()
            .map(|h| h.id)
            .collect()
    }

    fn sample() -> SearchIndex {
        let index = SearchIndex::in_memory().unwrap();
        index
            .upsert_notes(&[
                note(1, "夏日必备", "这款防晒霜真的很好用，不油腻", 10, 99 * DAY),
                note(
                    2,
                    "Best Sunscreens of 2026",
                    "Light sunscreens for oily skin",
                    500,
                    90 * DAY,
                ),
                note(3, "Hiking in Dali", "Trails around the lake", 3, 98 * DAY),
                note(4, "防晒霜测评", "五款防晒霜对比", 50, 10 * DAY),
            ])
            .unwrap();
        index.commit().unwrap();
        index
    }

    #[test]
    fn a_query_deeper_than_the_deepest_is_refused_before_it_reads() {
        let index = sample();
        for sort in [Sort::Relevance, Sort::Latest, Sort::Popular] {
            let deep = Query {
                offset: 2_000_000_000,
                ..ask("防晒霜", sort)
            };
            assert!(matches!(
                index.search(&deep, WEIGHTS),
                Err(SearchError::TooDeep)
            ));
            let overflowing = Query {
                offset: usize::MAX,
                ..ask("防晒霜", sort)
            };
            assert!(index.search(&overflowing, WEIGHTS).is_err());
        }
    }

    #[test]
    fn chinese_words_are_found_inside_sentences() {
        let index = sample();
        let found = ids(&index, &ask("防晒霜", Sort::Relevance));
        assert!(found.contains(&1) && found.contains(&4), "{found:?}");
        assert!(!found.contains(&3));
    }

    #[test]
    fn english_matches_regardless_of_case_and_plural() {
        let index = sample();
        assert_eq!(ids(&index, &ask("sunscreen", Sort::Relevance)), [2]);
        assert_eq!(ids(&index, &ask("HIKING trail", Sort::Relevance)), [3]);
    }

    #[test]
    fn sorts_by_latest_and_popular() {
        let index = sample();
        assert_eq!(ids(&index, &ask("防晒霜", Sort::Latest)), [1, 4]);
        assert_eq!(ids(&index, &ask("防晒霜", Sort::Popular)), [4, 1]);
    }

    #[test]
    fn relevance_prefers_fresh_notes_when_text_scores_are_close() {
        let index = sample();
        assert_eq!(
            ids(&index, &ask("防晒霜", Sort::Relevance))[0],
            1,
            "note 4 is 90 days old"
        );
    }

    #[test]
    fn deletions_and_edits_show_after_commit_and_blocks_exclude_authors() {
        let index = sample();
        index.delete(Kind::Note, 1);
        index
            .upsert_notes(&[note(4, "Changed", "nothing about skin", 0, 10 * DAY)])
            .unwrap();
        index.commit().unwrap();
        assert!(ids(&index, &ask("防晒霜", Sort::Relevance)).is_empty());
        let blocked = Query {
            excluded_authors: &[30],
            ..ask("hiking", Sort::Relevance)
        };
        assert!(ids(&index, &blocked).is_empty());
    }

    #[test]
    fn products_are_found_by_title_description_and_store_apart_from_notes() {
        let index = sample();
        let product = |id, title: &str, description: &str, sold| ProductDoc {
            id,
            title: title.into(),
            description: description.into(),
            store_name: "山野小铺 Hill Shop".into(),
            sold,
            created_at_ms: 50 * DAY,
        };
        index
            .upsert_products(&[
                product(7, "清透防晒霜 SPF50", "轻薄不油腻", 3),
                product(8, "Trail shoes", "Grip on wet rock", 40),
            ])
            .unwrap();
        index.commit().unwrap();
        let products = |text| Query {
            kind: Kind::Product,
            ..ask(text, Sort::Popular)
        };
        assert_eq!(ids(&index, &products("防晒霜")), [7]);
        assert_eq!(ids(&index, &products("hill shop")), [8, 7]);
        assert_eq!(ids(&index, &products("wet rocks")), [8]);
        assert!(!ids(&index, &ask("防晒霜", Sort::Relevance)).contains(&7));
        index.delete(Kind::Product, 7);
        index.commit().unwrap();
        assert!(ids(&index, &products("防晒霜")).is_empty());
    }

    #[test]
    fn pages_of_equal_notes_neither_overlap_nor_skip_as_time_passes() {
        let index = SearchIndex::in_memory().unwrap();
        let notes: Vec<NoteDoc> = (0..30)
            .map(|n| note(n, "Trip", &format!("a quokka, number {n}"), 0, 99 * DAY + n))
            .collect();
        index.upsert_notes(&notes).unwrap();
        index.commit().unwrap();
        let mut seen = HashSet::new();
        for (page, later_ms) in [(0, 0), (1, 1_234), (2, 98_765)] {
            let query = Query {
                offset: page * 10,
                now_ms: 100 * DAY + later_ms,
                ..ask("quokka", Sort::Relevance)
            };
            seen.extend(ids(&index, &query));
        }
        assert_eq!(seen.len(), 30);
    }

    #[test]
    fn a_folder_index_keeps_its_documents_and_position() {
        let temp = tempfile::tempdir().unwrap();
        let folder = temp.path();
        {
            let index = SearchIndex::open_or_create(folder).unwrap();
            assert_eq!(index.position(), "");
            index
                .upsert_notes(&[note(1, "Hiking in Dali", "", 0, DAY)])
                .unwrap();
            index.set_position("7.42");
            index.commit().unwrap();
            index.wait_merging_threads().unwrap();
        }
        let index = SearchIndex::open_or_create(folder).unwrap();
        assert_eq!(index.position(), "7.42");
        assert_eq!(ids(&index, &ask("hiking", Sort::Relevance)), [1]);
    }

    #[test]
    fn query_syntax_is_plain_text_and_snippets_are_escaped() {
        let index = sample();
        for hostile in ["title:(", "\"abc", "AND OR", "*", "<script>"] {
            assert!(
                index
                    .search(&ask(hostile, Sort::Relevance), WEIGHTS)
                    .is_ok(),
                "{hostile}"
            );
        }
        index
            .upsert_notes(&[note(9, "x", "<b>bold</b> lake views", 0, DAY)])
            .unwrap();
        index.commit().unwrap();
        let hits = index
            .search(&ask("lake", Sort::Relevance), WEIGHTS)
            .unwrap();
        let html = &hits.iter().find(|h| h.id == 9).unwrap().snippet;
        assert!(
            html.contains("&lt;b&gt;bold") && html.contains("<b>lake</b>"),
            "{html}"
        );
    }
}
