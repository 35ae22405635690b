//! One [`ClientConfig`] for the sessions that a thread opens one after another with the
//! same settings: `Session::builder(url)…connect()` in a loop builds a new configuration
//! each time, and each session would otherwise keep its own copy (about 700 bytes of
//! heap, several blocks). A configuration never changes once a session has it, so
//! sharing it is invisible; only settings that are equal (hooks and the upgrade memory:
//! the same one) are shared.

use std::cell::RefCell;
use std::sync::{Arc, Weak};

use super::opening::Opening;
use super::{ClientConfig, ReconnectPolicy};

thread_local! {
    /// The configuration of the last session this thread started, while a session
    /// still has it.
    static LAST: RefCell<Weak<ClientConfig>> = const { RefCell::new(Weak::new()) };
}

/// `config`, or the equal configuration of the last session started on this thread if
/// that session (or another that shares it) still runs.
pub(crate) fn shared(config: ClientConfig) -> Arc<ClientConfig> {
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        if let Some(previous) = last.upgrade() {
            if same_settings(&previous, &config) {
                return previous;
            }
        }
        let config = Arc::new(config);
        *last = Arc::downgrade(&config);
        config
    })
}

/// Whether a session behaves the same with `a` as with `b`. Every field is named, so
/// that a new setting cannot be forgotten here.
fn same_settings(a: &ClientConfig, b: &ClientConfig) -> bool {
    let ClientConfig {
        path,
        headers,
        per_transport,
        url_shape,
        opening,
        per_message_deflate,
        query,
        request_timeout,
        max_frame_size,
        max_body_size,
        send_buffer,
        max_packets_per_post,
        transports,
        protocol,
        upgrade,
        timestamp_requests,
        tls,
        proxy,
        logging,
        event_buffer,
        event_buffer_bytes,
        send_queue,
        reconnect,
        error,
    } = a;
    *path == b.path
        && *headers == b.headers
        && per_transport.polling_headers == b.per_transport.polling_headers
        && per_transport.websocket_headers == b.per_transport.websocket_headers
        && per_transport.websocket_protocols == b.per_transport.websocket_protocols
        && *url_shape == b.url_shape
        && same_opening(opening, &b.opening)
        && *per_message_deflate == b.per_message_deflate
        && *query == b.query
        && *request_timeout == b.request_timeout
        && *max_frame_size == b.max_frame_size
        && *max_body_size == b.max_body_size
        && *send_buffer == b.send_buffer
        && *max_packets_per_post == b.max_packets_per_post
        && *transports == b.transports
        && *protocol == b.protocol
        && *upgrade == b.upgrade
        && *timestamp_requests == b.timestamp_requests
        && *tls == b.tls
        && *proxy == b.proxy
        && *logging == b.logging
        && *event_buffer == b.event_buffer
        && *event_buffer_bytes == b.event_buffer_bytes
        && *send_queue == b.send_queue
        && match (reconnect, &b.reconnect) {
            (None, None) => true,
            (Some(a), Some(b)) => same_policy(a, b),
            _ => false,
        }
        && *error == b.error
}

/// The upgrade memory belongs to one configuration and its clones: configurations that
/// remember upgrades share only if it is the same memory. Without `remember_upgrade`
/// the memory is neither read nor written (`Opening::websocket_went`).
fn same_opening(a: &Opening, b: &Opening) -> bool {
    let Opening {
        try_all_transports,
        remember_upgrade,
        memory,
    } = a;
    *try_all_transports == b.try_all_transports
        && *remember_upgrade == b.remember_upgrade
        && (!remember_upgrade || memory.is(&b.memory))
}

/// A hook is the same only if it is the same closure.
fn same_policy(a: &ReconnectPolicy, b: &ReconnectPolicy) -> bool {
    let ReconnectPolicy {
        initial_delay,
        max_delay,
        multiplier,
        randomization,
        max_attempts,
        retry_first_connect,
        after_server_disconnect,
        hold_messages,
        hook,
    } = a;
    *initial_delay == b.initial_delay
        && *max_delay == b.max_delay
        && multiplier.to_bits() == b.multiplier.to_bits()
        && randomization.to_bits() == b.randomization.to_bits()
        && *max_attempts == b.max_attempts
        && *retry_first_connect == b.retry_first_connect
        && *after_server_disconnect == b.after_server_disconnect
        && *hold_messages == b.hold_messages
        && match (hook, &b.hook) {
            (None, None) => true,
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn equal_settings_share_one_configuration_while_a_session_has_it() {
        let first = shared(ClientConfig::default());
        let second = shared(ClientConfig::default());
        assert!(Arc::ptr_eq(&first, &second));
        drop((first, second));
        // Nobody has it any more: it is gone, not kept alive by the cache.
        let weak = LAST.with(|last| last.borrow().clone());
        assert!(weak.upgrade().is_none());
    }

    #[test]
    fn a_different_setting_gets_its_own_configuration() {
        let first = shared(ClientConfig::default());
        let other = ClientConfig {
            request_timeout: Duration::from_secs(1),
            ..ClientConfig::default()
        };
        let second = shared(other);
        assert!(!Arc::ptr_eq(&first, &second));
        assert_eq!(second.request_timeout, Duration::from_secs(1));
    }

    #[test]
    fn configurations_that_remember_upgrades_share_only_their_own_memory() {
        let remembering = || {
            let mut config = ClientConfig::default();
            config.opening.remember_upgrade = true;
            config
        };
        let first = shared(remembering());
        let unrelated = shared(remembering());
        assert!(!Arc::ptr_eq(&first, &unrelated));
        let clone = shared((*unrelated).clone());
        assert!(Arc::ptr_eq(&unrelated, &clone));
    }

    #[test]
    fn reconnection_hooks_are_the_same_only_if_they_are_the_same_closure() {
        let hook: super::super::reconnect::Hook = Arc::new(|_| {});
        let with = |hook: &super::super::reconnect::Hook| ClientConfig {
            reconnect: Some(ReconnectPolicy {
                hook: Some(hook.clone()),
                ..ReconnectPolicy::default()
            }),
            ..ClientConfig::default()
        };
        let first = shared(with(&hook));
        assert!(Arc::ptr_eq(&first, &shared(with(&hook))));
        let other: super::super::reconnect::Hook = Arc::new(|_| {});
        assert!(!Arc::ptr_eq(&first, &shared(with(&other))));
    }
}
