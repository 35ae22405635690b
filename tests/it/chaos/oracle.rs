//! The judgement of one chaos session: what the client delivered against what the
//! server wrote, how the session ended against what the server gave it to end on, what
//! the server received against what the user sent, and the answers the user got.

use std::time::Duration;

use actix_engineio::{
    ConnectError, DisconnectReason, Payload, SendError, TransportError, TransportKind, Upgrade,
};

use super::driver::{Answer, Ev, How, Run};
use crate::support::chaos::{wire_sizes, Cause, Class, Ledger};
use crate::support::client::describe;

/// How a ping timeout may come early: the client must have had this long to read the
/// ping that re-armed its deadline.
const PING_READ_ALLOWANCE: Duration = Duration::from_millis(1000);

/// What one session came to.
pub struct Verdict {
    /// The outcome, for the summary: how the session ended.
    pub outcome: String,
    pub failures: Vec<String>,
    pub delivered: usize,
    pub upgrade: Option<bool>,
    /// Known deviations of the library this session showed (ids of `KNOWN_DEVIATIONS`).
    pub known: Vec<&'static str>,
}

/// A short name for an end reason.
fn outcome(reason: &DisconnectReason) -> String {
    match reason {
        DisconnectReason::TransportError(cause) => format!(
            "transport error: {}",
            match cause {
                TransportError::Connect(_) => "connect".into(),
                TransportError::ConnectionLost(_) => "connection lost".into(),
                TransportError::Timeout => "timeout".into(),
                TransportError::Http { status, .. } => format!("http {status}"),
                TransportError::Protocol(_) => "protocol".into(),
                TransportError::FrameTooLarge { .. } => "frame too large".into(),
                TransportError::BodyTooLarge { .. } => "body too large".into(),
                TransportError::WebSocketClosed { code, .. } => format!("websocket closed {code}"),
                TransportError::WebSocket(_) => "websocket".into(),
                other => format!("{other:?}"),
            }
        ),
        other => other.to_string(),
    }
}

