//! The upgrade from long-polling to websocket (docs/protocol.md section 7), against the three
//! real peers (node `engine.io`, `python-engineio`, `engineioxide`), and against scripted
//! servers for what real servers never do on demand: a refused, broken or wrong probe,
//! and a probe answered so late that a poll is in flight when `3probe` arrives.
//!
//! The files: [`peers`] (the real servers, including one frozen during the probe) and
//! [`scripted`] (probes that fail, a probe answered late, a close during the pause).

mod peers;
mod scripted;

use std::time::Duration;

/// Longer than `PROBE_GRACE` (1 s): a session that would probe has done so by then.
const SETTLE: Duration = Duration::from_millis(1500);
