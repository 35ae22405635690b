//! Where a client's sessions run: on the caller's actix arbiter when there is one,
//! otherwise on one background thread that runs an actix `System` for every client
//! of the process. That thread is started on first use and lives as long as the
//! process; it costs one OS thread and a single-threaded Tokio runtime.

use std::future::Future;
use std::sync::OnceLock;

use actix_rt::{Arbiter, ArbiterHandle, System};
use futures::channel::oneshot;

/// An arbiter that runs a client's actors and tasks.
#[derive(Clone)]
pub(crate) struct Runtime {
    /// `None` when the background thread could not be started.
    arbiter: Option<ArbiterHandle>,
}

/// The runtime has stopped (its actix `System` was stopped): nothing can run on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Gone;

impl Runtime {
    /// The current thread's arbiter inside an actix `System`, else the background one.
    pub fn current_or_background() -> Runtime {
        match Arbiter::try_current() {
            Some(arbiter) => Runtime {
                arbiter: Some(arbiter),
            },
            None => Runtime::background(),
        }
    }

    /// The process-wide background runtime, started on first use.
    pub fn background() -> Runtime {
        static BACKGROUND: OnceLock<Option<ArbiterHandle>> = OnceLock::new();
        let arbiter = BACKGROUND.get_or_init(start_background).clone();
        Runtime { arbiter }
    }

    /// Runs `task` on the runtime's thread (where `!Send` things such as actors and
    /// `awc::Client`s can be made) and gives its result back.
    pub fn run<F, Fut>(&self, task: F) -> impl Future<Output = Result<Fut::Output, Gone>>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future + 'static,
        Fut::Output: Send + 'static,
    {
        let (done, result) = oneshot::channel();
        let spawned = self.spawn(move || async move {
            let _ = done.send(task().await);
        });
        async move {
            spawned?;
            result.await.map_err(|_| Gone)
        }
    }

    /// Starts `task` on the runtime's thread; it runs to its end on its own.
    pub fn spawn<F, Fut>(&self, task: F) -> Result<(), Gone>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = ()> + 'static,
    {
        let arbiter = self.arbiter.as_ref().ok_or(Gone)?;
        let spawned = arbiter.spawn_fn(move || {
            actix_rt::spawn(task());
        });
        spawned.then_some(()).ok_or(Gone)
    }
}

fn start_background() -> Option<ArbiterHandle> {
    let (started, arbiter) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("actix-engineio".into())
        .spawn(move || {
            let system = System::new();
            system.block_on(async move {
                let _ = started.send(Arbiter::current());
                std::future::pending::<()>().await
            });
        })
        .ok()?;
    arbiter.recv().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_background_runtime_runs_tasks_from_any_thread() {
        let runtime = Runtime::background();
        let answer = futures::executor::block_on(runtime.run(|| async { 6 * 7 }));
        assert_eq!(answer, Ok(42));
        let from_thread = std::thread::spawn(move || {
            futures::executor::block_on(
                runtime.run(|| async { std::thread::current().name().map(str::to_owned) }),
            )
        });
        let thread = from_thread.join().unwrap().unwrap();
        assert_eq!(thread.as_deref(), Some("actix-engineio"));
    }
}
