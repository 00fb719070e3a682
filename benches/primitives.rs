//! Criterion micro-benchmarks of the server's hot, pure pieces (no I/O, no database):
//! `cargo bench --bench primitives` (add `-- audit/` to run one group, `-- --quick` for a
//! rough pass). Figures go to docs/benchmarks.md ("Micro-benchmarks").
//!
//! Groups: `audit` (RFC 6962 hashes, proofs over a 2^20-leaf tree, C2SP checkpoints, leaf
//! encoding), `sms` (TC3 / ACS3 request signing, code MACs), `call` (join tokens, TURN
//! credentials, the signalling offer frame, the relay's seq/ts map), `domain` (phone, plate).

use std::hint::black_box;
use std::sync::Mutex;
use std::time::Duration;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use remote_hearing::{
    audit::{
        leaf::{Leaf, RecordingDigest, payload_digest},
        merkle::{self, MemoryStore},
        note::{Checkpoint, Signer},
        proof,
    },
    call::tokens::{Claims, TokenKey, turn_credentials},
    domain::{PhoneNumber, Plate},
    sms::{aliyun, codes, provider::Outgoing, tencent},
};
use ring::hmac;
use serde_json::json;
use signaling::{ClientMsg, rtc::Continuity};

/// Short runs: the machine has two cores shared with other work.
fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30)
}

const ORIGIN: &str = "hearings.example.gov.cn/audit-log";
const TREE_LEAVES: u64 = 1 << 20;

fn sample_leaf(recordings: usize) -> Leaf {
    Leaf {
        version: audit::leaf::VERSION_2,
        hearing_id: "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b".into(),
        hearing_seq: 7,
        prev_leaf_hash: [0x5a; 32],
        step: if recordings == 0 {
            "statement".into()
        } else {
            "recording_sealed".into()
        },
        at_ms: 1_795_000_000_123,
        actor_role: "officer".into(),
        actor_id: "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a60".into(),
        payload_sha256: [0x3c; 32],
        recordings: (0..recordings)
            .map(|i| RecordingDigest {
                id: format!("seg-1795000000-{i}/citizen-video-{i}.rtp"),
                sha256: [i as u8; 32],
                bytes: 12_345_678 + i as u64,
            })
            .collect(),
    }
}

fn audit(c: &mut Criterion) {
    let mut g = c.benchmark_group("audit");
    let data = sample_leaf(0).encode().expect("leaf encodes");
    g.bench_function("leaf_hash_rfc6962", |b| {
        b.iter(|| merkle::leaf_hash(black_box(&data)))
    });
    let (l, r) = (merkle::leaf_hash(b"left"), merkle::leaf_hash(b"right"));
    g.bench_function("node_hash_rfc6962", |b| {
        b.iter(|| merkle::node_hash(black_box(&l), black_box(&r)))
    });
    let leaf = sample_leaf(0);
    g.bench_function("leaf_encode", |b| b.iter(|| black_box(&leaf).encode()));
    let sealed = sample_leaf(4);
    g.bench_function("leaf_encode_4_recordings", |b| {
        b.iter(|| black_box(&sealed).encode())
    });
    g.bench_function("leaf_decode", |b| b.iter(|| Leaf::decode(black_box(&data))));
    let payload = json!({
        "text": "当事人陈述：对违法事实无异议，同意按简易程序处理。",
        "violation": {"plate": "鲁A12345", "code": "1345", "fine_cents": 20000, "points": 3},
        "both_connected": true,
        "officer_badge": "370102-0457",
        "n": 42
    });
    g.bench_function("payload_digest_canonical_json", |b| {
        b.iter(|| payload_digest(black_box(&payload)))
    });

    // One in-memory tree of 2^20 leaves; proofs read its stored nodes (as the SQL store does).
    let mut store = MemoryStore::new();
    for i in 0..TREE_LEAVES {
        store.push_data(&i.to_be_bytes());
    }
    let root = store.root();
    let size = store.size();
    // Indices spread over the tree, visited in turn (not one warm path).
    let indices: Vec<u64> = (0..1024u64)
        .map(|i| (i * 1_000_003) % TREE_LEAVES)
        .collect();
    let mut k = 0usize;
    g.bench_function("inclusion_prove_2^20", |b| {
        b.iter(|| {
            k = (k + 1) % indices.len();
            merkle::prove_inclusion(&store, indices[k], size).expect("proof")
        })
    });
    let proofs: Vec<(u64, merkle::Hash, Vec<merkle::Hash>)> = indices
        .iter()
        .map(|&i| {
            (
                i,
                merkle::leaf_hash(&i.to_be_bytes()),
                merkle::prove_inclusion(&store, i, size).expect("proof"),
            )
        })
        .collect();
    let mut k = 0usize;
    g.bench_function("inclusion_verify_2^20", |b| {
        b.iter(|| {
            k = (k + 1) % proofs.len();
            let (i, h, p) = &proofs[k];
            proof::verify_inclusion(*i, size, h, p, &root).expect("verifies")
        })
    });
    let old = TREE_LEAVES - 123_457;
    let old_root = merkle::tree_root(&store, old).expect("root");
    g.bench_function("consistency_prove_2^20", |b| {
        b.iter(|| merkle::prove_consistency(&store, black_box(old), size).expect("proof"))
    });
    let cproof = merkle::prove_consistency(&store, old, size).expect("proof");
    g.bench_function("consistency_verify_2^20", |b| {
        b.iter(|| {
            proof::verify_consistency(black_box(old), size, &cproof, &old_root, &root)
                .expect("verifies")
        })
    });
    g.bench_function("tree_root_from_peaks_2^20", |b| {
        b.iter(|| merkle::tree_root(&store, black_box(size)).expect("root"))
    });
    // Appending leaves to an empty in-memory tree: the new interior nodes of each append.
    g.throughput(Throughput::Elements(4096));
    g.bench_function("memory_append_4096_leaves", |b| {
        b.iter_batched_ref(
            MemoryStore::new,
            |s| {
                for i in 0..4096u64 {
                    s.push(merkle::leaf_hash(&i.to_be_bytes()));
                }
            },
            BatchSize::LargeInput,
        )
    });
    g.throughput(Throughput::Elements(1));
    drop(store);

    let signer = Signer::from_seed(ORIGIN, &[7u8; 32]).expect("signer");
    let cp = Checkpoint {
        origin: ORIGIN.into(),
        size,
        root,
        extensions: vec![],
    };
    g.bench_function("checkpoint_sign_ed25519", |b| {
        b.iter(|| black_box(&cp).sign(&signer).expect("signs"))
    });
    let note = cp.sign(&signer).expect("signs");
    let known = [signer.verifier().clone()];
    g.bench_function("checkpoint_open_verify_ed25519", |b| {
        b.iter(|| Checkpoint::open(black_box(&note), Some(ORIGIN), &known).expect("opens"))
    });
    g.finish();
}

