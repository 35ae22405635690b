//! `AsyncClient` and the blocking `Client` against the real peers.
