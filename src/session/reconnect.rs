//! Reconnection: when a lost connection is replaced, after how long, and what the
//! policy's hook changes first. The actor stops after a loss; its `Supervisor` restarts
//! it, and `started` schedules the next attempt.

use std::rc::Rc;
use std::sync::Arc;

use actix::{ActorContext, AsyncContext, Context};

use super::{session_log, Phase, Session};
use crate::config::{random_fraction, ReconnectAttempt};
use crate::error::ConnectError;
use crate::event::Reconnecting;
use crate::protocol::{DisconnectReason, ProtocolError, SendError, TransportError};
use crate::transport::http::Http;

impl Session {
    /// Whether a session that ended for `reason` is opened again.
    pub(super) fn reconnects_after(&self, reason: &DisconnectReason) -> bool {
        let Some(policy) = &self.http.config().reconnect else {
            return false;
        };
        let lost = match reason {
            DisconnectReason::ClientDisconnect => false,
            DisconnectReason::ServerDisconnect => policy.after_server_disconnect,
            DisconnectReason::TransportError(error) if meets_the_same_server(error) => false,
            _ => true,
        };
        lost && policy.allows(1)
    }

    /// The connection was lost and a new one follows: what it never wrote waits for
    /// the next one, or comes back; then the actor restarts for attempt 1.
    pub(super) fn lost(&mut self, ctx: &mut Context<Self>) {
        let hold = self
            .http
            .config()
            .reconnect
            .as_ref()
            .is_some_and(|policy| policy.hold_messages);
        let undelivered = std::mem::take(&mut self.undelivered);
        if hold {
            self.queue.borrow_mut().push_front_all(undelivered);
        } else {
            let unattended = self.queue.borrow_mut().refuse_all(&SendError::Reconnecting);
            self.undelivered = undelivered;
            self.undelivered.extend(unattended);
            self.undelivered
                .extend(self.outlet.refuse_and_take(SendError::Reconnecting));
            self.give_back_undelivered(ctx);
        }
        self.attempt = 1;
        self.restart(ctx);
    }

    /// Stops the actor so that its supervisor starts it again, for the next attempt.
    fn restart(&mut self, ctx: &mut Context<Self>) {
        self.phase = Phase::Waiting(None);
        self.publish_refusal();
        ctx.stop();
    }

    /// Announces the next attempt and starts it once its delay has passed.
    pub(super) fn schedule_attempt(&mut self, ctx: &mut Context<Self>) {
        let Some(policy) = &self.http.config().reconnect else {
            return;
        };
        let delay = policy.delay(self.attempt, random_fraction());
        let attempt = self.attempt;
        self.publish_reconnecting(Reconnecting { attempt, delay }, ctx);
        let timer = ctx.run_later(delay, |act, ctx| act.try_again(ctx));
        self.phase = Phase::Waiting(Some(timer));
    }

    /// The delay has passed: the hook may change the request, or stop; then the
    /// handshake.
    fn try_again(&mut self, ctx: &mut Context<Self>) {
        let hook = self
            .http
            .config()
            .reconnect
            .as_ref()
            .and_then(|policy| policy.hook.clone());
        if let Some(hook) = hook {
            let mut attempt = ReconnectAttempt::new(self.attempt);
            hook(&mut attempt);
            if attempt.give_up {
                return self.end(DisconnectReason::ClientDisconnect, true, ctx);
            }
            self.apply(attempt);
        }
        self.handshake(ctx);
    }

    /// Puts the hook's headers and query into the session's settings.
    fn apply(&mut self, attempt: ReconnectAttempt) {
        if let Some(error) = &attempt.error {
            session_log!(self, warn, "engine.io reconnection hook: {error}");
        }
        if attempt.headers.is_empty() && attempt.query.is_empty() {
            return;
        }
        let mut config = self.http.config().clone();
        for (name, value) in attempt.headers {
            config.headers.retain(|(n, _)| *n != name);
            config.headers.push((name, value));
        }
        for (key, value) in attempt.query {
            config.query.retain(|(k, _)| *k != key);
            config.query.push((key, value));
        }
        match Http::new(
            &self.url,
            Arc::new(config),
            self.http_client.as_deref().cloned(),
        ) {
            Ok(http) => {
                let http = http.with_cookies_of(&self.http);
                self.http = Rc::new(http);
            }
            Err(error) => session_log!(self, warn, "engine.io reconnection hook: {error}"),
        }
    }

    /// A handshake failed: the first `connect` fails, unless retried; a retry is tried
    /// again while the policy allows; after the last, the session ends for good.
    pub(super) fn attempt_failed(&mut self, error: TransportError, ctx: &mut Context<Self>) {
        let policy = self.http.config().reconnect.clone();
        let retries = !meets_the_same_server(&error)
            && policy
                .as_ref()
                .is_some_and(|policy| self.attempt > 0 || policy.retry_first_connect);
        if !retries {
            self.reply(Err(ConnectError::Transport(error.clone())), ctx);
            return self.end(DisconnectReason::TransportError(error), false, ctx);
        }
        self.attempt += 1;
        if policy.is_some_and(|policy| policy.allows(self.attempt)) {
            return self.restart(ctx);
        }
        let attempts = self.attempt - 1;
        if self.connecting.is_some() {
            // No session ever opened: `connect` fails with the last error.
            self.reply(Err(ConnectError::Transport(error.clone())), ctx);
            return self.end(DisconnectReason::TransportError(error), false, ctx);
        }
        let reason = DisconnectReason::ReconnectFailed {
            attempts,
            last: error,
        };
        self.end(reason, true, ctx);
    }
}

/// Whether the next connection would fail as this one did, whatever the delay: the server
/// speaks Engine.IO v3 only and the session v4. No use retrying.
fn meets_the_same_server(error: &TransportError) -> bool {
    matches!(
        error,
        TransportError::Protocol(ProtocolError::ServerSpeaksV3(_))
    )
}
