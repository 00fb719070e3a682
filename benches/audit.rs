//! Audit-log benchmark (not a test): `cargo bench --bench audit [-- --entries N]`.
//!
//! Measures, in one run, on this machine:
//! - raw rates: ring SHA-256 of 200-byte leaves, ring Ed25519 verify, and a raw
//!   write + fdatasync loop on a plain file;
//! - durable appends on SQLite: one fsync per append (synchronous=FULL) and group commit (the
//!   server's mode: WAL with synchronous=NORMAL, the checkpointer syncing the WAL once per
//!   batch before it signs); with TEST_DATABASE_URL, concurrent appenders on PostgreSQL;
//! - offline verification of a log of N entries (default 100 000): in memory (decode, payload
//!   digest, chain, tree head, signature) and `audit verify-log` over the SQLite database.
//!
//! Figures go to docs/benchmarks.md.

use std::{
    io::Write,
    sync::Arc,
    time::{Duration, Instant},
};

use remote_hearing::{
    audit::{
        self, Audit,
        leaf::{Leaf, payload_digest},
        merkle::{self, MemoryStore},
        note::{Checkpoint, Signer},
        service,
    },
    config::Config,
    store::Db,
};
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use secrecy::SecretString;

mod support;

use support::entry;

fn rate(n: u64, d: Duration) -> String {
    format!(
        "{:>12.0}/s  ({n} in {:.3} s)",
        n as f64 / d.as_secs_f64(),
        d.as_secs_f64()
    )
}

fn raw_rates(n: u64) {
    let leaf = [7u8; 200];
    let t = Instant::now();
    let mut acc = [0u8; 32];
    for i in 0..n {
        let mut l = leaf;
        l[..8].copy_from_slice(&i.to_be_bytes());
        acc = merkle::leaf_hash(&l);
    }
    std::hint::black_box(acc);
    println!(
        "raw ring SHA-256 (200 B)            {}",
        rate(n, t.elapsed())
    );
    let kp = Ed25519KeyPair::from_seed_unchecked(&[9u8; 32]).unwrap();
    let sig = kp.sign(b"example.com/hearings\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n");
    let pk = UnparsedPublicKey::new(&ED25519, kp.public_key().as_ref().to_vec());
    let m = 20_000;
    let t = Instant::now();
    for _ in 0..m {
        pk.verify(
            b"example.com/hearings\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n",
            sig.as_ref(),
        )
        .unwrap();
    }
    println!(
        "raw ring Ed25519 verify             {}",
        rate(m, t.elapsed())
    );
}

fn raw_fsync(dir: &std::path::Path, n: u64) {
    let mut f = std::fs::File::create(dir.join("raw.log")).unwrap();
    let rec = [5u8; 200];
    let t = Instant::now();
    for _ in 0..n {
        f.write_all(&rec).unwrap();
        f.sync_data().unwrap();
    }
    println!(
        "raw append + fdatasync              {}",
        rate(n, t.elapsed())
    );
}

async fn open(dir: &std::path::Path, url: Option<String>) -> Db {
    std::fs::create_dir_all(dir).unwrap();
    let mut config = Config::defaults().unwrap();
    config.server.data_dir = dir.to_path_buf();
    if let Some(u) = url {
        config.database.url = SecretString::from(u);
    }
    let db = Db::connect(&config.database, &config.server.data_dir)
        .await
        .unwrap();
    db.migrate().await.unwrap();
    db
}

fn audit_signer() -> Audit {
    let s = Signer::from_pkcs8("bench.example/audit", &Signer::generate_pkcs8().unwrap()).unwrap();
    Audit::new(Arc::new(s), 256, Duration::from_secs(1))
}

async fn append_one(db: &Db, i: u64) {
    let mut tx = db.begin().await.unwrap();
    audit::append(&mut tx, entry(i)).await.unwrap();
    tx.commit().await.unwrap();
}

async fn sqlite_appends(dir: &std::path::Path, n: u64) {
    let db = open(&dir.join("full"), None).await;
    sqlx::query("PRAGMA synchronous=FULL")
        .execute(&db.write)
        .await
        .unwrap();
    let t = Instant::now();
    for i in 0..n {
        append_one(&db, i).await;
    }
    println!(
        "SQLite append, fsync per commit     {}",
        rate(n, t.elapsed())
    );

    let db = open(&dir.join("group"), None).await;
    let a = audit_signer();
    a.register_key(&db, 0).await.unwrap();
    let t = Instant::now();
    for i in 0..n {
        append_one(&db, i).await;
        if (i + 1) % 256 == 0 {
            a.sign_checkpoint(&db, i as i64).await.unwrap();
        }
    }
    a.sign_checkpoint(&db, n as i64).await.unwrap();
    println!(
        "SQLite append, group commit (256)   {}",
        rate(n, t.elapsed())
    );
}

