//! Link quality kept with the hearing (issue 14 §2): the hub's reports reach the server's
//! recorder, a change into poor is a `link_poor` entry of the record with the figures, the
//! change out of it `link_recovered`, changes between good and fair are not sealed, and the
//! officer's lists hear a `link` event; and over a real call (two WebRTC peers through the
//! server), a citizen whose video stops arriving is sealed poor, then recovered. (The frames and
//! the loss from sequence gaps: `signaling/tests/rtc_link.rs`; the officer's panel: `tests/e2e`.)

use serde_json::{Value, json};
use signaling::{Level, LinkRecorder, LinkReport, LinkSample, Role};

use super::signalling::{both_in_call, signalling_world};
use super::{officer_events, read_events_until, world_with};

fn report(level: Level, from: Option<Option<Level>>, loss_permille: u32) -> LinkReport {
    LinkReport {
        role: Role::Citizen,
        sample: LinkSample {
            rtt_ms: Some(120),
            loss_in_permille: loss_permille,
            loss_out_permille: Some(3),
            kbps_in: 420,
            kbps_video_in: 380,
            kbps_out: 900,
        },
        audio_only: false,
        level,
        changed_from: from,
    }
}

#[tokio::test]
async fn poor_and_recovered_links_are_sealed_and_the_lists_are_told() {
    let w = signalling_world().await;
    let (id, _c, _o, _) = both_in_call(&w).await;
    let (mut stream, mut seen) = officer_events(&w.app, &w.officer).await;

    let rec = remote_hearing::hearing::link::HearingLink::new(&w.app.state.hearing);
    rec.record(&id, report(Level::Good, Some(None), 0)).await;
    rec.record(&id, report(Level::Fair, Some(Some(Level::Good)), 30))
        .await;
    rec.record(&id, report(Level::Poor, Some(Some(Level::Fair)), 84))
        .await;
    rec.record(&id, report(Level::Poor, None, 90)).await;
    rec.record(&id, report(Level::Good, Some(Some(Level::Poor)), 0))
        .await;

    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT step, payload, by_role FROM hearing_steps WHERE hearing_id = $1 AND step LIKE 'link_%' ORDER BY audit_seq",
    )
    .bind(&id)
    .fetch_all(&w.app.state.db.read)
    .await
    .unwrap();
    let got: Vec<(&str, Value, &str)> = rows
        .iter()
        .map(|(s, p, by)| (s.as_str(), serde_json::from_str(p).unwrap(), by.as_str()))
        .collect();
    assert_eq!(got.len(), 2, "{got:?}");
    let (name, p, by) = &got[0];
    assert_eq!((*name, *by), ("link_poor", "system"));
    assert_eq!(
        (
            &p["role"],
            &p["level"],
            &p["from"],
            &p["loss_permille"],
            &p["rtt_ms"]
        ),
        (
            &Value::from("citizen"),
            &Value::from("poor"),
            &Value::from("fair"),
            &Value::from(84),
            &Value::from(120)
        ),
        "{p}"
    );
    assert_eq!(
        (p["kbps_in"].as_u64(), p["kbps_out"].as_u64()),
        (Some(420), Some(900))
    );
    assert_eq!(
        p["both_connected"], true,
        "the call's presence, like every entry"
    );
    let (name, p, _) = &got[1];
    assert_eq!(
        (*name, &p["level"], &p["from"]),
        ("link_recovered", &Value::from("good"), &Value::from("poor"))
    );

    // The officer's lists heard the level (the booking is named, the figures are there).
    read_events_until(&mut stream, &mut seen, "event: link").await;
    read_events_until(&mut stream, &mut seen, "\"level\":\"poor\"").await;
    assert!(
        seen.contains(&id) && seen.contains("\"booking_id\""),
        "{seen}"
    );

    // A page opened now (a reload mid-call) starts with the live state: the citizen's presence
    // and the latest link level, before `ready`, without waiting for the next change.
    let (_stream, first) = officer_events(&w.app, &w.officer).await;
    let before_ready = &first[..first.find("event: ready").unwrap()];
    let links: Vec<&str> = before_ready
        .lines()
        .filter(|l| l.starts_with("data:") && l.contains("\"type\":\"link\""))
        .collect();
    assert_eq!(links.len(), 1, "one level per party: {before_ready}");
    assert!(
        links[0].contains("\"level\":\"good\"") && links[0].contains(&id),
        "{before_ready}"
    );
    assert!(before_ready.contains("event: citizen_"), "{before_ready}");
}