pub fn judge(run: &Run, ledger: &Ledger) -> Verdict {
    let plan = &run.plan;
    let events = run.events.all();
    let mut failures = Vec::new();
    let mut fail = |what: String| failures.push(what);
    for violation in &ledger.violations {
        fail(format!(
            "protocol violation seen by the server: {violation}"
        ));
    }
    if let Some(hang) = &run.hang {
        fail(format!("hang: {hang}"));
    }
    if let Err(error) = &run.connect {
        let timeout = matches!(error, ConnectError::Transport(TransportError::Timeout));
        if plan.expect_connect && !timeout {
            fail(format!(
                "connect() failed ({error}) though the handshake is valid"
            ));
        }
        if !events.is_empty() {
            fail(format!(
                "events from a session that never opened: {events:?}"
            ));
        }
        let outcome = match (plan.expect_connect, timeout) {
            (true, true) => "connect timed out (tolerated)",
            _ => "connect refused",
        };
        return Verdict {
            outcome: outcome.into(),
            failures,
            delivered: 0,
            upgrade: None,
            known: ledger.known.clone(),
        };
    }
    if !plan.expect_connect {
        fail(format!(
            "connected though the handshake must fail ({:?}, {:.100})",
            plan.delivery, plan.open_json
        ));
    }
    // The order of events: Connect first, one Disconnect, nothing but Undelivered after.
    match events.first() {
        Some((_, Ev::Connect(connect))) => {
            let opens_on = plan.mode.opens_on();
            if connect.sid != plan.sid || connect.transport != opens_on || connect.attempt != 0 {
                fail(format!(
                    "Connect {connect:?}, expected sid {:?} over {opens_on}",
                    plan.sid
                ));
            }
        }
        other => fail(format!("the first event is {other:?}, not Connect")),
    }
    let count = |pred: fn(&Ev) -> bool| events.iter().filter(|(_, e)| pred(e)).count();
    let connects = count(|e| matches!(e, Ev::Connect(_)));
    let disconnects = count(|e| matches!(e, Ev::Disconnect(_)));
    let upgrades = count(|e| matches!(e, Ev::Upgrade(_)));
    if connects != 1 || (disconnects != 1 && run.hang.is_none()) || upgrades > 1 {
        fail(format!(
            "{connects} Connect, {disconnects} Disconnect, {upgrades} Upgrade events"
        ));
    }
    if let Some(end) = events
        .iter()
        .position(|(_, e)| matches!(e, Ev::Disconnect(_)))
    {
        if let Some((_, late)) = events[end + 1..]
            .iter()
            .find(|(_, e)| !matches!(e, Ev::Undelivered(_)))
        {
            fail(format!("{late:?} after Disconnect"));
        }
    }
    let upgrade = events.iter().find_map(|(_, e)| match e {
        Ev::Upgrade(Upgrade::Completed(TransportKind::WebSocket)) => Some(true),
        Ev::Upgrade(Upgrade::Failed(_)) => Some(false),
        Ev::Upgrade(other) => Some(other == &Upgrade::Completed(TransportKind::Polling)),
        _ => None,
    });
    if upgrade.is_some() && !plan.upgrade_offered {
        fail("an Upgrade event though no upgrade was on offer".into());
    }
    if ledger.upgraded && upgrade != Some(true) {
        fail(format!(
            "the server got 5, but the client's upgrade event is {upgrade:?}"
        ));
    }
    let delivered: Vec<Payload> = events
        .iter()
        .filter_map(|(_, e)| match e {
            Ev::Message(payload) => Some(payload.clone()),
            _ => None,
        })
        .collect();
    if let Some(failure) = check_delivery(&delivered, ledger) {
        fail(failure);
    }
    let mut known = ledger.known.clone();
    if delivered.iter().any(|d| ledger.truncated.contains(d)) {
        known.push("K2");
    }
    let disconnect = run.events.disconnect();
    let user = run.user.borrow();
    if let Some((at, reason)) = &disconnect {
        if let Some(failure) = justify(reason, ledger, user.close_at.is_some()) {
            fail(failure);
        }
        if *reason == DisconnectReason::PingTimeout {
            let deadline = plan.heartbeat();
            if let Some(ping) = ledger
                .live_pings
                .iter()
                .rev()
                .find(|p| **p + PING_READ_ALLOWANCE < *at)
            {
                if *at < *ping + deadline.saturating_sub(Duration::from_millis(20)) {
                    fail(format!(
                        "ping timeout {:?} after a ping that allowed {deadline:?}",
                        *at - *ping
                    ));
                }
            }
        }
    }
    // The user's answers, and what reached the server.
    let max_payload = usize::try_from(plan.max_payload).unwrap_or(usize::MAX);
    for (i, sent) in user.sent.iter().enumerate() {
        let (polling, websocket) = wire_sizes(&sent.payload);
        let what = format!("message {i} ({})", describe(&sent.payload));
        match &sent.answer {
            None if run.hang.is_none() => fail(format!("{what}: never answered")),
            None | Some(Answer::Gone) => {}
            Some(Answer::Ok) if polling.min(websocket) > max_payload => {
                fail(format!("{what}: accepted above maxPayload {max_payload}"))
            }
            Some(Answer::Ok) => {}
            Some(Answer::Refused(SendError::TooLarge {
                size,
                max_payload: max,
            })) => {
                if *max != max_payload || *size <= *max || (*size != polling && *size != websocket)
                {
                    fail(format!("{what}: refused as TooLarge {size} > {max}"));
                }
            }
            Some(Answer::Refused(SendError::RecordSeparator)) => {
                if !sent.payload.as_text().is_some_and(|t| t.contains('\x1e')) {
                    fail(format!("{what}: refused for a record separator it lacks"));
                }
            }
            Some(Answer::Refused(SendError::Full)) if sent.how == How::Try => {}
            Some(Answer::Refused(SendError::Closed | SendError::NotConnected)) => {}
            Some(Answer::Refused(other)) => fail(format!("{what}: refused with {other:?}")),
        }
    }
    if user.close_at.is_some() && user.close_answered.is_none() && run.hang.is_none() {
        fail("Close (or Abort) never answered".into());
    }
    let accepted: Vec<&Payload> = user
        .sent
        .iter()
        .filter(|s| s.answer == Some(Answer::Ok))
        .map(|s| &s.payload)
        .collect();
    let received: Vec<&Payload> = ledger.received.iter().collect();
    if let Some(failure) = check_received(&received, &accepted, ledger.extra_responses) {
        fail(failure);
    }
    for (_, event) in &events {
        if let Ev::Undelivered(lost) = event {
            for payload in lost {
                if ledger.received.contains(payload) {
                    fail(format!(
                        "{} given back as undelivered, yet received",
                        describe(payload)
                    ));
                }
                if !accepted.contains(&payload) {
                    fail(format!(
                        "{} given back as undelivered, yet never accepted",
                        describe(payload)
                    ));
                }
            }
        }
    }
    Verdict {
        outcome: match (&run.hang, &disconnect) {
            (Some(_), _) => "hang".into(),
            (None, Some((_, reason))) => outcome(reason),
            (None, None) => "no disconnect".into(),
        },
        failures,
        delivered: delivered.len(),
        upgrade,
        known,
    }
}

