//! What a booking asks of the writer (issue 18 §2): a slot already seen full is refused from a
//! read snapshot, in the documented rule order, while the one SQLite writer is busy; a seat
//! freed since goes on to the writer; the booking's SMS outbox rows are written in its own
//! transaction, so they exist exactly when the booking does.

use remote_hearing::{booking::admin::BrigadeSettings, store::Backend};
use serde_json::{Value, json};

use super::{at, body, book, citizens, my_bookings, phone, remaining};
use crate::helpers::{TestApp, expect_error};

async fn one_seat_brigade(app: &TestApp) -> String {
    remote_hearing::booking::admin::create_brigade(
        &app.state,
        &BrigadeSettings {
            name: Some("一座".into()),
            seats: Some(1),
            weekdays: Some("mon-sun".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap()
}

fn owner_body(brigade: &str, slot: &str, i: usize) -> Value {
    let mut b = body(brigade, slot);
    b["phone"] = json!(phone(i));
    b["owner"] = json!(true);
    b
}

async fn count(app: &TestApp, sql: &str, arg: &str) -> i64 {
    let (n,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(sql.to_string()))
        .bind(arg)
        .fetch_one(&app.state.db.read)
        .await
        .unwrap();
    n
}

#[tokio::test]
async fn a_slot_seen_full_is_refused_from_a_read_in_rule_order_while_the_writer_is_busy() {
    let app = TestApp::spawn().await;
    let brigade = one_seat_brigade(&app).await;
    let people = citizens(&app, 5).await;
    for (token, _) in &people {
        // A first use writes the session's `last_seen_at`: done now, not while the writer is held.
        my_bookings(&app, token).await;
    }
    let (slot, other) = (at(17, 9), at(17, 10));
    let first = book(&app, &people[0].0, owner_body(&brigade, &slot, 0)).await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    // The writer finds the slot full once: this process remembers it.
    expect_error(
        book(&app, &people[1].0, owner_body(&brigade, &slot, 1)).await,
        409,
        "slot_full",
    )
    .await;
    // Citizen 3 holds a booking elsewhere (rule 9 comes before the seat, rule 12).
    assert_eq!(
        book(&app, &people[3].0, owner_body(&brigade, &other, 3))
            .await
            .status(),
        201
    );

    // Hold the write transaction (on SQLite the one writer connection): what is answered now
    // is answered without it, so nothing can have been written.
    let held = app.state.db.begin().await.unwrap();
    expect_error(
        book(&app, &people[2].0, owner_body(&brigade, &slot, 2)).await,
        409,
        "slot_full",
    )
    .await;
    expect_error(
        book(&app, &people[3].0, owner_body(&brigade, &slot, 3)).await,
        409,
        "active_booking_exists",
    )
    .await;
    // Citizen 0's phone is bound: another phone is rule 8, before rule 9 and the seat.
    let mut b = owner_body(&brigade, &slot, 0);
    b["phone"] = json!("13999999999");
    expect_error(
        book(&app, &people[0].0, b).await,
        409,
        "phone_binding_immutable",
    )
    .await;
    held.rollback().await.unwrap();

    // Nothing written for the refused: no booking, no bound phone, no message.
    for (_, id) in &people[1..3] {
        let sql = "SELECT COUNT(*) FROM bookings WHERE citizen_id = $1";
        assert_eq!(count(&app, sql, id).await, 0);
        let sql = "SELECT COUNT(*) FROM citizens WHERE id = $1 AND phone IS NOT NULL";
        assert_eq!(count(&app, sql, id).await, 0);
    }
    for i in 1..3 {
        let sql = "SELECT COUNT(*) FROM sms_outbox WHERE phone = $1";
        assert_eq!(count(&app, sql, &phone(i)).await, 0);
    }
    assert_eq!(remaining(&app, &brigade, &slot).await, 0);

    // A seat freed since the writer saw the slot full goes to the writer and is taken.
    let id = first["id"].as_str().unwrap();
    let r = app
        .delete(&format!("/api/v1/bookings/{id}"), Some(&people[0].0))
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        book(&app, &people[4].0, owner_body(&brigade, &slot, 4))
            .await
            .status(),
        201
    );
    assert_eq!(remaining(&app, &brigade, &slot).await, 0);
    expect_error(
        book(&app, &people[2].0, owner_body(&brigade, &slot, 2)).await,
        409,
        "slot_full",
    )
    .await;
}

/// A trigger that makes every insert into `sms_outbox` fail (a real database error).
async fn break_outbox(app: &TestApp) {
    let db = &app.state.db.write;
    match app.state.db.backend {
        Backend::Sqlite => {
            sqlx::query(
                "CREATE TRIGGER fail_outbox BEFORE INSERT ON sms_outbox \
                 BEGIN SELECT RAISE(ABORT, 'injected outbox failure'); END",
            )
            .execute(db)
            .await
            .unwrap();
        }
        Backend::Postgres => {
            sqlx::query(
                "CREATE FUNCTION fail_outbox() RETURNS trigger LANGUAGE plpgsql AS \
                 $$ BEGIN RAISE EXCEPTION 'injected outbox failure'; END $$",
            )
            .execute(db)
            .await
            .unwrap();
            sqlx::query(
                "CREATE TRIGGER fail_outbox BEFORE INSERT ON sms_outbox \
                 FOR EACH ROW EXECUTE FUNCTION fail_outbox()",
            )
            .execute(db)
            .await
            .unwrap();
        }
    }
}

async fn mend_outbox(app: &TestApp) {
    let sql = match app.state.db.backend {
        Backend::Sqlite => "DROP TRIGGER fail_outbox",
        Backend::Postgres => "DROP TRIGGER fail_outbox ON sms_outbox",
    };
    sqlx::query(sql).execute(&app.state.db.write).await.unwrap();
}

#[tokio::test]
async fn the_outbox_rows_exist_exactly_when_the_booking_does() {
    let app = TestApp::spawn().await;
    let brigade = one_seat_brigade(&app).await;
    let people = citizens(&app, 2).await;
    let slot = at(18, 9);

    // A failing outbox insert fails the booking and rolls all of it back.
    break_outbox(&app).await;
    let r = book(&app, &people[0].0, owner_body(&brigade, &slot, 0)).await;
    assert_eq!(r.status(), 500);
    mend_outbox(&app).await;
    let (citizen, token) = (&people[0].1, &people[0].0);
    let sql = "SELECT COUNT(*) FROM bookings WHERE citizen_id = $1";
    assert_eq!(count(&app, sql, citizen).await, 0);
    let sql = "SELECT COUNT(*) FROM citizens WHERE id = $1 AND phone IS NOT NULL";
    assert_eq!(
        count(&app, sql, citizen).await,
        0,
        "the phone binding rolled back"
    );
    assert_eq!(
        remaining(&app, &brigade, &slot).await,
        1,
        "the seat rolled back"
    );
    let sql = "SELECT COUNT(*) FROM sms_outbox WHERE phone = $1";
    assert_eq!(count(&app, sql, &phone(0)).await, 0);

    // The same booking again: booked, with its confirmation and its reminder.
    let r = book(&app, token, owner_body(&brigade, &slot, 0)).await;
    assert_eq!(r.status(), 201);
    let v: Value = r.json().await.unwrap();
    let id = v["id"].as_str().unwrap();
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT template, next_attempt_at FROM sms_outbox WHERE ref_id = $1 ORDER BY template",
    )
    .bind(id)
    .fetch_all(&app.state.db.read)
    .await
    .unwrap();
    let templates: Vec<&str> = rows.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(templates, ["booking_confirmation", "booking_reminder"]);
    let slot_ms = chrono::DateTime::parse_from_rfc3339(&slot)
        .unwrap()
        .timestamp_millis();
    assert_eq!(rows[1].1, slot_ms - 86_400_000, "the reminder a day before");

    // A refused booking (the slot is full) queues nothing.
    expect_error(
        book(&app, &people[1].0, owner_body(&brigade, &slot, 1)).await,
        409,
        "slot_full",
    )
    .await;
    let sql = "SELECT COUNT(*) FROM sms_outbox WHERE phone = $1";
    assert_eq!(count(&app, sql, &phone(1)).await, 0);
}

/// The writer sends the seat, the phone's binding, the row and its messages in one batch, and
/// still judges in rule order: the seat before the binding, and a refusal leaves nothing.
#[tokio::test]
async fn the_writer_judges_its_one_batch_in_rule_order_and_a_refusal_leaves_nothing() {
    let app = TestApp::spawn().await;
    let brigade = one_seat_brigade(&app).await;
    let people = citizens(&app, 2).await;
    let (full, free) = (at(18, 9), at(18, 10));
    let r = book(&app, &people[0].0, owner_body(&brigade, &full, 0)).await;
    assert_eq!(r.status(), 201);
    // citizen 1 asks for the full seat with citizen 0's phone: in the writer both the seat and
    // the binding fail; the seat is judged first
    expect_error(
        book(&app, &people[1].0, owner_body(&brigade, &full, 0)).await,
        409,
        "slot_full",
    )
    .await;
    // a free seat with that phone: the binding's refusal, the seat given back
    let e = expect_error(
        book(&app, &people[1].0, owner_body(&brigade, &free, 0)).await,
        409,
        "phone_in_use",
    )
    .await;
    assert_eq!(e["error"]["field"], "phone");
    assert_eq!(remaining(&app, &brigade, &free).await, 1);
    let citizen = &people[1].1;
    let sql = "SELECT COUNT(*) FROM bookings WHERE citizen_id = $1";
    assert_eq!(count(&app, sql, citizen).await, 0);
    let sql = "SELECT COUNT(*) FROM citizens WHERE id = $1 AND phone IS NOT NULL";
    assert_eq!(count(&app, sql, citizen).await, 0);
    let sql = "SELECT COUNT(*) FROM sms_outbox WHERE phone = $1";
    assert_eq!(count(&app, sql, &phone(0)).await, 2, "citizen 0's own two");
    // and with its own phone it is booked
    let r = book(&app, &people[1].0, owner_body(&brigade, &free, 1)).await;
    assert_eq!(r.status(), 201);
}
