//! argon2id password hashing with a bound on memory: at most `auth.hash_concurrency` hashes run
//! at once (0 = one per CPU core), each on a blocking thread and on one of as many reused memory
//! buffers, so a burst of logins costs a fixed amount of memory instead of ~19 MiB per attempt in
//! flight. A caller waits at most `auth.hash_wait_ms` for a turn and at most `auth.hash_queue`
//! callers wait; the others are answered 503 `unavailable` with `Retry-After`.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use argon2::{
    Algorithm, Argon2, Block, Params, Version,
    password_hash::{Output, ParamsString, PasswordHash, Salt, SaltString},
};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::AuthConfig;
use crate::error::AppError;

/// A stored hash asking for more memory than this (256 MiB) is refused rather than run.
const MAX_BLOCKS: usize = 256 * 1024;

/// A hash verified against when the badge is unknown, so that both answers take the same time.
static DUMMY_HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// The bounded password hasher (one per server, in `AppState`).
#[derive(Clone)]
pub struct Hasher(Arc<Inner>);

struct Inner {
    slots: Arc<Semaphore>,
    bound: usize,
    queue: usize,
    wait: Duration,
    /// Memory buffers of finished hashes, reused by the next ones (at most `bound` exist).
    buffers: Mutex<Vec<Vec<Block>>>,
    waiting: AtomicUsize,
    running: AtomicUsize,
    peak: AtomicUsize,
}

impl std::fmt::Debug for Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hasher")
            .field("bound", &self.0.bound)
            .field("running", &self.running())
            .finish_non_exhaustive()
    }
}

impl Hasher {
    /// A hasher with the limits of `[auth]`.
    pub fn from_config(cfg: &AuthConfig) -> Hasher {
        Hasher::new(
            cfg.hash_concurrency,
            cfg.hash_queue,
            Duration::from_millis(cfg.hash_wait_ms),
        )
    }

    /// At most `concurrency` hashes at once (0 = one per CPU core), at most `queue` callers
    /// waiting, each for at most `wait`.
    pub fn new(concurrency: usize, queue: usize, wait: Duration) -> Hasher {
        let bound = match concurrency {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        };
        Hasher(Arc::new(Inner {
            slots: Arc::new(Semaphore::new(bound)),
            bound,
            queue,
            wait,
            buffers: Mutex::new(Vec::new()),
            waiting: AtomicUsize::new(0),
            running: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
        }))
    }

    /// How many hashes may run at once.
    pub fn bound(&self) -> usize {
        self.0.bound
    }
    /// How many hashes are running now.
    pub fn running(&self) -> usize {
        self.0.running.load(Ordering::SeqCst)
    }
    /// The most hashes that ever ran at once.
    pub fn peak(&self) -> usize {
        self.0.peak.load(Ordering::SeqCst)
    }

    /// Hashes a new password (argon2id, default parameters).
    pub async fn hash(&self, password: SecretString) -> anyhow::Result<String> {
        self.run(move |memory| hash_with(memory, password.expose_secret().as_bytes()))
            .await
            .map_err(anyhow::Error::new)
    }

    /// Hashes a new password like [`Hasher::hash`], with the API's errors (503 while busy).
    pub async fn hash_api(&self, password: SecretString) -> Result<String, AppError> {
        self.run(move |memory| hash_with(memory, password.expose_secret().as_bytes()))
            .await
    }

    /// Verifies `password` against `stored` (or a dummy hash when `None`, returning false).
    pub async fn verify(
        &self,
        password: SecretString,
        stored: Option<String>,
    ) -> Result<bool, AppError> {
        self.run(move |memory| verify_with(memory, password.expose_secret().as_bytes(), stored))
            .await
    }

