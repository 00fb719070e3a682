use proptest::prelude::*;
use sqlx::{Connection, Executor};

use super::*;

#[test]
fn renumbering_shifts_every_placeholder_and_nothing_else() {
    assert_eq!(
        renumber("INSERT INTO t VALUES ($1, $2, 'x', $10) -- $", 3),
        "INSERT INTO t VALUES ($4, $5, 'x', $13) -- $"
    );
    assert_eq!(renumber("SELECT 1", 7), "SELECT 1");
}

proptest! {
    #[test]
    fn renumbering_composes(sql in "[a-z ,()]{0,8}(\\$[1-9][0-9]{0,2}[a-z ,()]{0,8}){0,6}", a in 0usize..500, b in 0usize..500) {
        prop_assert_eq!(renumber(&renumber(&sql, a), b), renumber(&sql, a + b));
        prop_assert_eq!(renumber(&sql, 0), sql);
    }
}

async fn sqlite() -> AnyConnection {
    sqlx::any::install_default_drivers();
    let mut c = AnyConnection::connect("sqlite::memory:").await.unwrap();
    c.execute("CREATE TABLE t (id TEXT PRIMARY KEY, n INTEGER, note TEXT)")
        .await
        .unwrap();
    c
}

async fn rows(c: &mut AnyConnection) -> Vec<(String, i64, Option<String>)> {
    sqlx::query_as("SELECT id, n, note FROM t ORDER BY id")
        .fetch_all(c)
        .await
        .unwrap()
}

fn three() -> Vec<Stmt> {
    vec![
        Stmt::new("INSERT INTO t (id, n, note) VALUES ($1, $2, $3)")
            .text("a")
            .int(1)
            .opt_text(None),
        // placeholders out of order, one of them twice
        Stmt::new("UPDATE t SET n = $2, note = $1 WHERE id = $3 OR id = $3")
            .text("seen")
            .int(5)
            .text("a"),
        Stmt::new("UPDATE t SET n = n + 1 WHERE id = $1").text("nobody"),
        Stmt::new("INSERT INTO t (id, n, note) VALUES ($1, $2, $3)")
            .text("b")
            .opt_int(Some(7))
            .opt_text(Some("b".into())),
    ]
}

#[tokio::test]
async fn statements_run_in_order_each_with_its_own_arguments_and_rows_affected() {
    let mut c = sqlite().await;
    let done = run(&mut c, &three()).await.unwrap();
    assert_eq!(done, vec![1, 1, 0, 1]);
    assert_eq!(
        rows(&mut c).await,
        vec![
            ("a".into(), 5, Some("seen".into())),
            ("b".into(), 7, Some("b".into()))
        ]
    );
}

#[tokio::test]
async fn a_failed_statement_is_named_and_the_ones_after_it_do_not_run() {
    let mut c = sqlite().await;
    c.execute("INSERT INTO t (id, n) VALUES ('b', 0)")
        .await
        .unwrap();
    let mut stmts = three();
    stmts.push(Stmt::new("INSERT INTO t (id, n) VALUES ($1, 0)").text("c"));
    let mut tx = c.begin().await.unwrap();
    let failed = run(&mut tx, &stmts).await.unwrap_err();
    assert_eq!(failed.index, 3, "the second insert of 'b'");
    assert!(
        matches!(&failed.error, sqlx::Error::Database(d) if d.is_unique_violation()),
        "{:?}",
        failed.error
    );
    let seen = rows(&mut tx).await;
    assert_eq!(seen.len(), 2, "'a' was inserted, 'c' never: {seen:?}");
    tx.rollback().await.unwrap();
    assert_eq!(rows(&mut c).await, vec![("b".into(), 0, None)]);
}

#[tokio::test]
async fn one_statement_and_none_run_too() {
    let mut c = sqlite().await;
    assert_eq!(run(&mut c, &[]).await.unwrap(), Vec::<u64>::new());
    let one = three().into_iter().take(1).collect::<Vec<_>>();
    assert_eq!(run(&mut c, &one).await.unwrap(), vec![1]);
}

/// What a gate that affected no row leaves: one by one (PostgreSQL's way) nothing after it is
/// sent; as one query (SQLite's) the rest runs, for the caller's rollback.
#[tokio::test]
async fn a_gate_that_affects_no_row_ends_the_batch_one_by_one() {
    let gated = |id: &str| {
        vec![
            Stmt::new("UPDATE t SET n = n + 1 WHERE id = $1")
                .text(id)
                .gate(),
            Stmt::new("INSERT INTO t (id, n) VALUES ($1, 0)").text("after"),
        ]
    };
    let mut c = sqlite().await;
    assert_eq!(one_by_one(&mut c, &gated("nobody")).await.unwrap(), vec![0]);
    assert!(rows(&mut c).await.is_empty(), "nothing after the gate");
    assert_eq!(run(&mut c, &gated("nobody")).await.unwrap(), vec![0, 1]);
    assert_eq!(rows(&mut c).await.len(), 1, "one query: the rest ran");
    assert_eq!(
        one_by_one(&mut c, &gated("after")).await.unwrap_err().index,
        1
    );
}