async fn postgres_appends(url: &str, n: u64, tasks: u64) {
    let db = open(&tempfile::tempdir().unwrap().keep(), Some(url.to_string())).await;
    let t = Instant::now();
    let mut hs = Vec::new();
    for k in 0..tasks {
        let db = db.clone();
        hs.push(tokio::spawn(async move {
            for i in 0..n / tasks {
                append_one(&db, k * 1_000_000 + i).await;
            }
        }));
    }
    for h in hs {
        h.await.unwrap();
    }
    println!(
        "PostgreSQL append, {tasks:>2} appenders    {}",
        rate(n / tasks * tasks, t.elapsed())
    );
}

/// Builds a log of `n` entries in a SQLite file (fast mode), signs its checkpoint.
async fn build_log(dir: &std::path::Path, n: u64) -> (Db, Audit) {
    let db = open(&dir.join("big"), None).await;
    let a = audit_signer();
    a.register_key(&db, 0).await.unwrap();
    let t = Instant::now();
    let mut i = 0;
    while i < n {
        let mut tx = db.begin().await.unwrap();
        for _ in 0..1000.min(n - i) {
            audit::append(&mut tx, entry(i)).await.unwrap();
            i += 1;
        }
        tx.commit().await.unwrap();
    }
    a.sign_checkpoint(&db, 0).await.unwrap();
    println!(
        "SQLite append, 1000 per transaction {}",
        rate(n, t.elapsed())
    );
    (db, a)
}

async fn offline_verify(db: &Db, a: &Audit, n: u64) {
    let mut c = db.read.acquire().await.unwrap();
    let rows = audit::store::entries(&mut c, 0, n).await.unwrap();
    let cp = audit::store::latest_checkpoint(&mut c)
        .await
        .unwrap()
        .unwrap();
    drop(c);
    let payloads: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| serde_json::from_str(&r.payload).unwrap())
        .collect();
    let keys = [a.signer.verifier().clone()];
    let t = Instant::now();
    let mut tree = MemoryStore::new();
    let mut heads = std::collections::HashMap::new();
    for (r, p) in rows.iter().zip(&payloads) {
        let leaf = Leaf::decode(&r.leaf).unwrap();
        assert_eq!(payload_digest(p).unwrap(), leaf.payload_sha256);
        let h = merkle::leaf_hash(&r.leaf);
        let prev = heads.insert(leaf.hearing_id.clone(), h).unwrap_or([0; 32]);
        assert_eq!(prev, leaf.prev_leaf_hash);
        tree.push(h);
    }
    let (body, _) = Checkpoint::open(&cp.note, None, &keys).unwrap();
    assert_eq!(body.root, tree.root());
    println!(
        "offline verify in memory            {}",
        rate(rows.len() as u64, t.elapsed())
    );
    let t = Instant::now();
    let report = service::verify_log(db, &keys).await.unwrap();
    assert!(report.ok, "{}", report.human());
    println!(
        "audit verify-log (SQLite)           {}",
        rate(n, t.elapsed())
    );
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: u64 = args
        .iter()
        .position(|a| a == "--entries")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().unwrap();
    println!(
        "audit benchmark, {n} entries; tmp dir {}",
        dir.path().display()
    );
    raw_rates(n);
    raw_fsync(dir.path(), 1000);
    sqlite_appends(dir.path(), 1000).await;
    if let Ok(url) = std::env::var("TEST_DATABASE_URL") {
        for tasks in [1, 16] {
            postgres_appends(&remote_hearing_fresh_pg(&url).await, 2000, tasks).await;
        }
    }
    let (db, a) = build_log(dir.path(), n).await;
    offline_verify(&db, &a, n).await;
}

async fn remote_hearing_fresh_pg(admin_url: &str) -> String {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let name = format!("rh_bench_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::AnyConnection::connect(admin_url).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .unwrap();
    let mut url = url::Url::parse(admin_url).unwrap();
    url.set_path(&format!("/{name}"));
    url.to_string()
}