    /// Waits for a turn, then runs `f` on a blocking thread with a reused memory buffer. The
    /// permit and the buffer travel with the blocking task, so a caller that goes away (the
    /// client hung up) cannot free its turn while its hash still runs.
    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Vec<Block>) -> anyhow::Result<T> + Send + 'static,
    ) -> Result<T, AppError> {
        let permit = self.reserve().await?;
        let inner = self.0.clone();
        tokio::task::spawn_blocking(move || {
            let _permit: OwnedSemaphorePermit = permit;
            let now = inner.running.fetch_add(1, Ordering::SeqCst) + 1;
            inner.peak.fetch_max(now, Ordering::SeqCst);
            metrics::gauge!("password_hashes_running").increment(1.0);
            let mut memory = inner
                .buffers
                .lock()
                .ok()
                .and_then(|mut b| b.pop())
                .unwrap_or_default();
            let out = f(&mut memory);
            if let Ok(mut b) = inner.buffers.lock() {
                b.push(memory);
            }
            inner.running.fetch_sub(1, Ordering::SeqCst);
            metrics::gauge!("password_hashes_running").decrement(1.0);
            out
        })
        .await
        .map_err(AppError::internal)?
        .map_err(AppError::internal)
    }

    /// A turn to hash in, held until dropped: at once if one is free, else after waiting in a
    /// bounded queue for a bounded time; 503 with `Retry-After` otherwise. (Tests take turns
    /// with it to stand for long hashes.)
    pub async fn reserve(&self) -> Result<OwnedSemaphorePermit, AppError> {
        if let Ok(p) = self.0.slots.clone().try_acquire_owned() {
            return Ok(p);
        }
        let _waiting = Waiting::enter(&self.0).ok_or_else(busy)?;
        match tokio::time::timeout(self.0.wait, self.0.slots.clone().acquire_owned()).await {
            Ok(Ok(p)) => Ok(p),
            _ => Err(busy()),
        }
    }
}

/// One caller in the queue; leaves it when dropped (also when the request is cancelled).
struct Waiting<'a>(&'a Inner);

impl<'a> Waiting<'a> {
    fn enter(inner: &'a Inner) -> Option<Waiting<'a>> {
        inner
            .waiting
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < inner.queue).then_some(n + 1)
            })
            .ok()
            .map(|_| Waiting(inner))
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.waiting.fetch_sub(1, Ordering::SeqCst);
    }
}

fn busy() -> AppError {
    metrics::counter!("password_hash_busy_total").increment(1);
    let mut e = AppError::unavailable("too many logins are being checked; try again shortly");
    e.retry_after = Some(1);
    e
}

/// argon2 of `password` with `params` and `salt` into `memory` (grown when too small).
fn compute(
    memory: &mut Vec<Block>,
    password: &[u8],
    algorithm: Algorithm,
    version: Version,
    params: Params,
    salt: Salt<'_>,
) -> anyhow::Result<Output> {
    let blocks = params.block_count();
    anyhow::ensure!(
        blocks <= MAX_BLOCKS,
        "argon2 memory cost {blocks} KiB is too high"
    );
    if memory.len() < blocks {
        memory.resize(blocks, Block::default());
    }
    let mut salt_buf = [0u8; 64];
    let salt = salt
        .decode_b64(&mut salt_buf)
        .map_err(|e| anyhow::anyhow!("salt: {e}"))?;
    let len = params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
    let argon = Argon2::new(algorithm, version, params);
    Output::init_with(len, |out| {
        Ok(argon.hash_password_into_with_memory(password, salt, out, &mut memory[..])?)
    })
    .map_err(|e| anyhow::anyhow!("hashing password: {e}"))
}

fn hash_with(memory: &mut Vec<Block>, password: &[u8]) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut rand_core::OsRng);
    let argon = Argon2::default();
    let output = compute(
        memory,
        password,
        Algorithm::default(),
        Version::default(),
        argon.params().clone(),
        salt.as_salt(),
    )?;
    let phc = PasswordHash {
        algorithm: Algorithm::default().ident(),
        version: Some(Version::default().into()),
        params: ParamsString::try_from(argon.params())
            .map_err(|e| anyhow::anyhow!("hash parameters: {e}"))?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    };
    Ok(phc.to_string())
}

