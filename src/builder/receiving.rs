//! How much received data may wait for the application before the session stops
//! reading from the server.

use super::Builder;

impl<A> Builder<A> {
    /// How many received events may wait for the application (default
    /// [`DEFAULT_EVENT_BUFFER`](crate::DEFAULT_EVENT_BUFFER), at least 1) before the
    /// session stops reading from the server: the `Message` and `Messages` events in
    /// the mailboxes of actor subscribers that have not handled them yet, or the
    /// events a client keeps for its handlers and its event stream. An application
    /// that falls this far behind holds the server back through the socket instead
    /// of growing memory; a server whose pings then go unread may end the session.
    /// See also [`event_buffer_bytes`](Self::event_buffer_bytes): whichever bound is
    /// reached first stops the reading.
    ///
    /// ```
    /// let client = actix_engineio::AsyncClient::builder().event_buffer(64).build();
    /// ```
    pub fn event_buffer(mut self, events: usize) -> Self {
        self.config.event_buffer = events.max(1);
        self
    }

    /// How many bytes of received messages may wait for the application (default
    /// [`DEFAULT_EVENT_BUFFER_BYTES`](crate::DEFAULT_EVENT_BUFFER_BYTES), 1 MiB)
    /// before the session stops reading from the server, counted as
    /// [`event_buffer`](Self::event_buffer) counts events. A single message larger
    /// than this is still delivered: reading stops after it until it is handled.
    ///
    /// ```
    /// use actix_engineio::Session;
    ///
    /// // Large messages, handled slowly: keep at most 256 KiB of them waiting.
    /// let builder = Session::builder("http://127.0.0.1:3000").event_buffer_bytes(256 * 1024);
    /// assert!(format!("{:?}", builder.client_config()).contains("event_buffer_bytes: 262144"));
    /// ```
    pub fn event_buffer_bytes(mut self, bytes: usize) -> Self {
        self.config.event_buffer_bytes = bytes.max(1);
        self
    }
}
