//! Tables as portable rows, the same on SQLite and PostgreSQL: what `hongshu export` writes and
//! `hongshu import` reads. Every column of Hongshu is `BIGINT` or `TEXT` (the storage rules of
//! the design notes), so a value is a JSON integer, string or null; any other column type is
//! refused rather than carried over approximately. Tables come in an order where each follows
//! those its foreign keys point at, and rows in their primary key's order, so that a row that
//! points at its own table (a reply at the comment it answers) follows what it points at: ids
//! grow with time.

use std::collections::{BTreeMap, BTreeSet};

use futures_util::TryStreamExt;
use serde_json::Value;
use sqlx::{AnyConnection, Row};

use crate::{values_placeholders, Backend};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    BigInt,
    Text,
}

#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    pub kind: ColumnType,
}

#[derive(Debug, Clone)]
pub struct Table {
    pub name: String,
    pub columns: Vec<Column>,
    /// The primary key's columns, in order (every column when there is none).
    pub key: Vec<String>,
}

impl Table {
    pub fn column_names(&self) -> Vec<String> {
        self.columns.iter().map(|c| c.name.clone()).collect()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PortableError {
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
    #[error("column {table}.{column} has the type {kind}, which is not carried over")]
    UnsupportedColumn {
        table: String,
        column: String,
        kind: String,
    },
    #[error("the foreign keys of these tables point at each other in a circle: {0}")]
    Circle(String),
    #[error("row {row} of {table}: {column} must be {expected}")]
    BadValue {
        table: String,
        row: u64,
        column: String,
        expected: &'static str,
    },
}

/// The version of the newest migration this build knows.
pub fn newest_migration() -> i64 {
    crate::MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0)
}

/// The version of the newest migration applied to the database.
pub async fn applied_migration(conn: &mut AnyConnection) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations WHERE success = TRUE",
    )
    .fetch_one(conn)
    .await
}

/// Every table but the migrations' own, in an order that satisfies the foreign keys.
pub async fn tables(
    conn: &mut AnyConnection,
    backend: Backend,
) -> Result<Vec<Table>, PortableError> {
    let names: Vec<String> = sqlx::query_scalar(crate::table_names(backend))
        .fetch_all(&mut *conn)
        .await?;
    let mut tables = BTreeMap::new();
    let mut points_at = BTreeMap::new();
    for name in names {
        let table = describe(conn, backend, &name).await?;
        points_at.insert(name.clone(), referenced_tables(conn, backend, &name).await?);
        tables.insert(name, table);
    }
    let order = dependency_order(&points_at)?;
    Ok(order
        .into_iter()
        .filter_map(|name| tables.remove(&name))
        .collect())
}

async fn describe(
    conn: &mut AnyConnection,
    backend: Backend,
    name: &str,
) -> Result<Table, PortableError> {
    // (column, declared type, position in the primary key or 0)
    let described: Vec<(String, String, i64)> = match backend {
        Backend::Sqlite => {
            sqlx::query_as("SELECT name, type, pk FROM pragma_table_info($1) ORDER BY cid")
                .bind(name)
                .fetch_all(&mut *conn)
                .await?
        }
        Backend::Postgres => {
            sqlx::query_as(
                "SELECT CAST(c.column_name AS TEXT), CAST(c.data_type AS TEXT), \
                 CAST(COALESCE(array_position(i.indkey::int2[], a.attnum) + 1, 0) AS BIGINT) \
                 FROM information_schema.columns c \
                 JOIN pg_attribute a ON a.attrelid = CAST($1 AS regclass) AND a.attname = c.column_name \
                 LEFT JOIN pg_index i ON i.indrelid = a.attrelid AND i.indisprimary \
                 WHERE c.table_schema = current_schema() AND c.table_name = $1 \
                 ORDER BY c.ordinal_position",
            )
            .bind(name)
            .fetch_all(&mut *conn)
            .await?
        }
    };
    let mut columns = Vec::new();
    let mut key: Vec<(i64, String)> = Vec::new();
    for (column, declared, in_key) in described {
        let kind = match declared.to_ascii_lowercase().as_str() {
            "bigint" => ColumnType::BigInt,
            "text" => ColumnType::Text,
            other => {
                return Err(PortableError::UnsupportedColumn {
                    table: name.to_owned(),
                    column,
                    kind: other.to_owned(),
                })
            }
        };
        if in_key > 0 {
            key.push((in_key, column.clone()));
        }
        columns.push(Column { name: column, kind });
    }
    key.sort();
    let key = if key.is_empty() {
        columns.iter().map(|c| c.name.clone()).collect()
    } else {
        key.into_iter().map(|(_, c)| c).collect()
    };
    Ok(Table {
        name: name.to_owned(),
        columns,
        key,
    })
}

async fn referenced_tables(
    conn: &mut AnyConnection,
    backend: Backend,
    name: &str,
) -> Result<BTreeSet<String>, sqlx::Error> {
    let referenced: Vec<String> = sqlx::query_scalar(match backend {
        Backend::Sqlite => "SELECT \"table\" FROM pragma_foreign_key_list($1)",
        Backend::Postgres => {
            "SELECT CAST(CAST(confrelid AS regclass) AS TEXT) FROM pg_constraint \
             WHERE contype = 'f' AND conrelid = CAST($1 AS regclass)"
        }
    })
    .bind(name)
    .fetch_all(conn)
    .await?;
    Ok(referenced.into_iter().filter(|t| t != name).collect())
}