fn verify_with(
    memory: &mut Vec<Block>,
    password: &[u8],
    stored: Option<String>,
) -> anyhow::Result<bool> {
    let known = stored.is_some();
    let stored = match stored {
        Some(s) => s,
        None => match DUMMY_HASH.get() {
            Some(d) => d.clone(),
            None => {
                let d = hash_with(memory, b"dummy")?;
                DUMMY_HASH.get_or_init(|| d).clone()
            }
        },
    };
    let parsed = PasswordHash::new(&stored).map_err(|e| anyhow::anyhow!("stored hash: {e}"))?;
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        anyhow::bail!("stored hash without salt or output");
    };
    let bad = |e: argon2::password_hash::Error| anyhow::anyhow!("stored hash: {e}");
    let algorithm = Algorithm::try_from(parsed.algorithm).map_err(bad)?;
    let version = match parsed.version {
        Some(v) => Version::try_from(v).map_err(|e| anyhow::anyhow!("stored hash: {e}"))?,
        None => Version::default(),
    };
    let params = Params::try_from(&parsed).map_err(bad)?;
    let computed = compute(memory, password, algorithm, version, params, salt)?;
    // `Output`'s equality is constant-time.
    Ok(computed == expected && known)
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::{PasswordHasher, PasswordVerifier};

    fn hasher(concurrency: usize, queue: usize) -> Hasher {
        Hasher::new(concurrency, queue, Duration::from_millis(50))
    }

    /// A stored hash with cheap parameters (1 MiB, one pass, two lanes).
    fn cheap_hash(password: &str) -> String {
        let params = Params::new(1024, 1, 2, None).unwrap();
        let salt = SaltString::generate(&mut rand_core::OsRng);
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password(password.as_bytes(), &salt)
            .unwrap()
            .to_string()
    }

    #[tokio::test]
    async fn round_trip_and_compatible_with_the_argon2_crate() {
        let h = hasher(1, 4);
        let stored = h.hash(SecretString::from("correct horse")).await.unwrap();
        assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        let ok = |p: &str, s: &str| h.verify(SecretString::from(p), Some(s.to_string()));
        assert!(ok("correct horse", &stored).await.unwrap());
        assert!(!ok("wrong", &stored).await.unwrap());
        assert!(!h.verify(SecretString::from("x"), None).await.unwrap());
        // What we store, the crate's own verifier accepts, and the other way round (other
        // parameters too: the buffer is reused across sizes).
        let parsed = PasswordHash::new(&stored).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"correct horse", &parsed)
                .is_ok()
        );
        let other = cheap_hash("battery staple");
        assert!(ok("battery staple", &other).await.unwrap());
        assert!(!ok("battery stapler", &other).await.unwrap());
        assert!(ok("correct horse", &stored).await.unwrap());
        assert_eq!(h.peak(), 1);
        assert_eq!(h.running(), 0);
    }

    #[tokio::test]
    async fn concurrent_verifications_never_exceed_the_bound() {
        let h = hasher(2, 64);
        let stored = cheap_hash("pw");
        let all = (0..12).map(|i| {
            let (h, stored) = (h.clone(), stored.clone());
            async move {
                h.verify(SecretString::from(format!("guess-{i}")), Some(stored))
                    .await
            }
        });
        for r in futures::future::join_all(all).await {
            assert!(!r.unwrap());
        }
        assert!((1..=2).contains(&h.peak()), "peak {}", h.peak());
        assert_eq!(h.running(), 0);
    }

    #[tokio::test]
    async fn a_full_queue_or_a_long_wait_answers_503_with_retry_after() {
        // The one slot is taken.
        let h = hasher(1, 1);
        let _held = h.reserve().await.unwrap();
        let stored = Some(cheap_hash("pw"));
        // One caller may wait (50 ms): the slot stays taken, so it times out.
        let waited = h.verify(SecretString::from("pw"), stored.clone()).await;
        let e = waited.unwrap_err();
        assert_eq!(
            (e.status.as_u16(), e.code, e.retry_after),
            (503, "unavailable", Some(1))
        );
        // A second caller while one waits: refused at once.
        let h2 = h.clone();
        let s2 = stored.clone();
        let first = tokio::spawn(async move { h2.verify(SecretString::from("pw"), s2).await });
        tokio::task::yield_now().await;
        let e = h
            .verify(SecretString::from("pw"), stored)
            .await
            .unwrap_err();
        assert_eq!(e.status.as_u16(), 503);
        assert!(first.await.unwrap().is_err());
        assert_eq!(h.peak(), 0, "nothing ran while the slot was held");
    }
}
