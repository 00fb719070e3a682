//! Unit tests of `machine`.

use super::*;

#[test]
fn table_lists_every_step_once_in_a_chain() {
    let mut last = None;
    for (i, r) in STEP_TABLE.iter().enumerate() {
        assert_eq!(r.after, last, "row {i}");
        assert_eq!(r.step, Step::ALL[i]);
        last = Some(r.step);
    }
    assert_eq!(next_step(Some(Step::Receipt)), None);
    assert_eq!(next_step(None), Some(Step::Identity));
}

#[test]
fn parties() {
    use Step::*;
    for s in [Identity, Inquiry, Notice, Ruling, Service] {
        assert_eq!(s.party(), Party::Officer, "{s:?}");
    }
    for s in [TranscriptAck, NoticeAck, Statement, Confirmation, Receipt] {
        assert_eq!(s.party(), Party::Citizen, "{s:?}");
    }
}

#[test]
fn names_round_trip() {
    for s in Step::ALL {
        assert_eq!(Step::parse(s.as_str()), Some(s));
        assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
    }
    for s in Status::ALL {
        assert_eq!(Status::parse(s.as_str()), Some(s));
        assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
    }
    assert_eq!(Step::parse("nope"), None);
}

#[test]
fn the_full_procedure_is_accepted_in_order() {
    let mut last = None;
    for s in Step::ALL {
        assert_eq!(check_step(Status::InCall, last, s, s.party()), Ok(()));
        last = Some(s);
    }
}

#[test]
fn every_out_of_order_step_is_refused() {
    // For every position in the procedure, every step but the next one is refused.
    let mut positions: Vec<Option<Step>> = vec![None];
    positions.extend(Step::ALL.iter().copied().map(Some));
    for last in positions {
        for s in Step::ALL {
            let r = check_step(Status::Open, last, s, s.party());
            if next_step(last) == Some(s) {
                assert_eq!(r, Ok(()));
            } else {
                assert_eq!(
                    r,
                    Err(Refusal::OutOfOrder {
                        expected: next_step(last)
                    }),
                    "{last:?} then {s:?}"
                );
            }
        }
    }
}

#[test]
fn every_wrong_party_is_refused_first() {
    for s in Step::ALL {
        let other = match s.party() {
            Party::Officer => Party::Citizen,
            Party::Citizen => Party::Officer,
        };
        let last = STEP_TABLE.iter().find(|r| r.step == s).unwrap().after;
        assert_eq!(
            check_step(Status::Open, last, s, other),
            Err(Refusal::WrongParty)
        );
        // Even on a closed hearing the role answer comes first.
        assert_eq!(
            check_step(Status::Completed, last, s, other),
            Err(Refusal::WrongParty)
        );
    }
}

#[test]
fn closed_and_interrupted_hearings_accept_no_step() {
    for st in [
        Status::Completed,
        Status::Referred,
        Status::NoShow,
        Status::Interrupted,
    ] {
        assert_eq!(
            check_step(st, None, Step::Identity, Party::Officer),
            Err(Refusal::NotAccepting(st))
        );
    }
}

#[test]
fn the_citizen_acknowledges_the_transcript_between_inquiry_and_notice() {
    assert_eq!(next_step(Some(Step::Inquiry)), Some(Step::TranscriptAck));
    assert_eq!(next_step(Some(Step::TranscriptAck)), Some(Step::Notice));
    // The officer may not acknowledge for the citizen, nor skip it with the notice.
    assert_eq!(
        check_step(
            Status::InCall,
            Some(Step::Inquiry),
            Step::TranscriptAck,
            Party::Officer
        ),
        Err(Refusal::WrongParty)
    );
    assert_eq!(
        check_step(
            Status::InCall,
            Some(Step::Inquiry),
            Step::Notice,
            Party::Officer
        ),
        Err(Refusal::OutOfOrder {
            expected: Some(Step::TranscriptAck)
        })
    );
    // Before the inquiry there is nothing to acknowledge.
    assert_eq!(
        check_step(
            Status::InCall,
            Some(Step::Identity),
            Step::TranscriptAck,
            Party::Citizen
        ),
        Err(Refusal::OutOfOrder {
            expected: Some(Step::Inquiry)
        })
    );
    assert_eq!(
        check_step(
            Status::Interrupted,
            Some(Step::Inquiry),
            Step::TranscriptAck,
            Party::Citizen
        ),
        Err(Refusal::NotAccepting(Status::Interrupted))
    );
}

#[test]
fn a_correction_request_sends_the_procedure_back_to_the_inquiry() {
    let cursor = cursor_after(Step::TranscriptAck, Effect::Redo);
    assert_eq!(cursor, Some(Step::Identity));
    assert_eq!(next_step(cursor), Some(Step::Inquiry));
    // Only the officer answers it, with a new inquiry; the citizen cannot ack again first.
    assert_eq!(
        check_step(Status::InCall, cursor, Step::Inquiry, Party::Officer),
        Ok(())
    );
    assert_eq!(
        check_step(Status::InCall, cursor, Step::TranscriptAck, Party::Citizen),
        Err(Refusal::OutOfOrder {
            expected: Some(Step::Inquiry)
        })
    );
    assert_eq!(
        check_step(Status::InCall, cursor, Step::Notice, Party::Officer),
        Err(Refusal::OutOfOrder {
            expected: Some(Step::Inquiry)
        })
    );
    // An accepted ack moves on; no other step redoes.
    assert_eq!(
        cursor_after(Step::TranscriptAck, Effect::Continue),
        Some(Step::TranscriptAck)
    );
    for s in Step::ALL.into_iter().filter(|s| *s != Step::TranscriptAck) {
        assert_eq!(redo_target(s), None, "{s:?}");
        assert_eq!(cursor_after(s, Effect::Redo), Some(s));
    }
    assert_eq!(
        status_after(Status::InCall, Effect::Redo),
        Some(Status::InCall)
    );
}

#[test]
fn status_table() {
    assert_eq!(Status::Open.on(Trigger::BothJoined), Some(Status::InCall));
    assert_eq!(
        Status::InCall.on(Trigger::BothGone),
        Some(Status::Interrupted)
    );
    assert_eq!(Status::Interrupted.on(Trigger::Resume), Some(Status::Open));
    assert_eq!(Status::Open.on(Trigger::NoShow), Some(Status::NoShow));
    // A no-show needs a hearing the citizen never joined.
    assert_eq!(Status::InCall.on(Trigger::NoShow), None);
    // Nothing leaves a closed status.
    for st in Status::ALL.into_iter().filter(|s| s.is_closed()) {
        for t in [
            Trigger::BothJoined,
            Trigger::BothGone,
            Trigger::Resume,
            Trigger::NoShow,
            Trigger::Refer,
            Trigger::Complete,
        ] {
            assert_eq!(st.on(t), None, "{st:?} {t:?}");
        }
    }
    // An interrupted hearing only resumes.
    assert_eq!(Status::Interrupted.on(Trigger::Complete), None);
    assert_eq!(Status::Interrupted.on(Trigger::BothJoined), None);
}

#[test]
fn effects() {
    assert_eq!(
        status_after(Status::InCall, Effect::Continue),
        Some(Status::InCall)
    );
    assert_eq!(
        status_after(Status::Open, Effect::Refer(ReferReason::Disputed)),
        Some(Status::Referred)
    );
    assert_eq!(
        status_after(Status::InCall, Effect::Complete),
        Some(Status::Completed)
    );
}
