//! Link quality kept with the hearing (issue 14 §2): the hub's reports reach the server's
//! recorder, a change into poor is a `link_poor` entry of the record with the figures, the
//! change out of it `link_recovered`, changes between good and fair are not sealed, and the
//! officer's lists hear a `link` event. (The reports themselves, from real peers, are tested in
//! `signaling/tests/rtc_link.rs`; the officer's panel in `tests/e2e`.)

use serde_json::Value;
use signaling::{Level, LinkRecorder, LinkReport, LinkSample, Role};

use super::signalling::both_in_call;
use super::{read_events_until, world_with};

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
    let w = world_with(|c| {
        c.hearing.presence_poll_ms = 50;
        c.call.media_enabled = false;
    })
    .await;
    let (id, _c, _o, _) = both_in_call(&w).await;
    let resp = w
        .app
        .client
        .get(w.app.url("/api/v1/officer/events"))
        .bearer_auth(&w.officer)
        .send()
        .await
        .unwrap();
    let mut stream = resp.bytes_stream();
    let mut seen = String::new();
    read_events_until(&mut stream, &mut seen, "event: ready").await;

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
}
