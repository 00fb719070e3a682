//! The estimate passed back to senders: minimum over receivers, shares, staleness, clamping,
//! pace of the writes, lifting a cap.

use super::*;

use Role::{Citizen, Interpreter, Officer, Supervisor};

/// A sender's video rate above any estimate here: its receivers always limit it.
const BIG: u64 = 100_000_000;

/// `receiver` reports `bps` about `sender`, falling from twice that (an overuse).
fn fall(e: &mut Estimates, receiver: Role, sender: Role, bps: u64, now: u64) {
    e.heard(receiver, sender, bps * 2, now);
    e.heard(receiver, sender, bps, now);
}

/// The defaults without the audio allowance (its own test).
fn limits() -> RembLimits {
    RembLimits {
        audio_bps: 0,
        ..RembLimits::default()
    }
}

#[test]
fn the_audio_allowance_is_added_to_the_video_share() {
    let mut e = Estimates::default();
    let l = RembLimits::default();
    assert_eq!(l.audio_bps, 64_000);
    e.heard(Citizen, Officer, 150_000, 0);
    assert_eq!(e.target(Officer, 0, &l), Some(214_000));
    e.heard(Citizen, Officer, 0, 0);
    assert_eq!(
        e.target(Officer, 0, &l),
        Some(64_000),
        "audio alone, above the floor"
    );
    e.heard(Citizen, Officer, 5_000_000, 0);
    assert_eq!(
        e.target(Officer, 0, &l),
        Some(2_500_000),
        "the ceiling still holds"
    );
}

#[test]
fn a_sender_is_told_the_smallest_estimate_of_its_receivers() {
    let mut e = Estimates::default();
    let l = limits();
    assert_eq!(e.target(Officer, 0, &l), None, "nobody reported");
    fall(&mut e, Citizen, Officer, 300_000, 0);
    e.heard(Supervisor, Officer, 1_000_000, 0);
    assert_eq!(e.target(Officer, 100, &l), Some(300_000));
    assert_eq!(e.due(Officer, 100, BIG, &l), Some(300_000));
    // the citizen's report says nothing about what the citizen itself may send
    assert_eq!(e.target(Citizen, 100, &l), None);
    assert_eq!(e.due(Citizen, 100, BIG, &l), None);
}

#[test]
fn a_receiver_of_two_videos_shares_its_estimate() {
    let mut e = Estimates::default();
    let l = limits();
    e.heard(Citizen, Officer, 600_000, 0);
    e.heard(Citizen, Interpreter, 600_000, 0);
    e.heard(Supervisor, Officer, 2_000_000, 0);
    assert_eq!(e.target(Officer, 0, &l), Some(300_000));
    assert_eq!(e.target(Interpreter, 0, &l), Some(300_000));
    // the interpreter's video goes away: its pair goes stale, the officer gets it all again
    e.heard(Citizen, Officer, 600_000, 2_500);
    e.heard(Supervisor, Officer, 2_000_000, 2_500);
    assert_eq!(e.target(Officer, 3_500, &l), Some(600_000));
    assert_eq!(e.target(Interpreter, 3_500, &l), None);
}

#[test]
fn stale_reports_do_not_count() {
    let mut e = Estimates::default();
    let l = limits();
    e.heard(Citizen, Officer, 200_000, 1_000);
    e.heard(Supervisor, Officer, 900_000, 3_000);
    assert_eq!(
        e.target(Officer, 4_000, &l),
        Some(200_000),
        "3 s old: still fresh"
    );
    assert_eq!(
        e.target(Officer, 4_001, &l),
        Some(900_000),
        "the citizen's went stale"
    );
    assert_eq!(e.target(Officer, 6_001, &l), None);
}

#[test]
fn values_are_clamped() {
    let mut e = Estimates::default();
    let l = limits();
    e.heard(Citizen, Officer, 5_000, 0);
    assert_eq!(e.target(Officer, 0, &l), Some(30_000), "floor");
    e.heard(Citizen, Officer, 50_000_000, 0);
    assert_eq!(e.target(Officer, 0, &l), Some(2_500_000), "ceiling");
}

