//! How a session describes what it does in its trace log: sizes and kinds, never the
//! data itself.

use crate::protocol::{Event, Output};
use crate::transport::TransportEventKind;

/// What an output does.
pub(super) fn describe(output: &Output) -> String {
    match output {
        Output::Transmit(transport, packet) => format!("send {packet} on {transport}"),
        Output::Event(Event::Message(payload)) => format!("deliver message ({} B)", payload.len()),
        other => format!("{other:?}"),
    }
}

/// What a transport reported.
pub(super) fn describe_event(kind: &TransportEventKind) -> String {
    match kind {
        TransportEventKind::Packets(packets) => {
            let list: Vec<String> = packets.iter().map(ToString::to_string).collect();
            format!("received {}", list.join(", "))
        }
        TransportEventKind::Paused => "paused".to_string(),
        TransportEventKind::Written(bytes) => format!("wrote {bytes} B"),
        TransportEventKind::Ended(end) => format!("ended: {end:?}"),
    }
}
