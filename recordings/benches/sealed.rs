//! Encryption at rest (issue 15 §3): sealing and opening a 16 MiB file in 64 KiB AES-256-GCM
//! chunks against a plain copy, and a 1 MiB range read out of the middle.
//! `cargo bench -p recordings --bench sealed`; figures in docs/benchmarks.md.
//!
//! Files live on tmpfs (`/dev/shm` when present): the figures are CPU cost, not disk.

use std::hint::black_box;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use recordings::sealed::{CHUNK, FileKey, PlainFile, SealWriter};

const SIZE: usize = 16 * 1024 * 1024;

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .sample_size(20)
}

fn scratch() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        tempfile::tempdir_in(shm).unwrap()
    } else {
        tempfile::tempdir().unwrap()
    }
}

fn bench(c: &mut Criterion) {
    let dir = scratch();
    let plain_path = dir.path().join("plain.webm");
    let data: Vec<u8> = (0..SIZE).map(|i| (i * 31 % 251) as u8).collect();
    std::fs::write(&plain_path, &data).unwrap();
    let key = Arc::new(FileKey::new([1; 16], &[2; 32]));
    let sealed_path = dir.path().join("sealed.webm");
    let mut g = c.benchmark_group("at_rest_16MiB");
    g.throughput(Throughput::Bytes(SIZE as u64));
    g.bench_function("plain_copy", |b| {
        b.iter(|| {
            let mut src = std::fs::File::open(&plain_path).unwrap();
            let mut out =
                std::io::BufWriter::new(std::fs::File::create(dir.path().join("copy")).unwrap());
            black_box(std::io::copy(&mut src, &mut out).unwrap());
            out.flush().unwrap();
        })
    });
    g.bench_function("seal", |b| {
        b.iter(|| {
            let mut src = std::fs::File::open(&plain_path).unwrap();
            let out = std::io::BufWriter::new(std::fs::File::create(&sealed_path).unwrap());
            let mut w = SealWriter::new(out, &key, CHUNK).unwrap();
            black_box(std::io::copy(&mut src, &mut w).unwrap());
            w.finish().unwrap().flush().unwrap();
        })
    });
    g.bench_function("plain_read", |b| {
        b.iter(|| {
            let mut f = PlainFile::open(&plain_path, Some(key.clone())).unwrap();
            black_box(std::io::copy(&mut f, &mut std::io::sink()).unwrap());
        })
    });
    g.bench_function("open", |b| {
        b.iter(|| {
            let mut f = PlainFile::open(&sealed_path, Some(key.clone())).unwrap();
            let n = std::io::copy(&mut f, &mut std::io::sink()).unwrap();
            assert_eq!(n, SIZE as u64);
        })
    });
    g.finish();
    let mut g = c.benchmark_group("range_1MiB");
    g.throughput(Throughput::Bytes(1 << 20));
    for (name, path) in [("plain", &plain_path), ("sealed", &sealed_path)] {
        g.bench_function(name, |b| {
            b.iter(|| {
                let mut f = PlainFile::open(path, Some(key.clone())).unwrap();
                f.seek(SeekFrom::Start(5_000_001)).unwrap();
                let mut buf = vec![0u8; 1 << 20];
                f.read_exact(&mut buf).unwrap();
                black_box(buf);
            })
        });
    }
    g.finish();
}

criterion_group! { name = benches; config = config(); targets = bench }
criterion_main!(benches);