/// Delivered messages against the ledger: `Ordered` ones in order and none skipped (a
/// tail may be missing), `Loose` ones at most once, nothing else.
fn check_delivery(delivered: &[Payload], ledger: &Ledger) -> Option<String> {
    let ordered: Vec<usize> = (0..ledger.sent.len())
        .filter(|i| ledger.sent[*i].class == Class::Ordered)
        .collect();
    let mut next = 0;
    let mut loose_used = vec![false; ledger.sent.len()];
    for (n, payload) in delivered.iter().enumerate() {
        let what = || format!("delivered message #{n} ({})", describe(payload));
        if ordered
            .get(next)
            .is_some_and(|i| ledger.sent[*i].payload == *payload)
        {
            next += 1;
            continue;
        }
        let loose = (0..ledger.sent.len()).find(|i| {
            ledger.sent[*i].class == Class::Loose
                && !loose_used[*i]
                && ledger.sent[*i].payload == *payload
        });
        if let Some(i) = loose {
            loose_used[i] = true;
            continue;
        }
        if let Some(skip) = ordered[next.min(ordered.len())..]
            .iter()
            .position(|i| ledger.sent[*i].payload == *payload)
        {
            let lost = &ledger.sent[ordered[next]];
            return Some(format!(
                "{}: the {skip} message(s) sent before it were never delivered, the first {} ({})",
                what(),
                describe(&lost.payload),
                lost.via
            ));
        }
        if let Some(sent) = ledger.sent.iter().find(|s| s.payload == *payload) {
            return Some(match sent.class {
                Class::Forbidden => format!("{}: it must not be delivered ({})", what(), sent.via),
                _ => format!("{}: delivered twice or out of order ({})", what(), sent.via),
            });
        }
        return Some(format!("{}: the server never sent it", what()));
    }
    None
}

/// What the server received against what the user's sends were accepted: the same
/// messages in the same order, a tail missing at most (when a second response may have
/// been taken for a POST's answer, its POST may be lost: then in order only).
fn check_received(received: &[&Payload], accepted: &[&Payload], loose: bool) -> Option<String> {
    let mut at = 0;
    for (n, payload) in received.iter().enumerate() {
        match accepted[at.min(accepted.len())..].iter().position(|a| a == payload) {
            Some(0) => at += 1,
            Some(skip) if loose => at += skip + 1,
            Some(skip) => {
                return Some(format!(
                    "the server received {} (#{n}) but not the {skip} accepted before it",
                    describe(payload)
                ))
            }
            None => {
                return Some(format!(
                    "the server received {} (#{n}), not accepted then (refused, duplicated or out of order)",
                    describe(payload)
                ))
            }
        }
    }
    None
}