fn outgoing() -> Outgoing {
    Outgoing {
        message_id: "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a77".into(),
        phone: "13812345678".into(),
        template: "login_code".into(),
        params: vec![
            ("code".into(), "428613".into()),
            ("minutes".into(), "5".into()),
        ],
        text: "【交警远程听证】您的验证码为428613，5分钟内有效。".into(),
        code: None,
    }
}

fn sms(c: &mut Criterion) {
    let mut g = c.benchmark_group("sms");
    let ts = 1_795_000_000i64;
    let tsettings: tencent::TencentSettings = serde_json::from_value(json!({
        "secret_id": "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE",
        "secret_key": "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
        "sdk_app_id": "1400006666",
        "sign_name": "交警远程听证",
        "templates": {"login_code": "1234567"}
    }))
    .expect("tencent settings");
    let msg = outgoing();
    let body = r#"{"PhoneNumberSet":["+8613812345678"],"SmsSdkAppId":"1400006666","SignName":"交警远程听证","TemplateId":"1234567","TemplateParamSet":["428613","5"],"SessionContext":"0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a77"}"#;
    let headers = [
        ("content-type", tencent::CONTENT_TYPE),
        ("host", "sms.tencentcloudapi.com"),
        ("x-tc-action", "SendSms"),
    ];
    let input = tencent::Tc3Input {
        method: "POST",
        uri: "/",
        query: "",
        headers: &headers,
        payload: body.as_bytes(),
        service: tencent::SMS_SERVICE,
        timestamp: ts,
    };
    g.bench_function("tc3_sign", |b| {
        b.iter(|| tencent::sign("Gu5t9xGARNpq86cd98joQYCN3EXAMPLE", black_box(&input)))
    });
    g.bench_function("tc3_prepare_send_sms", |b| {
        b.iter(|| tencent::prepare(&tsettings, black_box(&msg), ts).expect("prepared"))
    });
    let asettings: aliyun::AliyunSettings = serde_json::from_value(json!({
        "access_key_id": "LTAI5tEXAMPLEEXAMPLE",
        "access_key_secret": "EXAMPLEsecretEXAMPLEsecret12",
        "sign_name": "交警远程听证",
        "templates": {"login_code": "SMS_123456789"}
    }))
    .expect("aliyun settings");
    let date = aliyun::acs_date(ts);
    let hashed = remote_hearing::sms::signing::sha256_hex(b"");
    let aheaders = [
        ("host", "dysmsapi.aliyuncs.com"),
        ("x-acs-action", "SendSms"),
        ("x-acs-content-sha256", hashed.as_str()),
        ("x-acs-date", date.as_str()),
        ("x-acs-signature-nonce", "3156853299f313e23d1673dc12e1703d"),
        ("x-acs-version", aliyun::SMS_VERSION),
    ];
    let query = [
        ("PhoneNumbers", "13812345678"),
        ("SignName", "交警远程听证"),
        ("TemplateCode", "SMS_123456789"),
        ("TemplateParam", r#"{"code":"428613","minutes":"5"}"#),
        ("OutId", "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a77"),
    ];
    let ainput = aliyun::Acs3Input {
        method: "POST",
        uri: "/",
        query: &query,
        headers: &aheaders,
        hashed_payload: &hashed,
    };
    g.bench_function("acs3_sign", |b| {
        b.iter(|| aliyun::sign("EXAMPLEsecretEXAMPLEsecret12", black_box(&ainput)))
    });
    g.bench_function("acs3_prepare_send_sms", |b| {
        b.iter(|| {
            aliyun::prepare(
                &asettings,
                black_box(&msg),
                ts,
                "3156853299f313e23d1673dc12e1703d",
            )
            .expect("prepared")
        })
    });

    let key = hmac::Key::new(hmac::HMAC_SHA256, &[9u8; 32]);
    let tag = codes::Purpose::Login.tag();
    let subject = "13812345678";
    let nonce = "9f86d081884c7d659a2feaa0c55ad015";
    g.bench_function("code_issue_derive_and_mac", |b| {
        b.iter(|| {
            let code = codes::derive_code(&key, &tag, black_box(subject), nonce);
            codes::code_mac(&key, &tag, subject, &code)
        })
    });
    let code = codes::derive_code(&key, &tag, subject, nonce);
    let mac = hex::decode(codes::code_mac(&key, &tag, subject, &code)).expect("hex");
    g.bench_function("code_verify_constant_time", |b| {
        b.iter(|| codes::code_matches(&key, &tag, subject, black_box(&code), &mac))
    });
    g.finish();
}

fn call(c: &mut Criterion) {
    let mut g = c.benchmark_group("call");
    let key = TokenKey::new(&[3u8; 32]);
    let claims = Claims {
        h: "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b".into(),
        r: "citizen".into(),
        p: "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a88".into(),
        e: 1_795_000_600_000,
        n: "b2f1c9e07a3d4e5f".into(),
    };
    g.bench_function("join_token_sign", |b| {
        b.iter(|| key.sign(black_box(&claims)))
    });
    let token = key.sign(&claims);
    g.bench_function("join_token_verify", |b| {
        b.iter(|| {
            key.verify(black_box(&token), 1_795_000_000_000)
                .expect("valid")
        })
    });
    g.bench_function("turn_rest_credentials", |b| {
        b.iter(|| {
            turn_credentials(
                b"turn-shared-secret-0123456789",
                black_box("0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a88"),
                1_795_086_400,
            )
        })
    });
    let sdp = include_str!("data/chrome-offer.sdp").replace('\n', "\r\n");
    let offer = serde_json::to_string(&ClientMsg::Offer {
        sdp,
        ice_restart: false,
    })
    .expect("json");
    g.throughput(Throughput::Bytes(offer.len() as u64));
    g.bench_function("signal_parse_offer_5kB", |b| {
        b.iter(|| ClientMsg::parse(black_box(&offer)).expect("parses"))
    });
    let cand = r#"{"type":"candidate","candidate":"candidate:842163049 1 udp 1677729535 203.0.113.7 51234 typ srflx raddr 192.168.1.20 rport 51234 generation 0 ufrag Xq7f network-cost 999","sdpMid":"0","sdpMLineIndex":0,"usernameFragment":"Xq7f"}"#;
    g.throughput(Throughput::Bytes(cand.len() as u64));
    g.bench_function("signal_parse_candidate", |b| {
        b.iter(|| ClientMsg::parse(black_box(cand)).expect("parses"))
    });
    g.throughput(Throughput::Elements(1));
    let mut m = Continuity::default();
    let mut seq = 0u16;
    g.bench_function("relay_seq_ts_map", |b| {
        b.iter(|| {
            seq = seq.wrapping_add(1);
            m.map(0x1234_5678, black_box(seq), u32::from(seq) * 3000, 3000)
        })
    });
    // As the relay calls it: under the source's (uncontended) mutex.
    let locked = Mutex::new(Continuity::default());
    let mut seq = 0u16;
    g.bench_function("relay_seq_ts_map_locked", |b| {
        b.iter(|| {
            seq = seq.wrapping_add(1);
            let mut m = locked.lock().expect("lock");
            m.map(0x1234_5678, black_box(seq), u32::from(seq) * 3000, 3000)
        })
    });
    g.finish();
}

fn domain(c: &mut Criterion) {
    let mut g = c.benchmark_group("domain");
    g.bench_function("phone_parse", |b| {
        b.iter(|| PhoneNumber::parse(black_box("+8613812345678")).expect("valid"))
    });
    g.bench_function("plate_parse", |b| {
        b.iter(|| Plate::parse(black_box("鲁A12345")).expect("valid"))
    });
    g.bench_function("plate_parse_new_energy_lowercase", |b| {
        b.iter(|| Plate::parse(black_box(" 鲁ad12345 ")).expect("valid"))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = config();
    targets = audit, sms, call, domain
}
criterion_main!(benches);