/// The link rows of a hearing's record: (step, payload).
async fn link_rows(w: &super::World, id: &str) -> Vec<(String, Value)> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT step, payload FROM hearing_steps WHERE hearing_id = $1 AND step LIKE 'link_%' ORDER BY audit_seq",
    )
    .bind(id)
    .fetch_all(&w.app.state.db.read)
    .await
    .unwrap();
    rows.into_iter()
        .map(|(s, p)| (s, serde_json::from_str(&p).unwrap()))
        .collect()
}

async fn wait_rows(w: &super::World, id: &str, n: usize) -> Vec<(String, Value)> {
    for _ in 0..600 {
        let rows = link_rows(w, id).await;
        if rows.len() >= n {
            return rows;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("fewer than {n} link entries: {:?}", link_rows(w, id).await);
}

/// Sends the citizen's audio only (its video stays announced on: none arrives).
fn audio_only_pump(
    cl: &crate::call::rtc_client::Client,
    media: std::sync::Arc<crate::call::rtc_client::SampleMedia>,
) -> tokio::task::JoinHandle<()> {
    let audio = cl.audio.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_millis(20));
        for a in media.audio.iter().cycle() {
            tick.tick().await;
            let _ = audio
                .write_sample(&webrtc::media::Sample {
                    data: a.clone(),
                    duration: std::time::Duration::from_millis(20),
                    ..Default::default()
                })
                .await;
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_citizen_whose_video_stops_arriving_is_sealed_poor_then_recovered() {
    use std::sync::Arc;
    use std::time::Duration;

    use super::live_call::{live_config, officer_grant};
    use super::{wait_status, ws_join};
    use crate::call::{rtc_client, rtc_over};

    let w = world_with(|c| {
        live_config(c);
        c.call.link.sample_every_s = 1;
    })
    .await;
    let id = w.open().await["id"].as_str().unwrap().to_string();
    let cg: Value = w.join_with_sms_code(&id).await.json().await.unwrap();
    let og = officer_grant(&w, &id).await;
    let (mut c, _cs) = rtc_over(ws_join(&w.app, &cg).await, Role::Citizen).await;
    let (mut o, _os) = rtc_over(ws_join(&w.app, &og).await, Role::Officer).await;
    c.wait_connected(Duration::from_secs(15)).await;
    o.wait_connected(Duration::from_secs(15)).await;
    wait_status(&w, &id, "in_call").await;
    let media = Arc::new(rtc_client::load_sample("video-500k.ivf"));
    let _op = o.pump(media.clone(), Duration::from_secs(90));
    let full = c.pump(media.clone(), Duration::from_secs(90));
    // Both sending: the citizen's link settles out of poor (nothing sealed for that).
    let hub = w.app.state.call.hub.clone();
    let level = || hub.link_level(&id, Role::Citizen);
    for _ in 0..300 {
        if level() == Some(signaling::Level::Good) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(level(), Some(signaling::Level::Good));
    assert!(link_rows(&w, &id).await.is_empty());
    // The citizen's video stops arriving while it is announced on: poor after two samples.
    full.abort();
    let audio = audio_only_pump(&c, media.clone());
    let rows = wait_rows(&w, &id, 1).await;
    let (name, p) = &rows[0];
    assert_eq!(name, "link_poor", "{rows:?}");
    assert_eq!(
        (&p["role"], &p["level"], &p["from"]),
        (&json!("citizen"), &json!("poor"), &json!("good"))
    );
    let kin = p["kbps_in"].as_u64().unwrap();
    assert!(kin > 10 && kin < 150, "audio only arrives: {p}");
    assert_eq!(p["loss_permille"], 0, "nothing lost on loopback: {p}");
    assert!(
        p["rtt_ms"].as_u64().is_some_and(|r| (1..200).contains(&r)),
        "{p}"
    );
    assert!(
        p["kbps_out"].as_u64().unwrap() > 150,
        "the officer's media reaches it: {p}"
    );
    // Video again: recovered three samples later.
    audio.abort();
    let _cp = c.pump(media, Duration::from_secs(60));
    let rows = wait_rows(&w, &id, 2).await;
    let (name, p) = &rows[1];
    assert_eq!(name, "link_recovered", "{rows:?}");
    assert_eq!(p["from"], "poor");
    assert!(p["kbps_in"].as_u64().unwrap() > 150, "{p}");
    eprintln!("sealed: {rows:?}");
}
