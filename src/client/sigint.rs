//! Ctrl-C for the blocking client (python-engineio's `handle_sigint`): SIGINT
//! disconnects every client built with it, cleanly, then the program's own handling
//! of SIGINT goes on (the default ends the process, as if this were not here).
//!
//! The signal handler itself only writes a byte to a pipe (all a signal handler may
//! safely do); a watcher thread reads it, disconnects the clients, puts the previous
//! disposition back, raises SIGINT again, and then takes the signal back.

use std::sync::{Arc, Mutex, OnceLock, Weak};

use tokio::sync::watch;

use super::dispatch::Flavor;
use super::park::block_on;
use super::{lock, Core};

/// A client that SIGINT disconnects.
trait Interruptible: Send + Sync {
    /// Disconnects, returning once the server has the close and the handlers have
    /// run for every event of the session.
    fn interrupt(&self);
}

impl<F: Flavor> Interruptible for Core<F> {
    fn interrupt(&self) {
        block_on(async {
            self.disconnect(false).await;
            self.wait_handled().await;
        });
    }
}

/// Whether a SIGINT is being handled: from the first disconnect until the program's
/// own disposition has run.
fn interrupting() -> &'static watch::Sender<bool> {
    static INTERRUPTING: OnceLock<watch::Sender<bool>> = OnceLock::new();
    INTERRUPTING.get_or_init(|| watch::channel(false).0)
}

/// Returns once no SIGINT is being handled. A client's `wait` waits for this too, so
/// that a program whose session Ctrl-C ended meets the program's own handling of the
/// signal (by default: the end of the process) before `wait` returns.
pub(crate) async fn settled() {
    let mut interrupting = interrupting().subscribe();
    let _ = interrupting.wait_for(|busy| !busy).await;
}

/// The clients to disconnect on SIGINT.
static CLIENTS: Mutex<Vec<Weak<dyn Interruptible>>> = Mutex::new(Vec::new());

/// Disconnects `core` on SIGINT, installing the handler the first time.
pub(crate) fn watch<F: Flavor>(core: &Arc<Core<F>>) {
    let weak: Weak<dyn Interruptible> = Arc::downgrade(core) as Weak<Core<F>>;
    let mut clients = lock(&CLIENTS);
    clients.retain(|client| client.strong_count() > 0);
    clients.push(weak);
    drop(clients);
    imp::install();
}

/// Disconnects every client still alive, each returning once its server has the close.
fn disconnect_all() {
    let clients: Vec<_> = lock(&CLIENTS).iter().filter_map(Weak::upgrade).collect();
    for client in clients {
        client.interrupt();
    }
}

#[cfg(unix)]
mod imp {
    use std::io::Read;
    use std::os::fd::FromRawFd;
    use std::sync::atomic::{AtomicI32, Ordering};
    use std::sync::Once;

    /// The write end of the pipe, for the signal handler.
    static PIPE: AtomicI32 = AtomicI32::new(-1);

    extern "C" fn on_sigint(_: libc::c_int) {
        let byte = 1u8;
        // SAFETY: write(2) is async-signal-safe; a failed write only loses this Ctrl-C.
        unsafe {
            libc::write(PIPE.load(Ordering::Relaxed), (&byte as *const u8).cast(), 1);
        }
    }

    pub(super) fn install() {
        static INSTALLED: Once = Once::new();
        INSTALLED.call_once(|| {
            if let Err(error) = try_install() {
                log::error!("engine.io: cannot handle SIGINT: {error}");
            }
        });
    }

    fn try_install() -> std::io::Result<()> {
        let mut fds = [0; 2];
        // SAFETY: pipe(2) fills the two descriptors it is given.
        if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        PIPE.store(fds[1], Ordering::Relaxed);
        // SAFETY: the read end is ours alone from here on.
        let reader = unsafe { std::fs::File::from_raw_fd(fds[0]) };
        let previous = take_sigint()?;
        std::thread::Builder::new()
            .name("engineio-sigint".into())
            .spawn(move || watch(reader, previous))?;
        Ok(())
    }

    /// Points SIGINT at `on_sigint`; returns what it was.
    fn take_sigint() -> std::io::Result<libc::sigaction> {
        // SAFETY: zeroed sigaction structs are valid; sigaction(2) reads the new one
        // and fills the old one.
        unsafe {
            let mut ours: libc::sigaction = std::mem::zeroed();
            ours.sa_sigaction = on_sigint as extern "C" fn(libc::c_int) as usize;
            libc::sigemptyset(&mut ours.sa_mask);
            ours.sa_flags = libc::SA_RESTART;
            let mut previous: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(libc::SIGINT, &ours, &mut previous) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(previous)
        }
    }

    fn watch(mut reader: std::fs::File, previous: libc::sigaction) {
        let mut byte = [0u8; 1];
        while matches!(reader.read(&mut byte), Ok(1)) {
            super::interrupting().send_replace(true);
            super::disconnect_all();
            // SAFETY: puts back the disposition the program had, raises SIGINT for it
            // (the default ends the process here), then takes SIGINT back.
            unsafe {
                libc::sigaction(libc::SIGINT, &previous, std::ptr::null_mut());
                libc::raise(libc::SIGINT);
            }
            let taken = take_sigint();
            super::interrupting().send_replace(false);
            if taken.is_err() {
                return;
            }
        }
    }
}

#[cfg(not(unix))]
mod imp {
    /// SIGINT handling is for Unix only; elsewhere Ctrl-C does what it always does.
    pub(super) fn install() {}
}
