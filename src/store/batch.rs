//! Several statements of one transaction sent together. On SQLite every statement is a round
//! trip to the connection's thread (≈ 40–65 µs on the project's VM, far more than the statement
//! itself), and the one write connection is held for all of them: a booking's inserts sent as
//! one multi-statement query hold the writer for one round trip instead of three (issue 18 §2).
//! PostgreSQL's extended protocol takes one statement per query, so there they run one by one.
//! Each statement is written with its own `$1…$n`; [`run`] renumbers them into one argument
//! list. The result is each statement's rows affected, or which statement failed and why.

use sqlx::{AnyConnection, Either, Executor};

/// A value bound to a statement.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    Text(String),
    Int(i64),
    OptText(Option<String>),
    OptInt(Option<i64>),
}

/// One statement and its arguments (`$1` is `args[0]`). A `gate` that affects no row ends the
/// batch where statements go one by one (PostgreSQL): what follows it is not sent, as its
/// caller will refuse and roll back (a full slot's seat); on SQLite, where the batch is one
/// query, the rest runs and is rolled back with the transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct Stmt {
    pub sql: String,
    pub args: Vec<Arg>,
    pub gate: bool,
}

impl Stmt {
    pub fn new(sql: impl Into<String>) -> Stmt {
        Stmt {
            sql: sql.into(),
            args: Vec::new(),
            gate: false,
        }
    }

    /// This statement is a gate (above).
    pub fn gate(mut self) -> Stmt {
        self.gate = true;
        self
    }

    pub fn text(mut self, v: impl Into<String>) -> Stmt {
        self.args.push(Arg::Text(v.into()));
        self
    }

    pub fn int(mut self, v: i64) -> Stmt {
        self.args.push(Arg::Int(v));
        self
    }

    pub fn opt_text(mut self, v: Option<String>) -> Stmt {
        self.args.push(Arg::OptText(v));
        self
    }

    pub fn opt_int(mut self, v: Option<i64>) -> Stmt {
        self.args.push(Arg::OptInt(v));
        self
    }
}

/// The statement at `index` failed with `error`; those before it ran (`done`: the rows each
/// affected; the caller's transaction is to be rolled back), those after it did not.
#[derive(Debug)]
pub struct Failed {
    pub index: usize,
    pub error: sqlx::Error,
    pub done: Vec<u64>,
}

impl From<Failed> for sqlx::Error {
    fn from(f: Failed) -> sqlx::Error {
        f.error
    }
}

type Query<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>;

/// `q` with `args` bound in order.
pub(crate) fn bind<'q>(mut q: Query<'q>, args: &[Arg]) -> Query<'q> {
    for a in args {
        q = match a {
            Arg::Text(v) => q.bind(v.clone()),
            Arg::Int(v) => q.bind(*v),
            Arg::OptText(v) => q.bind(v.clone()),
            Arg::OptInt(v) => q.bind(*v),
        };
    }
    q
}

/// `sql` with every `$n` made `$(n + offset)` (our statements have no `$` in literals).
pub(crate) fn renumber(sql: &str, offset: usize) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut chars = sql.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        out.push(c);
        if c != '$' {
            continue;
        }
        let digits: String = std::iter::from_fn(|| chars.next_if(|(_, d)| d.is_ascii_digit()))
            .map(|(_, d)| d)
            .collect();
        match digits.parse::<usize>() {
            Ok(n) => out.push_str(&(n + offset).to_string()),
            Err(_) => debug_assert!(digits.is_empty(), "placeholder at {i}"),
        }
    }
    out
}

/// Runs `stmts` in order on `conn` (the caller's transaction): on SQLite as one query, on
/// PostgreSQL one by one. Returns the rows affected by each (one by one: up to a gate that
/// affected none).
pub async fn run(conn: &mut AnyConnection, stmts: &[Stmt]) -> Result<Vec<u64>, Failed> {
    if stmts.len() < 2 || conn.backend_name() != "SQLite" {
        return one_by_one(conn, stmts).await;
    }
    let mut sql = String::new();
    let mut offset = 0;
    for s in stmts {
        sql.push_str(&renumber(&s.sql, offset));
        sql.push_str(";\n");
        offset += s.args.len();
    }
    let args: Vec<Arg> = stmts.iter().flat_map(|s| s.args.iter().cloned()).collect();
    let q = bind(sqlx::query(sqlx::AssertSqlSafe(sql)), &args);
    let mut rows = Vec::with_capacity(stmts.len());
    let mut results = conn.fetch_many(q);
    use futures::StreamExt;
    while let Some(r) = results.next().await {
        match r {
            Ok(Either::Left(done)) => rows.push(done.rows_affected()),
            Ok(Either::Right(_)) => {}
            Err(error) => {
                return Err(Failed {
                    index: rows.len(),
                    error,
                    done: rows,
                });
            }
        }
    }
    if rows.len() != stmts.len() {
        let error = sqlx::Error::Protocol(format!(
            "{} statements sent, {} results",
            stmts.len(),
            rows.len()
        ));
        return Err(Failed {
            index: rows.len(),
            error,
            done: rows,
        });
    }
    Ok(rows)
}

async fn one_by_one(conn: &mut AnyConnection, stmts: &[Stmt]) -> Result<Vec<u64>, Failed> {
    let mut rows = Vec::with_capacity(stmts.len());
    for (index, s) in stmts.iter().enumerate() {
        let q = bind(sqlx::query(sqlx::AssertSqlSafe(s.sql.clone())), &s.args);
        match conn.execute(q).await {
            Ok(done) if s.gate && done.rows_affected() == 0 => {
                rows.push(0);
                break;
            }
            Ok(done) => rows.push(done.rows_affected()),
            Err(error) => {
                return Err(Failed {
                    index,
                    error,
                    done: rows,
                });
            }
        }
    }
    Ok(rows)
}

#[cfg(test)]
#[path = "batch_tests.rs"]
mod tests;