/// Tables so that each comes after every table it points at; ties by name.
fn dependency_order(
    points_at: &BTreeMap<String, BTreeSet<String>>,
) -> Result<Vec<String>, PortableError> {
    let mut done: BTreeSet<&str> = BTreeSet::new();
    let mut order = Vec::with_capacity(points_at.len());
    while order.len() < points_at.len() {
        let ready: Vec<&String> = points_at
            .iter()
            .filter(|(name, targets)| {
                !done.contains(name.as_str())
                    && targets
                        .iter()
                        .all(|t| done.contains(t.as_str()) || !points_at.contains_key(t))
            })
            .map(|(name, _)| name)
            .collect();
        if ready.is_empty() {
            let stuck: Vec<&str> = points_at
                .keys()
                .map(String::as_str)
                .filter(|name| !done.contains(name))
                .collect();
            return Err(PortableError::Circle(stuck.join(", ")));
        }
        for name in ready {
            done.insert(name);
            order.push(name.clone());
        }
    }
    Ok(order)
}

pub async fn count(conn: &mut AnyConnection, table: &Table) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(&format!("SELECT COUNT(*) FROM \"{}\"", table.name))
        .fetch_one(conn)
        .await
}

/// Calls `each` with every row of the table, in its key's order, as JSON values.
pub async fn each_row(
    conn: &mut AnyConnection,
    table: &Table,
    mut each: impl FnMut(Vec<Value>) -> Result<(), PortableError>,
) -> Result<(), PortableError> {
    let columns = quoted(table.columns.iter().map(|c| c.name.as_str()));
    let key = quoted(table.key.iter().map(String::as_str));
    let sql = format!("SELECT {columns} FROM \"{}\" ORDER BY {key}", table.name);
    let mut rows = sqlx::query(&sql).fetch(conn);
    while let Some(row) = rows.try_next().await? {
        let mut values = Vec::with_capacity(table.columns.len());
        for (i, column) in table.columns.iter().enumerate() {
            values.push(match column.kind {
                ColumnType::BigInt => row
                    .try_get::<Option<i64>, _>(i)?
                    .map_or(Value::Null, Value::from),
                ColumnType::Text => row
                    .try_get::<Option<String>, _>(i)?
                    .map_or(Value::Null, Value::from),
            });
        }
        each(values)?;
    }
    Ok(())
}

/// Rows per insert statement: well under both databases' limits on bound parameters.
pub fn rows_per_insert(table: &Table) -> usize {
    (30_000 / table.columns.len().max(1)).clamp(1, 500)
}

/// Inserts rows read by [`each_row`] (values in the table's column order); `first_row` is the
/// number of the first, for errors.
pub async fn insert_rows(
    conn: &mut AnyConnection,
    backend: Backend,
    table: &Table,
    rows: &[Vec<Value>],
    first_row: u64,
) -> Result<(), PortableError> {
    if rows.is_empty() {
        return Ok(());
    }
    let columns = quoted(table.columns.iter().map(|c| c.name.as_str()));
    let sql = format!(
        "INSERT INTO \"{}\" ({columns}) VALUES {}",
        table.name,
        values_placeholders(backend, rows.len(), table.columns.len())
    );
    let mut query = sqlx::query(&sql);
    for (n, row) in rows.iter().enumerate() {
        let bad = |column: &Column, expected| PortableError::BadValue {
            table: table.name.clone(),
            row: first_row + n as u64,
            column: column.name.clone(),
            expected,
        };
        if row.len() != table.columns.len() {
            return Err(bad(
                &table.columns[0],
                "one of a row of the table's columns",
            ));
        }
        for (value, column) in row.iter().zip(&table.columns) {
            query = match (column.kind, value) {
                (ColumnType::BigInt, Value::Null) => query.bind(None::<i64>),
                (ColumnType::Text, Value::Null) => query.bind(None::<String>),
                (ColumnType::BigInt, Value::Number(n)) => {
                    query.bind(n.as_i64().ok_or_else(|| bad(column, "a 64-bit integer"))?)
                }
                (ColumnType::Text, Value::String(s)) => query.bind(s.clone()),
                (ColumnType::BigInt, _) => return Err(bad(column, "an integer or null")),
                (ColumnType::Text, _) => return Err(bad(column, "a string or null")),
            };
        }
    }
    query.execute(conn).await?;
    Ok(())
}

fn quoted<'a>(names: impl Iterator<Item = &'a str>) -> String {
    names
        .map(|n| format!("\"{n}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(edges: &[(&str, &[&str])]) -> BTreeMap<String, BTreeSet<String>> {
        edges
            .iter()
            .map(|(t, to)| (t.to_string(), to.iter().map(|s| s.to_string()).collect()))
            .collect()
    }

    #[test]
    fn tables_follow_what_they_point_at() {
        let order = dependency_order(&graph(&[
            ("comments", &["notes", "users"]),
            ("notes", &["users"]),
            ("users", &[]),
            ("likes", &["notes", "users"]),
        ]))
        .unwrap();
        assert_eq!(order, ["users", "notes", "comments", "likes"]);
    }

    #[test]
    fn a_circle_is_refused() {
        let refused = dependency_order(&graph(&[("a", &["b"]), ("b", &["a"]), ("c", &[])]));
        assert!(matches!(refused, Err(PortableError::Circle(t)) if t == "a, b"));
    }
}
