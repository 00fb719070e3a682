use std::time::Duration;

use sqlx::Executor;

use crate::store::{DatabaseConfig, Db};

pub(crate) async fn db(dir: &tempfile::TempDir) -> Db {
    db_grouping(dir, 16).await
}

/// A SQLite database with a table `t (id)`, write groups of up to `max` members.
pub(crate) async fn db_grouping(dir: &tempfile::TempDir, max: usize) -> Db {
    let config = DatabaseConfig {
        url: String::new().into(),
        max_connections: 2,
        durable_ack: true,
        write_group: max,
    };
    let db = Db::connect(&config, dir.path()).await.unwrap();
    db.write
        .execute("CREATE TABLE t (id TEXT PRIMARY KEY)")
        .await
        .unwrap();
    db
}

pub(crate) async fn ids(db: &Db) -> Vec<String> {
    sqlx::query_scalar("SELECT id FROM t ORDER BY id")
        .fetch_all(&db.read)
        .await
        .unwrap()
}

pub(crate) async fn insert(conn: &mut sqlx::AnyConnection, id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO t (id) VALUES ($1)")
        .bind(id)
        .execute(conn)
        .await
        .map(|_| ())
}

#[tokio::test]
async fn a_commit_is_seen_and_a_rollback_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let db = db(&dir).await;
    let mut tx = db.begin().await.unwrap();
    insert(&mut tx, "a").await.unwrap();
    // not seen by a reader before the commit
    assert!(ids(&db).await.is_empty());
    tx.commit().await.unwrap();
    let mut tx = db.begin().await.unwrap();
    insert(&mut tx, "b").await.unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(ids(&db).await, ["a"]);
    assert!(!db.left_open.take(), "nothing was left open");
}

/// A transaction dropped open (an early return on a refusal) is rolled back before the next
/// writer has the connection: its row never appears, and the next writer's rows, written
/// outside any transaction of ours, are committed rather than swallowed into the open one.
#[tokio::test]
async fn a_dropped_transaction_is_rolled_back_before_the_next_writer() {
    let dir = tempfile::tempdir().unwrap();
    let db = db(&dir).await;
    for round in 0..20 {
        let mut tx = db.begin().await.unwrap();
        insert(&mut tx, &format!("dropped{round:02}"))
            .await
            .unwrap();
        drop(tx);
        insert(
            &mut db.write.acquire().await.unwrap(),
            &format!("kept{round:02}"),
        )
        .await
        .unwrap();
    }
    let want: Vec<String> = (0..20).map(|r| format!("kept{r:02}")).collect();
    assert_eq!(ids(&db).await, want);
    // and a new transaction begins (no "transaction within a transaction")
    let mut tx = db.begin().await.unwrap();
    insert(&mut tx, "last").await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(ids(&db).await.len(), 21);
}

/// A request cancelled while its statement is in flight: the task holding the transaction is
/// aborted at an arbitrary point; whatever it did is rolled back and the writer goes on.
#[tokio::test]
async fn a_cancelled_transaction_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let db = db(&dir).await;
    for round in 0..30u64 {
        let d = db.clone();
        let task = tokio::spawn(async move {
            let mut tx = d.begin().await?;
            for i in 0..50 {
                insert(&mut tx, &format!("gone{round:02}-{i:02}")).await?;
            }
            tx.commit().await
        });
        tokio::time::sleep(Duration::from_micros(50 * round)).await;
        task.abort();
        let _ = task.await;
        let mut tx = db.begin().await.unwrap();
        insert(&mut tx, &format!("kept{round:02}")).await.unwrap();
        tx.commit().await.unwrap();
        let gone = ids(&db)
            .await
            .iter()
            .filter(|id| id.starts_with(&format!("gone{round:02}-")))
            .count();
        // all of a transaction or none of it
        assert!(gone == 0 || gone == 50, "round {round}: {gone} rows of 50");
    }
    let kept = ids(&db)
        .await
        .iter()
        .filter(|i| i.starts_with("kept"))
        .count();
    assert_eq!(kept, 30);
}

/// A commit that fails (a constraint checked at commit: a deferred foreign key) is rolled back
/// before the connection is reused, and the failed rows are not there.
#[tokio::test]
async fn a_failed_commit_is_rolled_back() {
    let dir = tempfile::tempdir().unwrap();
    let db = db(&dir).await;
    db.write
        .execute(
            "CREATE TABLE child (id TEXT PRIMARY KEY, parent TEXT NOT NULL \
             REFERENCES t(id) DEFERRABLE INITIALLY DEFERRED)",
        )
        .await
        .unwrap();
    let mut tx = db.begin().await.unwrap();
    insert(&mut tx, "parentless-neighbour").await.unwrap();
    sqlx::query("INSERT INTO child (id, parent) VALUES ('c', 'nobody')")
        .execute(&mut *tx)
        .await
        .unwrap();
    let e = tx.commit().await.unwrap_err();
    assert!(e.to_string().contains("FOREIGN KEY"), "{e}");
    let mut tx = db.begin().await.unwrap();
    insert(&mut tx, "after").await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(ids(&db).await, ["after"]);
}

/// The first read of a transaction begun with it: the row it read, inside the transaction.
#[tokio::test]
async fn a_transaction_begun_with_a_read_returns_its_row() {
    use crate::store::batch::Arg;
    let dir = tempfile::tempdir().unwrap();
    let db = db(&dir).await;
    insert(&mut db.write.acquire().await.unwrap(), "a")
        .await
        .unwrap();
    let (mut tx, row) = db
        .begin_reading("SELECT id FROM t WHERE id = $1", &[Arg::Text("a".into())])
        .await
        .unwrap();
    let id: String = sqlx::Row::try_get(&row.unwrap(), "id").unwrap();
    assert_eq!(id, "a");
    insert(&mut tx, "b").await.unwrap();
    tx.commit().await.unwrap();
    let (tx, row) = db
        .begin_reading(
            "SELECT id FROM t WHERE id = $1",
            &[Arg::Text("none".into())],
        )
        .await
        .unwrap();
    assert!(row.is_none());
    drop(tx);
    assert_eq!(ids(&db).await, ["a", "b"]);
}

/// A rollback of a transaction SQLite already ended by itself succeeds, and leaves nothing to
/// roll back at the release.
#[tokio::test]
async fn a_rollback_after_sqlite_ended_the_transaction_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let db = db(&dir).await;
    let mut tx = db.begin().await.unwrap();
    insert(&mut tx, "gone").await.unwrap();
    tx.execute("ROLLBACK").await.unwrap();
    tx.rollback().await.unwrap();
    assert!(!db.left_open.take(), "counted as rolled back");
    assert!(ids(&db).await.is_empty());
}
