//! The faults the soak plays, in turn, on every connection at once: a cut (every
//! connection reset), a stall (nothing forwarded for longer than the heartbeat deadline,
//! then the stalled connections cut), and a restart (a new server process takes over,
//! the old one is killed with its sessions).

use std::sync::Arc;
use std::time::Duration;

use crate::common::BenchResult;
use crate::fault_proxy::FaultProxy;
use crate::server::{ServeOptions, ServerGuard};

use super::ledger::Ledger;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    Cut,
    Stall,
    Restart,
}

impl Fault {
    pub const ALL: [Fault; 3] = [Fault::Cut, Fault::Stall, Fault::Restart];

    pub fn parse(name: &str) -> BenchResult<Fault> {
        Fault::ALL
            .into_iter()
            .find(|fault| fault.name() == name.trim())
            .ok_or_else(|| format!("unknown fault {name:?} (cut, stall or restart)"))
    }

    pub fn name(self) -> &'static str {
        match self {
            Fault::Cut => "cut",
            Fault::Stall => "stall",
            Fault::Restart => "restart",
        }
    }
}

/// The echo server behind the proxy, replaced on a restart.
pub struct Backend {
    options: ServeOptions,
    ledger: Arc<Ledger>,
    server: ServerGuard,
}

impl Backend {
    pub fn start(options: ServeOptions, ledger: Arc<Ledger>) -> BenchResult<Backend> {
        let server = Self::spawn(&options, &ledger)?;
        Ok(Backend {
            options,
            ledger,
            server,
        })
    }

    fn spawn(options: &ServeOptions, ledger: &Arc<Ledger>) -> BenchResult<ServerGuard> {
        let ledger = ledger.clone();
        ServerGuard::start_with(
            options,
            Some(Box::new(move |line| ledger.server_line(line))),
        )
    }

    pub fn port(&self) -> u16 {
        self.server.port
    }

    /// Plays `fault` through `proxy`; `stall_for` is how long a stall lasts.
    pub fn play(
        &mut self,
        fault: Fault,
        proxy: &FaultProxy,
        stall_for: Duration,
    ) -> BenchResult<()> {
        match fault {
            Fault::Cut => proxy.cut(),
            Fault::Stall => {
                proxy.stall();
                std::thread::sleep(stall_for);
                // The sessions gave up on these connections; what they held is gone.
                proxy.cut();
                proxy.resume();
            }
            Fault::Restart => {
                let next = Self::spawn(&self.options, &self.ledger)?;
                proxy.retarget(next.port);
                // Dropping the old guard kills the old server, by its PID.
                self.server = next;
                proxy.cut();
            }
        }
        Ok(())
    }
}