#[test]
fn writes_are_paced_changes_go_out_at_once_and_values_are_refreshed() {
    let mut e = Estimates::default();
    let l = limits();
    fall(&mut e, Citizen, Officer, 400_000, 0);
    assert_eq!(e.due(Officer, 0, BIG, &l), Some(400_000));
    // a big drop, but within the minimum gap: held back, then written
    e.heard(Citizen, Officer, 200_000, 100);
    assert_eq!(e.due(Officer, 100, BIG, &l), None);
    assert_eq!(e.due(Officer, 499, BIG, &l), None);
    assert_eq!(e.due(Officer, 500, BIG, &l), Some(200_000));
    // a change under 10 %: not written until the refresh
    e.heard(Citizen, Officer, 215_000, 1_000);
    assert_eq!(e.due(Officer, 1_000, BIG, &l), None);
    assert_eq!(e.due(Officer, 2_499, BIG, &l), None);
    e.heard(Citizen, Officer, 215_000, 2_500);
    assert_eq!(
        e.due(Officer, 2_500, BIG, &l),
        Some(215_000),
        "refreshed after 2 s"
    );
    // a rise over 10 % goes out at the next allowed moment
    fall(&mut e, Citizen, Officer, 260_000, 3_000);
    assert_eq!(e.due(Officer, 3_000, BIG, &l), Some(260_000));
}

#[test]
fn a_cap_is_lifted_when_the_receivers_stop_reporting() {
    let mut e = Estimates::default();
    let l = limits();
    fall(&mut e, Citizen, Officer, 150_000, 0);
    assert_eq!(e.due(Officer, 0, BIG, &l), Some(150_000));
    assert_eq!(
        e.due(Officer, 2_000, BIG, &l),
        Some(150_000),
        "refresh while fresh"
    );
    // the report is stale from 3 001: the ceiling is written, repeated, then nothing
    assert_eq!(e.due(Officer, 3_001, BIG, &l), Some(2_500_000));
    assert_eq!(e.due(Officer, 3_600, BIG, &l), None);
    assert_eq!(e.due(Officer, 5_001, BIG, &l), Some(2_500_000));
    assert_eq!(e.due(Officer, 7_001, BIG, &l), Some(2_500_000));
    assert_eq!(e.due(Officer, 9_001, BIG, &l), None);
    assert_eq!(e.due(Officer, 20_000, BIG, &l), None, "forgotten");
    // a new falling report limits it again at once
    fall(&mut e, Citizen, Officer, 150_000, 20_000);
    assert_eq!(e.due(Officer, 20_000, BIG, &l), Some(150_000));
}

#[test]
fn a_real_estimate_right_after_a_lift_goes_out() {
    let mut e = Estimates::default();
    let l = limits();
    fall(&mut e, Citizen, Officer, 150_000, 0);
    assert_eq!(e.due(Officer, 0, BIG, &l), Some(150_000));
    assert_eq!(e.due(Officer, 3_500, BIG, &l), Some(2_500_000));
    e.heard(Citizen, Officer, 2_600_000, 3_900);
    e.heard(Citizen, Officer, 2_400_000, 4_000);
    // within 10 % of the lifted value, but a real estimate replaces the lift at once
    assert_eq!(e.due(Officer, 4_000, BIG, &l), Some(2_400_000));
}

#[test]
fn a_seat_that_leaves_is_forgotten() {
    let mut e = Estimates::default();
    let l = limits();
    e.heard(Citizen, Officer, 100_000, 0);
    e.heard(Supervisor, Officer, 800_000, 0);
    fall(&mut e, Officer, Citizen, 700_000, 0);
    assert_eq!(e.due(Citizen, 0, BIG, &l), Some(700_000));
    e.forget(Citizen);
    assert_eq!(e.target(Officer, 0, &l), Some(800_000));
    assert_eq!(e.target(Citizen, 0, &l), None);
    assert_eq!(
        e.due(Citizen, 0, BIG, &l),
        None,
        "what it was told is gone too"
    );
}

