//! How a session opens: which transport it tries first, and which next when one cannot
//! open (Node's `tryAllTransports` and `rememberUpgrade`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::protocol::TransportKind;

/// The settings of the opening, and the memory of the last websocket.
#[derive(Debug, Clone, Default)]
pub(crate) struct Opening {
    /// When a transport cannot open, try the next of the list before failing.
    pub try_all_transports: bool,
    /// Go straight to websocket when the last websocket of this configuration worked.
    pub remember_upgrade: bool,
    /// Whether the last websocket of this configuration (its clones included) worked.
    pub memory: UpgradeMemory,
}

/// Whether the last websocket a configuration opened worked: shared by every clone of
/// the configuration (a builder, its client, every session and reconnection started
/// from them), so that what one session learnt, the next one uses. It is per
/// configuration rather than per process (Node keeps one flag per process): two
/// unrelated clients of one program may well talk to different servers.
#[derive(Debug, Clone, Default)]
pub(crate) struct UpgradeMemory(Arc<AtomicBool>);

impl UpgradeMemory {
    pub fn websocket_worked(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    pub fn remember(&self, worked: bool) {
        self.0.store(worked, Ordering::Relaxed);
    }

    /// Whether `other` is this memory (of a clone of the same configuration).
    pub fn is(&self, other: &UpgradeMemory) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Opening {
    /// The transports to try, in order, for a session whose transports are `transports`:
    /// the first only, or all of them with `try_all_transports`; led by websocket when
    /// the last one worked and `remember_upgrade` is on.
    pub fn order(&self, transports: &[TransportKind]) -> Vec<TransportKind> {
        let mut order = Vec::with_capacity(transports.len());
        let remembered = self.remember_upgrade && self.memory.websocket_worked();
        if remembered && transports.contains(&TransportKind::WebSocket) {
            order.push(TransportKind::WebSocket);
        }
        let normal = if self.try_all_transports {
            transports
        } else {
            &transports[..transports.len().min(1)]
        };
        for &kind in normal {
            if !order.contains(&kind) {
                order.push(kind);
            }
        }
        order
    }

    /// Notes how a websocket went, when it is remembered at all.
    pub fn websocket_went(&self, worked: bool) {
        if self.remember_upgrade {
            self.memory.remember(worked);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::TransportKind::{Polling, WebSocket};

    fn opening(try_all: bool, remember: bool, worked: bool) -> Opening {
        let opening = Opening {
            try_all_transports: try_all,
            remember_upgrade: remember,
            memory: UpgradeMemory::default(),
        };
        opening.memory.remember(worked);
        opening
    }

    #[test]
    fn the_first_transport_alone_by_default() {
        assert_eq!(
            opening(false, false, true).order(&[Polling, WebSocket]),
            [Polling]
        );
        assert_eq!(
            opening(false, false, false).order(&[WebSocket, Polling]),
            [WebSocket]
        );
    }

    #[test]
    fn every_transport_in_order_with_try_all() {
        assert_eq!(
            opening(true, false, false).order(&[WebSocket, Polling]),
            [WebSocket, Polling]
        );
    }

    #[test]
    fn a_remembered_websocket_comes_first_then_the_usual_order() {
        assert_eq!(
            opening(false, true, true).order(&[Polling, WebSocket]),
            [WebSocket, Polling]
        );
        assert_eq!(
            opening(true, true, true).order(&[Polling, WebSocket]),
            [WebSocket, Polling]
        );
        // Nothing remembered yet, or websocket not allowed: the usual order.
        assert_eq!(
            opening(false, true, false).order(&[Polling, WebSocket]),
            [Polling]
        );
        assert_eq!(opening(false, true, true).order(&[Polling]), [Polling]);
    }

    #[test]
    fn clones_share_the_memory() {
        let a = opening(false, true, false);
        let b = a.clone();
        a.websocket_went(true);
        assert!(b.memory.websocket_worked());
        // Not remembered when the option is off.
        let off = opening(false, false, false);
        off.websocket_went(true);
        assert!(!off.memory.websocket_worked());
    }
}