/// Whether the server gave the client a reason to end as it did.
fn justify(reason: &DisconnectReason, ledger: &Ledger, user_closed: bool) -> Option<String> {
    let has = |cause: Cause| ledger.causes.contains(&cause);
    let justified = match reason {
        DisconnectReason::ClientDisconnect => user_closed,
        DisconnectReason::ServerDisconnect => has(Cause::Close),
        DisconnectReason::PingTimeout => true,
        DisconnectReason::TransportError(cause) => match cause {
            TransportError::Http { status, .. } => has(Cause::Status(*status)),
            TransportError::Protocol(_) => has(Cause::Malformed),
            TransportError::FrameTooLarge { .. } => has(Cause::FrameTooLarge),
            TransportError::BodyTooLarge { .. } => has(Cause::BodyTooLarge),
            TransportError::WebSocketClosed { code, .. } => has(Cause::CloseCode(*code)),
            TransportError::WebSocket(_) => has(Cause::BadFrame),
            // awc reports a frame with reserved bits set as an I/O error.
            TransportError::ConnectionLost(_) => has(Cause::Lost) || has(Cause::BadFrame),
            TransportError::Timeout => true,
            _ => false,
        },
        _ => false,
    };
    (!justified).then(|| {
        format!(
            "ended with {reason:?} ({}), which nothing the server did explains (it gave {:?})",
            reason.detail().unwrap_or_default(),
            ledger.causes
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::support::chaos::Sent;

    fn ledger(sent: &[(&str, Class)]) -> Ledger {
        let mut ledger = Ledger::new();
        for (text, class) in sent {
            ledger.sent.push(Sent {
                payload: Payload::from(*text),
                class: *class,
                via: "test",
            });
        }
        ledger
    }

    fn texts(texts: &[&str]) -> Vec<Payload> {
        texts.iter().map(|t| Payload::from(*t)).collect()
    }

    #[test]
    fn deliveries_must_be_an_ordered_prefix_with_loose_ones_anywhere_once() {
        use Class::*;
        let sent = ledger(&[
            ("a", Ordered),
            ("x", Loose),
            ("b", Ordered),
            ("f", Forbidden),
            ("c", Ordered),
        ]);
        for ok in [
            &[][..],
            &["a"],
            &["a", "b"],
            &["x", "a", "b", "c"],
            &["a", "b", "x", "c"],
        ] {
            assert_eq!(check_delivery(&texts(ok), &sent), None, "{ok:?}");
        }
        let fails = [
            (&["a", "c"][..], "never delivered"),
            (&["b"], "never delivered"),
            (&["a", "a"], "twice or out of order"),
            (&["a", "x", "x"], "twice or out of order"),
            (&["a", "f"], "must not be delivered"),
            (&["z"], "never sent"),
        ];
        for (delivered, why) in fails {
            let failure = check_delivery(&texts(delivered), &sent).unwrap_or_default();
            assert!(failure.contains(why), "{delivered:?}: {failure}");
        }
    }

    #[test]
    fn the_server_must_receive_the_accepted_messages_in_order() {
        let accepted = texts(&["a", "b", "c"]);
        let accepted: Vec<&Payload> = accepted.iter().collect();
        let received = |texts: &[Payload]| texts.to_vec();
        for ok in [&[][..], &["a"], &["a", "b", "c"]] {
            let got = received(&texts(ok));
            let got: Vec<&Payload> = got.iter().collect();
            assert_eq!(check_received(&got, &accepted, false), None);
        }
        let skipped = texts(&["a", "c"]);
        let skipped: Vec<&Payload> = skipped.iter().collect();
        assert!(check_received(&skipped, &accepted, false).is_some());
        assert_eq!(check_received(&skipped, &accepted, true), None);
        let twice = texts(&["a", "a"]);
        let twice: Vec<&Payload> = twice.iter().collect();
        assert!(check_received(&twice, &accepted, true).is_some());
    }

    #[test]
    fn end_reasons_need_a_cause() {
        let mut ledger = Ledger::new();
        assert!(justify(&DisconnectReason::ServerDisconnect, &ledger, false).is_some());
        assert!(justify(&DisconnectReason::ClientDisconnect, &ledger, false).is_some());
        assert!(justify(&DisconnectReason::ClientDisconnect, &ledger, true).is_none());
        ledger.cause(Cause::Status(500));
        let http = |status| {
            DisconnectReason::TransportError(TransportError::Http {
                status,
                body: String::new(),
            })
        };
        assert!(justify(&http(500), &ledger, false).is_none());
        assert!(justify(&http(400), &ledger, false).is_some());
    }
}