#[test]
fn a_zero_ceiling_passes_nothing_on() {
    let mut e = Estimates::default();
    let l = RembLimits {
        max_bps: 0,
        ..limits()
    };
    e.heard(Citizen, Officer, 100_000, 0);
    assert_eq!(e.due(Officer, 0, BIG, &l), None);
}

#[test]
fn only_a_receiver_that_cannot_take_what_arrives_limits_the_sender() {
    let mut e = Estimates::default();
    let l = limits();
    // the officer reports about as much as the citizen sends: its link is not the limit
    e.heard(Officer, Citizen, 95_000, 0);
    assert_eq!(e.due(Citizen, 0, 100_000, &l), None);
    assert_eq!(
        e.due(Citizen, 500, 0, &l),
        None,
        "rate unknown: still not limited"
    );
    // below 90 % of what arrives, but rising (the receiver's estimate lags behind a sender
    // that ramps up): not limited
    e.heard(Officer, Citizen, 96_000, 600);
    e.heard(Officer, Citizen, 100_000, 700);
    assert_eq!(e.due(Citizen, 700, 150_000, &l), None);
    // it falls (an overuse at the receiver) below 90 % of what arrives: limited to it
    e.heard(Officer, Citizen, 95_000, 900);
    e.heard(Officer, Citizen, 85_000, 1_000);
    assert_eq!(e.due(Citizen, 1_000, 100_000, &l), Some(85_000));
    // the citizen follows; the officer's estimate climbs with what arrives: still limited
    e.heard(Officer, Citizen, 110_000, 2_000);
    assert_eq!(e.due(Citizen, 2_000, 85_000, &l), Some(110_000));
    e.heard(Officer, Citizen, 150_000, 3_000);
    assert_eq!(
        e.due(Citizen, 3_000, 110_000, &l),
        Some(150_000),
        "136 %: still limited"
    );
    // the citizen no longer fills the cap: 140 %, but its receiver's report fell 3 s ago:
    // still limited (a sender that undershoots its cap is no sign of room to spare)
    e.heard(Officer, Citizen, 154_000, 4_000);
    assert_eq!(
        e.due(Citizen, 4_000, 110_000, &l),
        None,
        "within 10 %, before the refresh"
    );
    e.heard(Officer, Citizen, 154_000, 5_000);
    assert_eq!(
        e.due(Citizen, 5_000, 110_000, &l),
        Some(154_000),
        "refreshed: limited"
    );
    // no fall for 20 s and 120 % of what arrives: the cap is lifted
    e.heard(Officer, Citizen, 154_000, 21_000);
    assert_eq!(
        e.due(Citizen, 21_000, 125_000, &l),
        Some(154_000),
        "fell 20 s ago"
    );
    e.heard(Officer, Citizen, 154_000, 21_600);
    assert_eq!(e.due(Citizen, 21_600, 125_000, &l), Some(2_500_000));
    e.heard(Officer, Citizen, 154_000, 22_200);
    assert_eq!(
        e.due(Citizen, 22_200, 125_000, &l),
        None,
        "not limited any more"
    );
}

#[test]
fn the_limit_is_taken_against_the_smallest_share() {
    let mut e = Estimates::default();
    let l = limits();
    e.heard(Supervisor, Officer, 2_000_000, 0);
    assert_eq!(
        e.due(Officer, 0, 480_000, &l),
        None,
        "one receiver with room"
    );
    fall(&mut e, Citizen, Officer, 200_000, 0);
    assert_eq!(
        e.due(Officer, 0, 480_000, &l),
        Some(200_000),
        "the narrow one limits"
    );
}
